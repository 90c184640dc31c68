// The contract between incidentWorkflow and its procedure child workflows (3.1-3.4): which workflow runs for
// which kind, what it is started with, and what the two send each other. The payload schemas validate what
// reaches the parent by signal, since an operator can send these names by mistake.
import { z } from 'zod';
import type { Severity } from '../severity';
import { cleanJson } from '../text';
import { isoTime, str, text } from './fields';
import type { IncidentKind } from './incident';

/** Child workflow type per incident kind; `generic` and `monitoring-gap` incidents run no procedure. */
export const PROCEDURE_WORKFLOWS = {
  'trading-system-down': 'tradingSystemDownProcedure',
  'model-degradation': 'modelDegradationProcedure',
  'data-source-down': 'dataSourceDownProcedure',
  'database-connection': 'databaseConnectionProcedure',
} as const satisfies Partial<Record<IncidentKind, string>>;
export type ProcedureKind = keyof typeof PROCEDURE_WORKFLOWS;
export const hasProcedure = (kind: IncidentKind): kind is ProcedureKind =>
  Object.prototype.hasOwnProperty.call(PROCEDURE_WORKFLOWS, kind);

export interface ProcedureInput {
  /** The incident (`<workflow id>@<opening time>`), as in its `status`. */
  incidentId: string;
  /** The incident's workflow id: where the child signals its findings. */
  incidentWorkflowId: string;
  kind: ProcedureKind;
  severity: Severity;
  timeScale: number;
  /** Actions the policy pre-approves where the playbook prescribes them (e.g. "kill-switch:data-outage-60m"). */
  preApprovedActions: string[];
  /** Playbook minutes an approval request waits before it is escalated (and again after). */
  approvalTimeoutMinutes: number;
}

/** child -> parent: a finding, decision or action to put in the timeline and the `findings` summary. */
export interface ProcedureEvent {
  procedure: string;
  /** Playbook step, e.g. "3.1 immediate: kill switch status". */
  step: string;
  type: 'finding' | 'decision' | 'action' | 'info';
  /** ok: healthy / succeeded; failed: unhealthy / failed; unavailable: endpoint missing on this deployment (404). */
  outcome?: 'ok' | 'failed' | 'unavailable' | 'unknown';
  text: string;
  data?: Record<string, unknown>;
}
export const procedureEventSchema = z.object({
  procedure: text(200),
  step: text(300),
  type: z.enum(['finding', 'decision', 'action', 'info']),
  outcome: z.enum(['ok', 'failed', 'unavailable', 'unknown']).optional(),
  text: str().max(8000),
  data: z.record(str(), z.unknown()).transform(cleanJson).optional(),
});

/**
 * In a procedureEvent's `data.safetyHold`: the engine applied or lifted a safety action for this incident
 * (a release may name the remediation that lifted it, e.g. the resume, rather than the hold's actionId).
 */
export const safetyHoldSchema = z.object({
  change: z.enum(['applied', 'released']),
  action: z.enum(['kill-switch', 'pause', 'rollback']),
  actionId: text(200),
  activatedAt: str().max(100).nullable(),
  activatedBy: str().max(500).nullable(),
  reason: str().max(4000).nullable(),
});
export type SafetyHoldReport = z.infer<typeof safetyHoldSchema>;

/** child -> parent: a mutating remediation waits for a human (approval gate). */
export interface ApprovalRequest {
  actionId: string;
  action: string;
  description: string;
  evidence: string[];
  requestedAt: string;
  expiresAt: string | null;
  requiresConfirmationCode: boolean;
}
export const approvalRequestSchema = z.object({
  actionId: text(200),
  action: text(200),
  description: str().max(4000),
  evidence: z.array(str().max(2000)).max(50),
  requestedAt: isoTime,
  expiresAt: isoTime.nullable(),
  requiresConfirmationCode: z.boolean(),
});
export const approvalExpiredSchema = z.object({ actionId: text(200), escalation: z.number().int().min(1) });
export const approvalClosedSchema = z.object({
  actionId: text(200),
  outcome: z.enum(['approved', 'rejected', 'pre-approved', 'withdrawn', 'too-late']),
  by: str().max(200),
  /** too-late: when the request had expired (the decision arrived after the gate gave up). */
  expiredAt: isoTime.optional(),
  /** too-late: the decision that came too late. */
  decision: z.enum(['approved', 'rejected']).optional(),
});
export type ApprovalClosed = z.infer<typeof approvalClosedSchema>;

/** parent -> child: a human decision, already validated by the parent (CONFIRM_RESUME included). */
export interface ApprovalDecision {
  actionId: string;
  decision: 'approved' | 'rejected';
  by: string;
  reason?: string;
  /** Forwarded as given; the gate checks it again for requests that need CONFIRM_RESUME. */
  confirmationCode?: string;
  /**
   * When the incident received the decision (ISO): a gate whose timer fired while the decision was on its
   * way can order the two by arrival.
   */
  decidedAt?: string;
}

export interface ProcedureResult {
  procedure: string;
  outcome: 'completed' | 'needs-human' | 'failed';
  summary: string;
}
