// The approval gate (DESIGN "Lifecycle rules"): every mutating remediation of 3.1-3.4 passes through this
// one function. It posts the request to the parent incident, waits for a human decision forwarded by the
// parent (approvalDecision), escalates an unanswered request after each timeout, gives up to a human after
// APPROVAL_MAX_ESCALATIONS, lets config-pre-approved actions through at once, and records who decided when.
import * as wf from '@temporalio/workflow';
import { APPROVAL_MAX_ESCALATIONS, truncate } from '../../playbook/procedures';
import { approvalClosedSignal, approvalExpiredSignal, approvalRequestedSignal } from '../definitions';
import type { ApprovalRequest } from '../../playbook/contract/procedure';
import { admit, describeReading, type Justification } from '../../playbook/evidence';
import type { ProcedureContext } from './common';

export interface GateRequest {
  /** Short action name: kill-switch, resume, pause, rollback, restart, terminate-backend. */
  action: string;
  /** What will happen, in plain words (shown to the approver). */
  description: string;
  /** Further context shown to the approver (the readings that decided it are added from `justification`). */
  evidence: string[];
  /** The playbook row and the readings it rests on: nothing is requested unless `admit` accepts them. */
  justification: Justification;
  /** Resume: the parent accepts `approve` only with confirmationCode "CONFIRM_RESUME". */
  requiresConfirmationCode?: boolean;
  /** Policy key that may pre-approve this action (e.g. "kill-switch:data-outage-60m"). */
  preApprovalKey?: string;
  /**
   * Asked while the request waits: a reason once the request no longer applies (3.3: the pause request
   * when the "> 60 minutes" row is reached). The request is then withdrawn with that reason, undecided.
   */
  supersededBy?: () => string | null;
}

export interface GateOutcome {
  actionId: string;
  /** unverified: the evidence did not hold up, nothing was requested (a human step was reported). */
  /** superseded: withdrawn undecided because it no longer applies (`supersededBy`). */
  decision: 'approved' | 'pre-approved' | 'rejected' | 'needs-human' | 'unverified' | 'superseded';
  by: string | null;
  at: string;
  reason?: string;
  escalations: number;
}

const isoNow = (): string => new Date(Date.now()).toISOString();

/**
 * Action ids name their incident and procedure run: `resume-1-k3x9q2` (a tag of both), so an old Approve
 * button or a decision typed for another incident, or another run of this one, with the same request number
 * can never decide this one. Incidents started before keep `resume-1`.
 */
export const PATCH_UNIQUE_ACTION_IDS = 'unique-action-ids-v1';

/** A short, stable tag of a string (FNV-1a, base 36): the same in every replay and every worker. */
export function incidentTag(incidentId: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < incidentId.length; i++) {
    h ^= incidentId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(36);
}

export async function approvalGate(ctx: ProcedureContext, gateReq: GateRequest): Promise<GateOutcome> {
  const seq = ctx.nextSeq();
  // The tag covers the procedure run too: a reopened incident runs a second procedure whose request numbers
  // start again at 1, and a late answer meant for the first run must not decide the second's.
  const actionId = wf.patched(PATCH_UNIQUE_ACTION_IDS)
    ? `${gateReq.action}-${seq}-${incidentTag(`${ctx.input.incidentId}/${wf.workflowInfo().workflowId}`)}`
    : `${gateReq.action}-${seq}`;
  const step = `approval: ${gateReq.action}`;

  // DESIGN "Evidence rule", enforced here for every mutating remediation of 3.1-3.4.
  const admission = admit(gateReq.justification, {
    key: gateReq.preApprovalKey,
    preApproved: ctx.input.preApprovedActions,
  });
  if (!admission.admitted) {
    const at = isoNow();
    ctx.report({
      step,
      type: 'decision',
      outcome: 'unknown',
      text: `human step: ${admission.humanStep}`,
      data: {
        actionId,
        humanStep: true,
        unverified: admission.unverified.map(describeReading),
        contradicted: admission.contradicted.map(describeReading),
      },
    });
    ctx.state.approvals.push({
      actionId,
      action: gateReq.action,
      outcome: 'unverified',
      by: null,
      at,
      escalations: 0,
    });
    return { actionId, decision: 'unverified', by: null, at, escalations: 0 };
  }
  // The approver sees the readings that decided it (with time and source) and those that speak against it.
  const req: GateRequest = {
    ...gateReq,
    // Each line within the approvalRequested contract (2,000 characters, 50 lines), or the parent refuses it.
    evidence: [
      ...admission.because,
      ...gateReq.evidence.filter((e) => !admission.because.includes(e)),
      ...admission.against.map((a) => `against: ${a}`),
    ]
      .slice(0, 50)
      .map((e) => truncate(e, 2000)),
  };

  if (admission.preApproved) {
    const at = isoNow();
    ctx.report({
      step,
      type: 'decision',
      outcome: 'ok',
      text: `${actionId} pre-approved by policy (${req.preApprovalKey}): ${req.description}`,
      data: { actionId, action: req.action, preApproved: true, evidence: req.evidence },
    });
    ctx.toParent(approvalClosedSignal, { actionId, outcome: 'pre-approved', by: 'policy' });
    ctx.state.approvals.push({
      actionId,
      action: req.action,
      outcome: 'pre-approved',
      by: 'policy',
      at,
      escalations: 0,
    });
    return { actionId, decision: 'pre-approved', by: 'policy', at, escalations: 0 };
  }

  const timeoutMs = ctx.playbookMs(ctx.input.approvalTimeoutMinutes);
  const request: ApprovalRequest = {
    actionId,
    action: req.action,
    description: req.description,
    evidence: req.evidence,
    requestedAt: isoNow(),
    expiresAt: new Date(Date.now() + timeoutMs).toISOString(),
    requiresConfirmationCode: req.requiresConfirmationCode === true,
  };
  ctx.state.pendingApproval = request;
  ctx.toParent(approvalRequestedSignal, request);
  ctx.report({
    step,
    type: 'action',
    text: `approval requested (${actionId}): ${req.description}${request.requiresConfirmationCode ? ' [approve with confirmationCode CONFIRM_RESUME]' : ''}`,
    data: {
      actionId,
      action: req.action,
      evidence: req.evidence,
      requiresConfirmationCode: request.requiresConfirmationCode,
    },
  });

  let escalations = 0;
  const superseded = () => (ctx.inbox.has(actionId) ? null : (req.supersededBy?.() ?? null));
  for (;;) {
    const answered = await wf.condition(() => ctx.inbox.has(actionId) || superseded() !== null, timeoutMs);
    const why = superseded();
    if (why !== null) {
      const at = isoNow();
      ctx.state.pendingApproval = null;
      ctx.report({
        step,
        type: 'decision',
        outcome: 'unknown',
        text: `${actionId} withdrawn undecided: ${why}`,
        data: { actionId, superseded: why },
      });
      ctx.toParent(approvalClosedSignal, { actionId, outcome: 'withdrawn', by: 'system' });
      ctx.state.approvals.push({
        actionId,
        action: req.action,
        outcome: 'superseded',
        by: null,
        at,
        escalations,
      });
      return { actionId, decision: 'superseded', by: null, at, escalations };
    }
    if (answered) break;
    escalations++;
    ctx.toParent(approvalExpiredSignal, { actionId, escalation: escalations });
    if (escalations >= APPROVAL_MAX_ESCALATIONS) {
      const at = isoNow();
      ctx.state.pendingApproval = null;
      ctx.report({
        step,
        type: 'decision',
        outcome: 'unknown',
        text: `${actionId} unanswered after ${escalations} escalations: not performed, left to a human`,
        data: { actionId, escalations },
      });
      ctx.toParent(approvalClosedSignal, { actionId, outcome: 'withdrawn', by: 'system' });
      ctx.state.approvals.push({
        actionId,
        action: req.action,
        outcome: 'needs-human',
        by: null,
        at,
        escalations,
      });
      return { actionId, decision: 'needs-human', by: null, at, escalations };
    }
    ctx.state.pendingApproval = { ...request, expiresAt: new Date(Date.now() + timeoutMs).toISOString() };
    ctx.report({
      step,
      type: 'info',
      outcome: 'unknown',
      text: `${actionId} unanswered after ${ctx.input.approvalTimeoutMinutes * escalations} playbook minutes: escalated (${escalations}/${APPROVAL_MAX_ESCALATIONS})`,
      data: { actionId, escalation: escalations },
    });
  }

  const d = ctx.inbox.get(actionId)!;
  const at = isoNow();
  ctx.state.pendingApproval = null;
  ctx.report({
    step,
    type: 'decision',
    outcome: d.decision === 'approved' ? 'ok' : 'failed',
    text: `${actionId} ${d.decision} by ${d.by} at ${at}${d.reason ? `: ${d.reason}` : ''}`,
    data: { actionId, decision: d.decision, by: d.by, at, escalations },
  });
  ctx.toParent(approvalClosedSignal, { actionId, outcome: d.decision, by: d.by });
  ctx.state.approvals.push({ actionId, action: req.action, outcome: d.decision, by: d.by, at, escalations });
  return {
    actionId,
    decision: d.decision,
    by: d.by,
    at,
    ...(d.reason ? { reason: d.reason } : {}),
    escalations,
  };
}

export const gatePassed = (o: GateOutcome): boolean =>
  o.decision === 'approved' || o.decision === 'pre-approved';
