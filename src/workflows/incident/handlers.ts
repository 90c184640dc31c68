// The incident's message handlers: each validates (an Update's validator, before anything is written to
// history) and hands its input to the shell, which feeds it to the core. None decides anything itself.
import type { UpdateDefinition } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import { rejectionText, validateAction } from '../../playbook/lifecycle/decide';
import { snapshot } from '../../playbook/lifecycle/state';
import { timelineView } from '../../playbook/lifecycle/view';
import * as defs from '../definitions';
import type { ActionName, ActionResult } from '../../playbook/contract/incident';
import type { IncidentShell } from './shell';

const SIGNALS: Record<ActionName, wf.SignalDefinition<[unknown]>> = {
  acknowledge: defs.acknowledgeSignal,
  resolve: defs.resolveSignal,
  postUpdate: defs.postUpdateSignal,
  escalate: defs.escalateSignal,
  setSeverity: defs.setSeveritySignal,
  addNote: defs.addNoteSignal,
  approve: defs.approveSignal,
  reject: defs.rejectSignal,
  reportLoss: defs.reportLossSignal,
  alertFired: defs.alertFiredSignal,
  alertResolved: defs.alertResolvedSignal,
  postExternalStatus: defs.postExternalStatusSignal,
};
const UPDATES = {
  acknowledge: defs.acknowledgeUpdate,
  resolve: defs.resolveUpdate,
  postUpdate: defs.postUpdateUpdate,
  escalate: defs.escalateUpdate,
  setSeverity: defs.setSeverityUpdate,
  addNote: defs.addNoteUpdate,
  approve: defs.approveUpdate,
  reject: defs.rejectUpdate,
  reportLoss: defs.reportLossUpdate,
  postExternalStatus: defs.postExternalStatusUpdate,
} as const;
const PROCEDURE_SIGNALS = {
  procedureEvent: defs.procedureEventSignal,
  approvalRequested: defs.approvalRequestedSignal,
  approvalExpired: defs.approvalExpiredSignal,
  approvalClosed: defs.approvalClosedSignal,
} as const;

/** What each operator action does, for the Web UI's signal and update pickers. */
const ACTION_DESCRIPTIONS: Record<ActionName, string> = {
  acknowledge: 'Acknowledge the incident ({"by": "<you>"}): stops the re-paging (playbook 3.x step 1).',
  resolve:
    'Resolve it ({"by", "resolution", "rootCause"?, "missedTrades"?, "financialImpactUsd"?}): 4.3 message, post-mortem clock.',
  postUpdate:
    'Post a 4.2 status update ({"by", "status": "Investigating|Mitigating|Monitoring|Resolved", ...}).',
  escalate: 'Engage the next role of the 2.3 matrix now ({"by", "reason"}).',
  setSeverity: 'Change the severity ({"by", "severity": "P0..P3", "reason"}); the matrix is re-planned.',
  addNote: 'Add a note to the timeline ({"by", "text"}).',
  approve:
    'Approve a pending remediation ({"by", "actionId", "confirmationCode"?: "CONFIRM_RESUME" for resume}).',
  reject: 'Reject a pending remediation ({"by", "actionId", "reason"?}).',
  reportLoss: 'Report a financial loss so far ({"by", "amountUsd"}); over $1000 pages the CTO.',
  postExternalStatus: 'Send the 4.4 external status ({"by", "currentStatus", "summary", "impact", ...}).',
  alertFired: 'From the alert ingress: alerts firing for this incident.',
  alertResolved: 'From the alert ingress: alerts resolved.',
};

/** Said beside every action in the Web UI: an origin typed there does not make anyone verified. */
const ORIGIN_NOTE =
  ' An "origin" is set by the ingress only, with its signature; one typed here is ignored and the action recorded as typed (unverified).';

/**
 * An action refused (an operator's mistake or a state that does not allow it): a non-retryable failure with
 * the reason and no stack trace, which the Web UI would show as if the workflow had crashed.
 */
function rejection(message: string): wf.ApplicationFailure {
  const failure = wf.ApplicationFailure.create({ message, type: 'ActionRejected', nonRetryable: true });
  failure.stack = '';
  return failure;
}

/** Every handler, set before the workflow's first await so a message that arrives with the start is served. */
export function registerHandlers(shell: IncidentShell): void {
  for (const name of Object.keys(SIGNALS) as ActionName[])
    wf.setHandler(
      SIGNALS[name],
      (payload) => void shell.step({ type: 'action', name, payload, via: 'signal' }, shell.stamp()),
      {
        description: `${ACTION_DESCRIPTIONS[name]} Fire-and-forget (tctl, scripts): a rejection only shows in the timeline; operators, use the Update of the same name.${ORIGIN_NOTE}`,
      },
    );
  for (const name of Object.keys(UPDATES) as (keyof typeof UPDATES)[])
    wf.setHandler(
      UPDATES[name] as UpdateDefinition<ActionResult, [unknown]>,
      (payload: unknown): ActionResult => {
        const outcome = shell.step({ type: 'action', name, payload, via: 'update' }, shell.stamp());
        if (!outcome?.ok) throw rejection(outcome?.reason ?? 'rejected');
        const { status, severity } = shell.s;
        return { accepted: true, action: name, status, severity, message: outcome.message };
      },
      {
        description: `${ACTION_DESCRIPTIONS[name]} Answers "accepted" or the reason it was rejected.${ORIGIN_NOTE}`,
        // Validators reject before anything is written to history, so the caller gets the reason at once.
        validator: (payload: unknown) => {
          const verdict = validateAction(shell.s, name, payload, shell.stamp());
          if (!verdict.ok) throw rejection(rejectionText(name, verdict));
        },
      },
    );
  for (const name of Object.keys(PROCEDURE_SIGNALS) as (keyof typeof PROCEDURE_SIGNALS)[])
    wf.setHandler(
      PROCEDURE_SIGNALS[name] as wf.SignalDefinition<[unknown]>,
      (payload: unknown) => void shell.step({ type: 'procedure', name, payload }, shell.stamp()),
      {
        description:
          "INTERNAL: sent by the incident's playbook procedure (child workflow). Not for operators.",
      },
    );
  wf.setHandler(defs.statusQuery, () => snapshot(shell.s, shell.s.clock), {
    description:
      'The incident now: severity, status, who acknowledged and resolved, engaged roles, alerts, deadlines.',
  });
  wf.setHandler(defs.timelineQuery, () => timelineView(shell.s), {
    description: 'Every step taken, newest last, rejected signals included (the ledger keeps the whole).',
  });
}
