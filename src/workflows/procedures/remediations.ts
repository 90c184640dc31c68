// Gated remediations shared by several procedures: each asks the approval gate, performs the guarded
// activity, reports what happened and verifies it. They return a plain outcome the procedure sums up.
import type { Justification } from '../../playbook/evidence';
import { CONFIRM_RESUME } from '../../playbook/procedures';
import { approvalGate, gatePassed } from './approval-gate';
import {
  errorMessage,
  fastChecks,
  NO_OPERATIONS_STATUS,
  NO_ROUTER_STATUS,
  type ProcedureContext,
  remediations,
} from './common';

export type RemediationOutcome =
  'done' | 'not-needed' | 'rejected' | 'needs-human' | 'failed' | 'not-configured';

const ACTOR = 'incident-response';
const actorOf = (by: string | null) => (by && by !== 'policy' ? `${by} via ${ACTOR}` : ACTOR);

/** 3.1 step 5 / 3.3 recovery step 3: resume, always with CONFIRM_RESUME (the parent checks the approver's code). */
export async function requestResume(
  ctx: ProcedureContext,
  step: string,
  why: string,
  evidence: string[],
  justification: Justification,
): Promise<RemediationOutcome> {
  const gate = await approvalGate(ctx, {
    action: 'resume',
    description: `Resume trading: POST /operations/resume with confirmation_code CONFIRM_RESUME. ${why}`,
    evidence,
    justification,
    requiresConfirmationCode: true,
  });
  if (!gatePassed(gate)) return gate.decision === 'rejected' ? 'rejected' : 'needs-human';
  try {
    const r = await remediations.resumeTrading({
      resumedBy: actorOf(gate.by),
      confirmationCode: CONFIRM_RESUME,
    });
    ctx.report({
      step,
      type: 'action',
      outcome: 'ok',
      text: r.applied
        ? `trading resumed (${gate.actionId}): ${r.message}`
        : `resume not needed: ${r.message}`,
      data: { actionId: gate.actionId, applied: r.applied },
    });
  } catch (err) {
    ctx.report({
      step,
      type: 'action',
      outcome: 'failed',
      text: `resume failed: ${errorMessage(err)}`,
      data: { actionId: gate.actionId },
    });
    return 'failed';
  }
  const after = await ctx.check(
    `${step} (verify)`,
    () => fastChecks.checkOperationsStatus(),
    NO_OPERATIONS_STATUS,
  );
  return after.data.killSwitchActive === false ? 'done' : 'failed';
}

/** 3.1 "docker-compose restart ..." / 3.4 "Restart application containers", through the allow-list only. */
export async function restartContainers(
  ctx: ProcedureContext,
  step: string,
  containers: string[],
  allowListed: string[],
  why: string,
  evidence: string[],
  justification: Justification,
): Promise<RemediationOutcome> {
  const allowed = containers.filter((c) => allowListed.includes(`restart:${c}`));
  const missing = containers.filter((c) => !allowed.includes(c));
  if (missing.length) {
    ctx.report({
      step,
      type: 'decision',
      outcome: 'unavailable',
      text: `restart of ${missing.join(', ')} not configured (no restart:<container> command in the allow-list): human step`,
      data: { humanStep: true, containers: missing },
    });
  }
  if (allowed.length === 0) return 'not-configured';
  const gate = await approvalGate(ctx, {
    action: 'restart',
    description: `Restart ${allowed.join(', ')} (allow-listed ${allowed.map((c) => `restart:${c}`).join(', ')}). ${why}`,
    evidence,
    justification,
  });
  if (!gatePassed(gate)) return gate.decision === 'rejected' ? 'rejected' : 'needs-human';
  let failed = false;
  for (const container of allowed) {
    try {
      const r = await remediations.restartContainer({ container, notStartedAfter: gate.at });
      ctx.report({
        step,
        type: 'action',
        outcome: 'ok',
        text: r.message,
        data: { actionId: gate.actionId, container, applied: r.applied, startedAt: r.startedAt },
      });
    } catch (err) {
      failed = true;
      ctx.report({
        step,
        type: 'action',
        outcome: 'failed',
        text: `restart of ${container} failed: ${errorMessage(err)}`,
        data: { actionId: gate.actionId, container },
      });
    }
  }
  return failed ? 'failed' : 'done';
}

/** 3.2 rollback procedure steps 1-3 (3.1 "Model file corrupted" too): targets, gated rollback, verify. */
export async function rollbackModel(
  ctx: ProcedureContext,
  step: string,
  reason: string,
  evidence: string[],
  justification: Justification,
): Promise<{ outcome: RemediationOutcome; newModel: string | null }> {
  const targets = await ctx.check(`${step}: rollback targets`, () => fastChecks.checkRollbackTargets(), {
    targets: [],
  });
  const before = await ctx.check(
    `${step}: router status before`,
    () => fastChecks.checkRouterStatus(),
    NO_ROUTER_STATUS,
  );
  if (before.data.champion === null) {
    // The guard against rolling back twice (a retry after a crash) compares the champion before and at the
    // call; with the champion unknown it cannot, so the rollback is left to a human.
    ctx.report({
      step,
      type: 'decision',
      outcome: 'unknown',
      text: 'human step: champion model unknown (router status unreadable), roll back from the dashboard (Models > Rollback) after checking it',
    });
    return { outcome: 'needs-human', newModel: null };
  }
  const gate = await approvalGate(ctx, {
    action: 'rollback',
    description:
      `Roll back the champion model ${before.data.champion ?? ''} to the previous version: POST /models/rollback with reason "${reason}"`.replace(
        '  ',
        ' ',
      ),
    evidence: [...evidence, targets.text],
    justification,
  });
  if (!gatePassed(gate))
    return { outcome: gate.decision === 'rejected' ? 'rejected' : 'needs-human', newModel: null };
  let newModel: string | null = null;
  try {
    const r = await remediations.rollbackModel({
      reason,
      initiatedBy: actorOf(gate.by),
      expectedChampion: before.data.champion,
    });
    newModel = r.newModel;
    ctx.report({
      step,
      type: 'action',
      outcome: 'ok',
      text: r.applied ? `rolled back ${r.previousModel} -> ${r.newModel} (${gate.actionId})` : r.message,
      data: {
        actionId: gate.actionId,
        applied: r.applied,
        previousModel: r.previousModel,
        newModel: r.newModel,
      },
    });
  } catch (err) {
    ctx.report({
      step,
      type: 'action',
      outcome: 'failed',
      text: `rollback failed: ${errorMessage(err)}`,
      data: { actionId: gate.actionId },
    });
    return { outcome: 'failed', newModel: null };
  }
  // 3.2 rollback step 3 "Verify rollback success": the router serves the new champion and is ready.
  const after = await ctx.check(
    `${step}: verify rollback (router status)`,
    () => fastChecks.checkRouterStatus(),
    NO_ROUTER_STATUS,
  );
  const ok =
    after.data.ready !== false &&
    after.data.champion !== null &&
    after.data.champion !== before.data.champion;
  ctx.report({
    step,
    type: 'decision',
    outcome: ok ? 'ok' : 'failed',
    text: ok
      ? `rollback verified: router champion ${after.data.champion}, ready`
      : `rollback NOT verified: router champion ${after.data.champion ?? '?'}, ready ${after.data.ready}`,
  });
  return { outcome: ok ? 'done' : 'failed', newModel: newModel ?? after.data.champion };
}

/** A step the playbook leaves to a person (or that has no API): recorded as a decision with humanStep. */
export function humanStep(ctx: ProcedureContext, step: string, text: string): void {
  ctx.report({
    step,
    type: 'decision',
    outcome: 'unknown',
    text: `human step: ${text}`,
    data: { humanStep: true },
  });
}

/** Sum of remediation outcomes -> procedure outcome. */
export function overall(
  outcomes: RemediationOutcome[],
  verified: boolean,
): 'completed' | 'needs-human' | 'failed' {
  if (outcomes.includes('failed')) return 'failed';
  if (!verified || outcomes.some((o) => o === 'rejected' || o === 'needs-human' || o === 'not-configured'))
    return 'needs-human';
  return 'completed';
}
