// The procedure child (3.1-3.4): its start (at open, once the policy is in, and again at a reopen), and its
// messages: findings, approval requests, expiries and the gate's answers. Their names are public like any
// signal's, so a payload is validated and a bad one recorded as rejected; approval traffic is taken only
// while a procedure runs.
import type { z } from 'zod';
import {
  approvalClosedSchema,
  approvalExpiredSchema,
  approvalRequestSchema,
  procedureEventSchema,
  PROCEDURE_WORKFLOWS,
  hasProcedure,
} from '../contract/procedure';
import { actorOf, formatIssues } from '../contract/payload';
import { isoOf } from '../time';
import { escalateNext, humanSteps, notify, record, type Draft } from './draft';
import { clip, LIMITS } from './limits';
import { safetyHoldReported } from './safety-holds';
import { isOpen, patchedIn } from './state';

export type ProcedureMessageName =
  'procedureEvent' | 'approvalRequested' | 'approvalExpired' | 'approvalClosed';

interface Handler<T> {
  schema: z.ZodType<T>;
  onlyWhileRunning: boolean;
  apply(d: Draft, v: T): void;
}
const handler = <T>(h: Handler<T>) => h as Handler<unknown>;

const HANDLERS: Record<ProcedureMessageName, Handler<unknown>> = {
  procedureEvent: handler({
    schema: procedureEventSchema,
    onlyWhileRunning: false,
    apply(d, e) {
      const s = d.s;
      s.findings.push({
        at: isoOf(d.now),
        procedure: clip(e.procedure, 200),
        step: clip(e.step, 300),
        type: e.type,
        outcome: e.outcome ?? null,
        text: clip(e.text, LIMITS.findingText),
      });
      if (s.findings.length > LIMITS.findings) s.findings.splice(0, s.findings.length - LIMITS.findings);
      record(d, e.procedure, `procedure.${e.type}`, `${e.step}: ${e.text}`, {
        ...(e.outcome ? { outcome: e.outcome } : {}),
        ...(e.data ?? {}),
      });
      if (e.data?.safetyHold !== undefined) safetyHoldReported(d, e.procedure, e.data.safetyHold);
      if (e.step === 'result' && s.procedure?.status === 'running') {
        const outcome = e.outcome === 'ok' ? 'completed' : e.outcome === 'failed' ? 'failed' : 'needs-human';
        s.procedure = { ...s.procedure, status: outcome, summary: clip(e.text, LIMITS.freeText) };
      }
      if (e.step === 'result') {
        // The procedure's outcome and what it leaves to people go to the channels, not only the timeline.
        s.seq += 1;
        notify(
          d,
          'info',
          `procedure-result-${s.seq}`,
          'channel',
          [`:clipboard: **${e.procedure}**: ${e.text}`, ...humanSteps(s).map((h) => `- [ ] ${h}`)].join('\n'),
        );
      } else if (e.data?.notify === 'team') {
        // 3.3 "Activate kill switch, notify team".
        s.seq += 1;
        notify(
          d,
          'info',
          `procedure-notify-${s.seq}`,
          'channel',
          `:octagonal_sign: **${e.step}**: ${e.text}`,
        );
      }
      // 3.2 "monitor for 30 minutes post-rollback": degrading again re-escalates.
      if (e.data?.reescalate === true && isOpen(s))
        escalateNext(d, '-procedure', `procedure re-escalation: ${e.text}`);
    },
  }),

  approvalRequested: handler({
    schema: approvalRequestSchema,
    onlyWhileRunning: true,
    apply(d, r) {
      const s = d.s;
      s.pendingApprovals = [
        ...s.pendingApprovals.filter((p) => p.actionId !== r.actionId),
        {
          actionId: r.actionId,
          action: r.action,
          description: clip(r.description, LIMITS.freeText),
          requestedAt: r.requestedAt,
          expiresAt: r.expiresAt,
          requiresConfirmationCode: r.requiresConfirmationCode,
        },
      ].slice(-LIMITS.pendingApprovals);
      record(
        d,
        'procedure',
        'approval.requested',
        `Approval needed for ${r.action} (${r.actionId}): ${r.description}`,
        {
          actionId: r.actionId,
          evidence: r.evidence,
        },
      );
      d.effects.push({
        type: 'ledger.approval',
        approval: {
          actionId: r.actionId,
          action: r.action,
          description: r.description,
          requestedAt: r.requestedAt,
          expiresAt: r.expiresAt,
          requiresConfirmationCode: r.requiresConfirmationCode,
        },
      });
      const id = s.workflowId;
      const code = r.requiresConfirmationCode ? ',"confirmationCode":"CONFIRM_RESUME"' : '';
      notify(
        d,
        'info',
        `approval-${r.actionId}`,
        'channel',
        [
          `:raised_hand: **APPROVAL NEEDED: ${r.action}** (${s.title})`,
          r.description,
          ...r.evidence.map((ev) => `- ${ev}`),
          `Approve: npm run -s temporal -- workflow signal --workflow-id ${id} --name approve --input '{"by":"<you>","actionId":"${r.actionId}"${code}}'`,
          `Reject:  npm run -s temporal -- workflow signal --workflow-id ${id} --name reject --input '{"by":"<you>","actionId":"${r.actionId}","reason":"..."}'`,
        ].join('\n'),
      );
    },
  }),

  approvalExpired: handler({
    schema: approvalExpiredSchema,
    onlyWhileRunning: true,
    apply(d, { actionId, escalation }) {
      // Ordered by arrival: a decision the incident already handed to the gate answered the request, even if
      // the gate's timer fired before the decision reached it (both queued while the worker was down).
      const held = d.s.pendingApprovals.find((p) => p.actionId === actionId)?.decisionInFlight;
      if (held && patchedIn(d.s, 'expiryAfterDecision')) {
        record(
          d,
          'procedure',
          'approval.expired',
          `${actionId} timed out (${escalation}) after the ${held.decision === 'approved' ? 'approval' : 'rejection'} by ${held.by} at ${held.at} was handed to the procedure: not escalated`,
          { actionId, escalation, decidedAt: held.at },
        );
        return;
      }
      record(d, 'procedure', 'approval.expired', `No answer to ${actionId}: escalating (${escalation})`);
      if (isOpen(d.s)) escalateNext(d, `-approval-${escalation}`, `approval ${actionId} unanswered`);
    },
  }),

  approvalClosed: handler({
    schema: approvalClosedSchema,
    onlyWhileRunning: false,
    apply(d, { actionId, outcome, by, expiredAt, decision }) {
      const s = d.s;
      if (outcome === 'too-late') {
        // The gate had given up before this decision reached it: nothing was done, and the decider is told.
        const text = `too late: ${actionId} expired at ${expiredAt ?? 'an earlier time'}; the ${decision === 'rejected' ? 'rejection' : 'approval'} by ${by} was not applied`;
        s.pendingApprovals = s.pendingApprovals.filter((p) => p.actionId !== actionId);
        s.closingApprovals = s.closingApprovals.filter((p) => p.actionId !== actionId);
        record(d, by, 'approval.too-late', text, { actionId, expiredAt: expiredAt ?? null });
        s.seq += 1;
        notify(d, 'info', `approval-${actionId}-too-late-${s.seq}`, 'channel', `:hourglass: ${by}: ${text}`);
        return;
      }
      // Still open, or open at resolution with its decision on the way (the gate's answer closes it).
      const pending =
        s.pendingApprovals.find((p) => p.actionId === actionId) ??
        s.closingApprovals.find((p) => p.actionId === actionId);
      s.pendingApprovals = s.pendingApprovals.filter((p) => p.actionId !== actionId);
      s.closingApprovals = s.closingApprovals.filter((p) => p.actionId !== actionId);
      if (pending || outcome === 'pre-approved') {
        record(d, by, `approval.${outcome}`, `${actionId}: ${outcome}${by ? ` by ${by}` : ''}`, { actionId });
        // The reason a human gave travels with the decision (the gate's answer does not repeat it).
        const reason = pending?.decisionInFlight?.reason;
        d.effects.push({
          type: 'ledger.approval',
          approval: {
            actionId,
            outcome,
            decidedBy: by,
            decidedAt: isoOf(d.now),
            ...(reason ? { reason } : {}),
          },
        });
      }
    },
  }),
};

export function applyProcedureMessage(d: Draft, name: ProcedureMessageName, raw: unknown): void {
  const h = HANDLERS[name];
  const parsed = h.schema.safeParse(raw);
  if (!parsed.success) {
    record(
      d,
      actorOf(raw),
      'signal.rejected',
      `invalid ${name} payload: ${formatIssues(parsed.error.issues)}`,
    );
    return;
  }
  if (h.onlyWhileRunning && (!isOpen(d.s) || d.s.procedure?.status !== 'running')) {
    record(d, 'system', 'signal.ignored', `${name} ignored: no procedure is running for this incident`);
    return;
  }
  h.apply(d, parsed.data);
}

/** Starts the kind's procedure child, on the policy in force (generic incidents run none). */
export function startProcedure(d: Draft): void {
  const s = d.s;
  const kind = s.kind;
  if (!hasProcedure(kind)) return;
  const type = PROCEDURE_WORKFLOWS[kind];
  // A run after a reopen gets its own id: the cancelled one may still be finishing a remediation call.
  const workflowId =
    s.procedure === null ? `${s.workflowId}-procedure` : `${s.workflowId}-procedure-${s.reopenCount + 1}`;
  s.procedure = { workflowId, type, status: 'running', summary: null };
  d.effects.push({
    type: 'procedure.start',
    workflowType: type,
    workflowId,
    input: {
      incidentId: s.incidentId,
      incidentWorkflowId: s.workflowId,
      kind,
      severity: s.severity,
      timeScale: s.timeScale,
      preApprovedActions: s.policy.preApprovedActions,
      approvalTimeoutMinutes: s.policy.approvalTimeoutMinutes,
    },
  });
}

/**
 * A reopened incident runs its playbook procedure again: the fault is back, and what the cancelled run
 * asked (an approval withdrawn at resolution) is asked again on fresh readings.
 */
export function rerunProcedure(d: Draft): void {
  const s = d.s;
  const kind = s.kind;
  if (!hasProcedure(kind) || s.procedure?.status === 'running') return;
  // Still loading the policy: policyArrived starts it.
  if (s.policyPending && patchedIn(s, 'procedureAfterPolicy')) return;
  record(
    d,
    'system',
    'procedure.rerun',
    `Reopened: playbook procedure ${PROCEDURE_WORKFLOWS[kind]} runs again`,
  );
  startProcedure(d);
}
