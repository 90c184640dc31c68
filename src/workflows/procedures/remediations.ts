// Gated remediations shared by several procedures: each asks the approval gate, performs the guarded
// activity, reports what happened and verifies it. They return a plain outcome the procedure sums up.
import * as wf from '@temporalio/workflow';
import type { Justification } from '../../playbook/evidence';
import { CONFIRM_RESUME } from '../../playbook/procedures';
import {
  describeActivation,
  engineActor,
  holderOf,
  type KillSwitchActivation,
  type Precondition,
} from '../../playbook/safety';
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

/** What a resume request lifts and why: the approver is shown the activation, and the call is bound to it. */
export interface ResumeGrounds {
  /** The kill-switch activation to lift, as the platform reported it. */
  activation: KillSwitchActivation;
  why: string;
  evidence: string[];
  justification: Justification;
  /** 3.3: the data must still be this fresh at the moment of the call. */
  maxStalenessMinutes?: number;
}

/** 3.2 rollback step 1 gates the request: no known target, no request (incidents started before asked anyway). */
export const PATCH_ROLLBACK_NEEDS_TARGET = 'rollback-needs-target-v1';

/** After a refused resume: the grounds to ask again with, or how the resume ends. */
export type Reassessment = { grounds: ResumeGrounds } | { outcome: RemediationOutcome; text: string };

/** A refused resume asks again at most this often (then a human takes it). */
export const RESUME_MAX_ASKS = 3;

/**
 * 3.1 step 5 / 3.3 recovery step 3: resume, always with CONFIRM_RESUME (the parent checks the approver's
 * code), bound to the activation the approver saw. The activity re-reads the platform right before the call
 * and refuses when that activation is gone or replaced, another open incident holds the kill switch, or the
 * data went stale again (src/playbook/safety.ts); the approver is told, and `reassess` says whether to ask
 * again (with what is true now) or stop.
 */
export async function requestResume(
  ctx: ProcedureContext,
  step: string,
  first: ResumeGrounds,
  reassess?: () => Promise<Reassessment>,
): Promise<RemediationOutcome> {
  let g = first;
  for (let ask = 1; ; ask++) {
    const gate = await approvalGate(ctx, {
      action: 'resume',
      description: `Resume trading: lift the kill switch set by ${describeActivation(g.activation)} (POST /operations/resume with confirmation_code CONFIRM_RESUME). ${g.why}`,
      evidence: g.evidence,
      justification: g.justification,
      requiresConfirmationCode: true,
    });
    if (!gatePassed(gate)) return gate.decision === 'rejected' ? 'rejected' : 'needs-human';
    const preconditions: Precondition[] = [
      { kind: 'kill-switch-is', activation: g.activation },
      { kind: 'no-foreign-hold', incidentId: ctx.input.incidentId },
      ...(g.maxStalenessMinutes !== undefined
        ? [{ kind: 'data-fresh' as const, maxMinutes: g.maxStalenessMinutes }]
        : []),
    ];
    let refused: string[] | undefined;
    try {
      const r = await remediations.resumeTrading({
        resumedBy: engineActor(gate.by, ctx.input.incidentId),
        confirmationCode: CONFIRM_RESUME,
        preconditions,
        incidentId: ctx.input.incidentId,
      });
      refused = r.refused;
      if (!refused) {
        const own = holderOf(g.activation.activatedBy) === ctx.input.incidentId;
        ctx.report({
          step,
          type: 'action',
          outcome: 'ok',
          text: r.applied
            ? `trading resumed (${gate.actionId}): ${r.message}`
            : `resume not needed: ${r.message}`,
          data: {
            actionId: gate.actionId,
            applied: r.applied,
            ...(r.applied && own
              ? { safetyHold: hold('released', 'kill-switch', gate.actionId, g.activation) }
              : {}),
          },
        });
      }
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
    if (refused) {
      // Tell the approver (the channel), and ask again only if a resume still applies to what is there now.
      ctx.report({
        step,
        type: 'decision',
        outcome: 'unknown',
        text: `${gate.actionId} withdrawn: approved by ${gate.by ?? '?'}, but not performed because its grounds are gone at the call: ${refused.join('; ')}`,
        data: { actionId: gate.actionId, refused, notify: 'team' },
      });
      const next: Reassessment = reassess
        ? await reassess()
        : { outcome: 'needs-human', text: 'decide the kill switch by hand' };
      if ('outcome' in next) {
        if (next.outcome !== 'not-needed') humanStep(ctx, step, next.text);
        return next.outcome;
      }
      if (ask >= RESUME_MAX_ASKS) {
        humanStep(ctx, step, `resume refused ${ask} times at the call: decide the kill switch by hand`);
        return 'needs-human';
      }
      g = next.grounds;
      continue;
    }
    break;
  }
  const after = await ctx.check(
    `${step} (verify)`,
    () => fastChecks.checkOperationsStatus(),
    NO_OPERATIONS_STATUS,
  );
  return after.data.killSwitchActive === false ? 'done' : 'failed';
}

/** The operations status data a check reads (common.ts NO_OPERATIONS_STATUS when it could not). */
export interface OperationsData {
  mode: string | null;
  killSwitchActive: boolean | null;
  reason: string | null;
  activatedBy: string | null;
  activatedAt: string | null;
}

/**
 * Safety holds: an active kill switch that the engine set for another incident still open is that
 * incident's, not a 3.1 row. Only a kill switch that names an incident is looked up (a person's or the risk
 * monitor's is not a hold); a holder that does not answer counts as holding (DESIGN "Evidence rule").
 */
export async function foreignHold(ctx: ProcedureContext, ops: OperationsData): Promise<string | null> {
  const named = holderOf(ops.activatedBy);
  if (named === null || named === ctx.input.incidentId) return null;
  const f = await fastChecks.checkSafetyHold({ incidentId: ctx.input.incidentId }).catch((err: unknown) => ({
    check: 'safety-hold',
    outcome: 'unknown' as const,
    text: `safety hold check could not run: ${errorMessage(err)}`,
    data: { holder: named, held: null, holderStatus: null },
  }));
  ctx.report({
    step: `${ctx.procedure.split(' ')[0]} safety hold`,
    type: 'finding',
    outcome: f.data.held === false ? 'ok' : f.data.held ? 'failed' : 'unknown',
    text: f.text,
    data: { holder: f.data.holder, held: f.data.held, holderStatus: f.data.holderStatus },
  });
  return f.data.held === false ? null : f.text;
}

/** The `safetyHold` a report carries when the engine applied or lifted a safety action for this incident. */
export function hold(
  change: 'applied' | 'released',
  action: 'kill-switch' | 'pause' | 'rollback',
  actionId: string,
  a: KillSwitchActivation,
) {
  return {
    change,
    action,
    actionId,
    activatedAt: a.activatedAt,
    activatedBy: a.activatedBy,
    reason: a.reason,
  };
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
  // 3.2 rollback step 1 "Identify rollback target": a rollback is asked only when a target is known to exist.
  if (
    wf.patched(PATCH_ROLLBACK_NEEDS_TARGET) &&
    !(targets.outcome === 'answered' && targets.data.targets.length > 0)
  ) {
    humanStep(
      ctx,
      step,
      targets.outcome === 'answered'
        ? 'no rollback target available (3.2 rollback step 1): nothing to roll back to; fix or retrain the model'
        : `could not identify a rollback target (${targets.text}): check the registry, then roll back from the dashboard (Models > Rollback)`,
    );
    return { outcome: 'needs-human', newModel: null };
  }
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
      initiatedBy: engineActor(gate.by, ctx.input.incidentId),
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
        ...(r.applied
          ? {
              safetyHold: hold('applied', 'rollback', gate.actionId, {
                activatedAt: gate.at,
                activatedBy: engineActor(gate.by, ctx.input.incidentId),
                reason: `${r.previousModel ?? '?'} -> ${r.newModel ?? '?'}: ${reason}`,
              }),
            }
          : {}),
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
