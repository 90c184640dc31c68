// The Temporal surface of incidentWorkflow (DESIGN.md): the task queue, the signals, Updates and queries by
// name, and the search attributes. The payloads they carry are the contract in src/playbook/contract, which
// the pure core reads without Temporal; this module only binds those shapes to message names.
import { defineSearchAttributeKey } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  AcknowledgeInput,
  ActionResult,
  AddNoteInput,
  ApproveInput,
  EscalateInput,
  IncidentStatus,
  PostExternalStatusInput,
  PostUpdateInput,
  RejectInput,
  ReportLossInput,
  ResolveInput,
  SetSeverityInput,
  TimelineEvent,
} from '../playbook/contract/incident';
import type {
  ApprovalClosed,
  ApprovalDecision,
  ApprovalRequest,
  ProcedureEvent,
} from '../playbook/contract/procedure';

export const TASK_QUEUE = 'incident-response';
export const WORKFLOW_TYPE = 'incidentWorkflow';

// Signals take `unknown`: the payload is validated inside the workflow and a bad one is recorded as
// rejected, never thrown (a throwing signal handler would fail the workflow task).
export const acknowledgeSignal = defineSignal<[unknown]>('acknowledge');
export const resolveSignal = defineSignal<[unknown]>('resolve');
export const postUpdateSignal = defineSignal<[unknown]>('postUpdate');
export const escalateSignal = defineSignal<[unknown]>('escalate');
export const setSeveritySignal = defineSignal<[unknown]>('setSeverity');
export const addNoteSignal = defineSignal<[unknown]>('addNote');
export const approveSignal = defineSignal<[unknown]>('approve');
export const rejectSignal = defineSignal<[unknown]>('reject');
export const reportLossSignal = defineSignal<[unknown]>('reportLoss');
export const alertFiredSignal = defineSignal<[unknown]>('alertFired');
export const alertResolvedSignal = defineSignal<[unknown]>('alertResolved');
export const postExternalStatusSignal = defineSignal<[unknown]>('postExternalStatus');

export const acknowledgeUpdate = defineUpdate<ActionResult, [AcknowledgeInput]>('acknowledge');
export const resolveUpdate = defineUpdate<ActionResult, [ResolveInput]>('resolve');
export const postUpdateUpdate = defineUpdate<ActionResult, [PostUpdateInput]>('postUpdate');
export const escalateUpdate = defineUpdate<ActionResult, [EscalateInput]>('escalate');
export const setSeverityUpdate = defineUpdate<ActionResult, [SetSeverityInput]>('setSeverity');
export const addNoteUpdate = defineUpdate<ActionResult, [AddNoteInput]>('addNote');
export const approveUpdate = defineUpdate<ActionResult, [ApproveInput]>('approve');
export const rejectUpdate = defineUpdate<ActionResult, [RejectInput]>('reject');
export const reportLossUpdate = defineUpdate<ActionResult, [ReportLossInput]>('reportLoss');
export const postExternalStatusUpdate = defineUpdate<ActionResult, [PostExternalStatusInput]>(
  'postExternalStatus',
);

export const statusQuery = defineQuery<IncidentStatus>('status');
export const timelineQuery = defineQuery<TimelineEvent[]>('timeline');

// Search attributes (Keyword), registered on the dev server by scripts/dev-server.ts.
export const IncidentSeverityKey = defineSearchAttributeKey('IncidentSeverity', 'KEYWORD');
export const IncidentStatusKey = defineSearchAttributeKey('IncidentStatus', 'KEYWORD');
export const IncidentKindKey = defineSearchAttributeKey('IncidentKind', 'KEYWORD');
/** A heartbeat monitor's state (waiting | healthy | silent): `workflow list --query "HeartbeatState='silent'"`. */
export const HeartbeatStateKey = defineSearchAttributeKey('HeartbeatState', 'KEYWORD');
export const SEARCH_ATTRIBUTES = {
  IncidentSeverity: 'Keyword',
  IncidentStatus: 'Keyword',
  IncidentKind: 'Keyword',
  HeartbeatState: 'Keyword',
} as const;

// Between incidentWorkflow and its procedure child workflows (3.1-3.4). child -> parent: findings and the
// approval gate's requests and outcomes (the parent validates them: an operator can send these names too).
export const procedureEventSignal = defineSignal<[ProcedureEvent]>('procedureEvent');
export const approvalRequestedSignal = defineSignal<[ApprovalRequest]>('approvalRequested');
/** child -> parent: an approval request timed out unanswered; the parent escalates. */
export const approvalExpiredSignal =
  defineSignal<[{ actionId: string; escalation: number }]>('approvalExpired');
/**
 * child -> parent: the gate closed (decided, pre-approved, or withdrawn): only now is a decision recorded as
 * taken. `too-late`: a decision reached the gate after the request had expired; nothing was done.
 */
export const approvalClosedSignal = defineSignal<[ApprovalClosed]>('approvalClosed');
/** parent -> child: a human decision, already validated by the parent (CONFIRM_RESUME included). */
export const approvalDecisionSignal = defineSignal<[ApprovalDecision]>('approvalDecision');
