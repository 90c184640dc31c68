// 3.3 P1: Data Source Down (TwelveData), as a child workflow of incidentWorkflow.
import {
  DATA_FRESH_MAX_MINUTES,
  DATA_OUTAGE_KILL_SWITCH_AFTER_MINUTES,
  DATA_OUTAGE_MONITOR_MAX_MINUTES,
  DATA_OUTAGE_WAIT_MAX_MINUTES,
  DATA_OUTAGE_POLL_MINUTES,
  KILL_SWITCH_DATA_OUTAGE_ACTION,
  freshDataArrived,
  planDataOutage,
  tradingStopped,
  verifyDataRecovery,
  type DataOutagePlan,
  type FreshnessReading,
} from '../../playbook/procedures';
import * as wf from '@temporalio/workflow';
import type { Justification, Reading } from '../../playbook/evidence';
import { engineActor, sameActivation, type KillSwitchActivation } from '../../playbook/safety';
import type { ProcedureInput, ProcedureResult } from '../../playbook/contract/procedure';
import { approvalGate, gatePassed } from './approval-gate';
import {
  errorMessage,
  evidenceOf,
  fastChecks,
  NO_OPERATIONS_STATUS,
  openProcedure,
  remediations,
  type ProcedureContext,
} from './common';
import {
  foreignHold,
  hold,
  humanStep,
  requestResume,
  type Reassessment,
  type RemediationOutcome,
  type ResumeGrounds,
} from './remediations';

const PROCEDURE = '3.3 data-source-down';
const freshFallback = { latest: null, stalenessMinutes: null };
/** Report the freshness while waiting only every this many polls (or when the table row changes). */
const REPORT_EVERY_POLLS = 10;
/**
 * Recovery is fresh data (feature consistency is a separate finding beside the resume request); polls record
 * what changed, not what they found again; the kill switch this procedure applied is re-read while it waits;
 * kill switch, pause and resume are guarded at the call. Incidents started before keep the earlier rules.
 */
export const PATCH_DATA_RECOVERY = 'data-recovery-guards-v1';

export async function dataSourceDownProcedure(input: ProcedureInput): Promise<ProcedureResult> {
  const ctx = openProcedure(PROCEDURE, input);
  const v2 = wf.patched(PATCH_DATA_RECOVERY);
  const caps = await fastChecks.platformCapabilities();

  // Immediate actions (0-5 minutes). Step 1, the ACK, is the incident's start notification; step 4 (API key
  // validity) needs the TwelveData key, which stays out of this engine: the provider status page stands in.
  const [, freshness, ops] = await Promise.all([
    ctx.check('3.3 immediate: check TwelveData status', () => fastChecks.checkDataProviderStatus(), {
      indicator: null,
    }),
    ctx.check(
      '3.3 immediate: check last data timestamp',
      () => fastChecks.checkDataFreshness(),
      freshFallback,
    ),
    ctx.check(
      '3.3 immediate: verify trading auto-paused',
      () => fastChecks.checkOperationsStatus(),
      NO_OPERATIONS_STATUS,
    ),
  ]);
  // Diagnosis (5-15 minutes).
  await Promise.all([
    ctx.check(
      '3.3 diagnosis: data pipeline logs',
      () => fastChecks.checkContainerLogs(caps.airflowScheduler, 'twelvedata'),
      {
        container: caps.airflowScheduler,
        filter: 'twelvedata' as const,
        lines: [],
        outOfMemory: false,
        diskFull: false,
      },
    ),
    ctx.check('3.3 diagnosis: fallback data source', () => fastChecks.checkDataSources(), {
      sources: [],
      fallbackAvailable: null,
    }),
    ctx.check('3.3 diagnosis: data status', () => fastChecks.checkDataStatus(), {
      status: null,
      stale: null,
      stalenessSeconds: null,
    }),
    ctx.check('3.3 diagnosis: l1_feature_refresh DAG', () => fastChecks.checkAirflowDagRuns(), {
      dagId: null,
      running: 0,
      failed: 0,
      latestState: null,
    }),
  ]);

  if (v2) {
    // 3.3 immediate 4 and the diagnosis's "Check rate limits" need the provider's API key, which stays out of
    // this engine: the on-call is asked, in the timeline and the procedure's result.
    humanStep(
      ctx,
      '3.3 immediate: check API key validity',
      'check the TwelveData API key validity and its rate limits (usage against the plan) in the provider console; the engine holds no provider key',
    );
  }
  const outcomes: RemediationOutcome[] = [];
  let current: FreshnessReading = {
    reading: freshness.reading,
    stalenessMinutes: freshness.evidence === 'unknown' ? null : freshness.data.stalenessMinutes,
    latest: freshness.evidence === 'unknown' ? null : freshness.data.latest,
  };
  // Recovery is new bars after this one (freshDataArrived), not an age under a threshold once.
  const startLatest = current.latest ?? null;
  // The pause request waits beside the loop: the loop keeps reading, and a row that no longer fits
  // withdraws it (3.3: the kill switch at 60 minutes never waits behind a pending pause confirmation).
  let pause: Promise<RemediationOutcome> | null = null;
  let pauseSupersededBy: string | null = null;
  const settlePause = async (why: string) => {
    if (!pause) return;
    pauseSupersededBy = why;
    outcomes.push(await pause);
    pause = null;
  };
  let lastAction: DataOutagePlan['action'] | null = null;
  let autoPauseVerified = tradingStopped(ops.data.mode);
  let pauseHandled = false;
  let killHandled = false;
  /** The kill switch this procedure applied (its safety hold), while it holds. */
  let own: KillSwitchActivation | null = null;
  const seen = new Watch(ctx);
  /** Feature consistency when recovery was seen: a finding for a human, shown beside the resume request. */
  let consistencyAgainst: Reading | null = null;
  let polls = 0;
  let waitedMinutes = 0;
  let recovered = false;

  for (;;) {
    const staleness = current.stalenessMinutes;
    if (staleness !== null && freshDataArrived(startLatest, current)) {
      // Recovery verification 1-2: freshness restored, feature quality OK.
      const consistency = await ctx.check(
        '3.3 recovery: verify feature quality',
        () => fastChecks.checkConsistency(caps.championModelId),
        { modelId: caps.championModelId, status: null, failedChecks: [] },
      );
      const v = verifyDataRecovery({
        stalenessMinutes: staleness,
        consistency: consistency.evidence === 'unknown' ? null : consistency.data.status,
      });
      if (v2 && !v.recovered) {
        // 3.3 recovery is fresh data. A consistency failure can have causes unrelated to the feed (a
        // feature-builder mismatch on the real platform): it is a human's finding, not a reason to stay killed.
        ctx.report({
          step: '3.3 recovery verification',
          type: 'decision',
          outcome: 'ok',
          text: `data source recovered: latest bar ${staleness.toFixed(1)} min old; feature quality not confirmed (${v.reasons.join('; ')}): check it before approving a resume`,
        });
        humanStep(
          ctx,
          '3.3 recovery: verify feature quality',
          `feature quality not confirmed: ${consistency.text}`,
        );
        consistencyAgainst = consistency.reading;
        recovered = true;
        await settlePause('the data source recovered');
        break;
      }
      if (v.recovered) {
        ctx.report({
          step: '3.3 recovery verification',
          type: 'decision',
          outcome: 'ok',
          text: `data source recovered: latest bar ${staleness.toFixed(1)} min old, feature consistency ${consistency.data.status}`,
        });
        recovered = true;
        await settlePause('the data source recovered');
        break;
      }
      ctx.report({
        step: '3.3 recovery verification',
        type: 'decision',
        outcome: 'failed',
        text: `not recovered yet: ${v.reasons.join('; ')}`,
      });
    } else {
      // 3.3 "Mitigation Actions" by outage duration (the age of the latest bar). A reading that measured no
      // outage (query failed, no bar at all) is no row: a human step, and the next poll reads again.
      const plan = planDataOutage(current);
      if (plan.action !== lastAction) {
        if (plan.action === 'unverified') humanStep(ctx, '3.3 mitigation', plan.humanStep);
        else
          ctx.report({
            step: '3.3 mitigation',
            type: 'decision',
            outcome: 'failed',
            text: `outage ${plan.outageMinutes.toFixed(1)} minutes -> ${plan.playbookAction}`,
            data: { action: plan.action, outageMinutes: plan.outageMinutes },
          });
        lastAction = plan.action;
      }
      if (v2 && plan.action === 'wait' && !autoPauseVerified) {
        const now = await fastChecks.checkOperationsStatus().catch(() => null);
        const mode = now?.outcome === 'answered' ? now.data.mode : null;
        autoPauseVerified = tradingStopped(mode);
        seen.report(
          '3.3 mitigation: verify trading auto-paused',
          autoPauseVerified ? `trading ${mode}` : `mode ${mode ?? 'unknown'}`,
          autoPauseVerified ? 'ok' : mode === null ? 'unknown' : 'failed',
          autoPauseVerified
            ? `trading verified auto-paused (mode ${mode})`
            : `trading is NOT verified auto-paused (mode ${mode ?? 'unknown'}); a pause is asked at 10 minutes`,
        );
      } else if (plan.action === 'wait' && !autoPauseVerified) {
        const now = await ctx.check(
          '3.3 mitigation: verify trading auto-paused',
          () => fastChecks.checkOperationsStatus(),
          NO_OPERATIONS_STATUS,
        );
        autoPauseVerified = tradingStopped(now.data.mode);
        if (!autoPauseVerified)
          ctx.report({
            step: '3.3 mitigation',
            type: 'finding',
            outcome: now.evidence === 'unknown' ? 'unknown' : 'failed',
            text: `trading is NOT verified auto-paused (mode ${now.data.mode ?? 'unknown'}); a pause is asked at 10 minutes`,
          });
      }
      if (plan.action === 'confirm-pause' && !pauseHandled) {
        pauseHandled = true;
        pause = confirmPause(ctx, plan.outageMinutes, plan.justification, () => pauseSupersededBy, v2);
        // Awaited in settlePause; until then a cancellation (incident resolved) must not surface as unhandled.
        pause.catch(() => undefined);
      }
      if (plan.action === 'kill-switch' && !killHandled) {
        killHandled = true;
        await settlePause(
          `the > 60 minutes row applies now (latest bar ${plan.outageMinutes.toFixed(0)} minutes old): kill switch instead`,
        );
        const k = await killSwitch(ctx, plan.outageMinutes, plan.justification, v2);
        outcomes.push(k.outcome);
        own = k.activation;
      }
    }
    // The safety hold is re-read while the procedure waits: lifted or replaced by someone else, it is said
    // (once per change), and the outage goes on being monitored.
    if (v2 && own !== null) {
      const now = await fastChecks.checkOperationsStatus().catch(() => null);
      const d = now?.outcome === 'answered' ? now.data : null;
      const mine = own;
      const state =
        d === null
          ? 'unknown'
          : !d.killSwitchActive
            ? 'lifted'
            : sameActivation(d, mine)
              ? 'holding'
              : 'replaced';
      seen.report(
        '3.3 monitor: kill switch applied by this incident',
        state,
        state === 'holding' ? 'ok' : state === 'unknown' ? 'unknown' : 'failed',
        state === 'holding'
          ? 'the kill switch this incident applied is still active'
          : state === 'unknown'
            ? `could not read the kill switch this incident applied (${now?.text ?? 'check could not run'})`
            : state === 'lifted'
              ? `the kill switch this incident applied was lifted by someone else while the data is down (mode ${d?.mode ?? '?'}): decide whether trading may run on stale data`
              : `the kill switch this incident applied was replaced by another (by ${d?.activatedBy ?? '?'}: ${d?.reason ?? ''})`,
        state === 'lifted' || state === 'replaced',
      );
      if (state === 'lifted' || state === 'replaced') own = null;
    }

    if (waitedMinutes >= DATA_OUTAGE_MONITOR_MAX_MINUTES) {
      await settlePause('monitoring ended: left to a human');
      humanStep(
        ctx,
        '3.3 mitigation',
        `data source still down after ${waitedMinutes} playbook minutes of monitoring`,
      );
      return ctx.finish(
        'needs-human',
        `data source down for over ${DATA_OUTAGE_MONITOR_MAX_MINUTES} minutes of monitoring`,
      );
    }
    await ctx.sleepMinutes(DATA_OUTAGE_POLL_MINUTES);
    waitedMinutes += DATA_OUTAGE_POLL_MINUTES;
    polls++;
    // Monitor status: read freshness again. Every reading replaces the last one, so a query that fails now
    // is unknown now (never the previous value); only now and then is it reported (the timeline is for people).
    const f = await fastChecks.checkDataFreshness().catch(() => null);
    const evidence = f ? evidenceOf(f, ctx.thresholds) : 'unknown';
    const text = f?.text ?? 'freshness check could not run';
    const answered = f !== null && evidence !== 'unknown';
    current = {
      reading: { check: 'data-freshness', evidence, text, at: new Date(Date.now()).toISOString() },
      stalenessMinutes: answered ? f.data.stalenessMinutes : null,
      latest: answered ? f.data.latest : null,
    };
    if (v2) {
      if (polls % REPORT_EVERY_POLLS === 0)
        ctx.report({
          step: '3.3 monitor: data freshness',
          type: 'finding',
          outcome: evidence,
          text: `${text} (${polls} polls)`,
        });
    } else if (polls % REPORT_EVERY_POLLS === 0 || freshDataArrived(startLatest, current)) {
      ctx.report({ step: '3.3 monitor: data freshness', type: 'finding', outcome: evidence, text });
    }
  }

  // Recovery verification 3: resume trading if quality OK (a kill switch needs CONFIRM_RESUME).
  const opsNow = await ctx.check(
    '3.3 recovery: operations status',
    () => fastChecks.checkOperationsStatus(),
    NO_OPERATIONS_STATUS,
  );
  const held = v2 && opsNow.data.killSwitchActive ? await foreignHold(ctx, opsNow.data) : null;
  if (recovered && held !== null) {
    humanStep(
      ctx,
      '3.3 recovery: resume trading',
      `${held}: no resume is requested while that incident is open`,
    );
    outcomes.push('needs-human');
  } else if (recovered && opsNow.data.killSwitchActive) {
    const grounds = (o: typeof opsNow, fresh: Reading): ResumeGrounds => ({
      activation: o.data,
      why: `The data source recovered${consistencyAgainst ? '; feature quality is NOT confirmed (see against)' : ' and feature quality is OK'} (3.3 recovery verification).`,
      evidence: [o.text],
      justification: {
        row: '3.3 recovery verification 3: resume trading',
        requires: [
          { reading: fresh, expect: 'ok' },
          { reading: o.reading, expect: 'failed' },
        ],
        ...(consistencyAgainst ? { against: [consistencyAgainst] } : {}),
      },
      ...(v2 ? { maxStalenessMinutes: DATA_FRESH_MAX_MINUTES } : {}),
    });
    const reassess = async (): Promise<Reassessment> => {
      const f = await ctx.check(
        '3.3 recovery: data freshness (again)',
        () => fastChecks.checkDataFreshness(),
        freshFallback,
      );
      if (
        f.evidence !== 'ok' ||
        f.data.stalenessMinutes === null ||
        f.data.stalenessMinutes > DATA_FRESH_MAX_MINUTES
      )
        return {
          outcome: 'needs-human',
          text: `the data is not fresh any more (${f.text}): the kill switch stays; resume only after the data recovers again`,
        };
      const o = await ctx.check(
        '3.3 recovery: operations status (again)',
        () => fastChecks.checkOperationsStatus(),
        NO_OPERATIONS_STATUS,
      );
      if (o.evidence === 'unknown')
        return { outcome: 'needs-human', text: `could not read the kill switch again (${o.text})` };
      if (!o.data.killSwitchActive) return { outcome: 'not-needed', text: o.text };
      const h = await foreignHold(ctx, o.data);
      if (h !== null) return { outcome: 'needs-human', text: `${h}: no resume is requested` };
      return { grounds: grounds(o, f.reading) };
    };
    outcomes.push(
      await requestResume(ctx, '3.3 recovery: resume trading', grounds(opsNow, current.reading), reassess),
    );
  } else if (opsNow.data.mode === 'paused') {
    humanStep(
      ctx,
      '3.3 recovery: resume trading',
      'trading is paused, not killed: the platform resume does not lift a pause (trading-platform.md); the auto-pause lifts itself or an operator unpauses on the dashboard',
    );
  }
  const outcome = outcomes.includes('failed')
    ? 'failed'
    : outcomes.some((o) => o === 'rejected' || o === 'needs-human' || o === 'not-configured')
      ? 'needs-human'
      : 'completed';
  return ctx.finish(
    outcome,
    `data source recovered${killHandled ? ' after the kill switch' : pauseHandled ? ' after the pause confirmation' : ' within the wait window'}; ${outcome === 'completed' ? 'verified' : 'a decision is left to a human'}`,
  );
}

/** 3.3 10-60 minutes: "Manual pause confirmation, monitor status". */
async function confirmPause(
  ctx: ProcedureContext,
  minutes: number,
  justification: Justification,
  supersededBy: () => string | null,
  guarded: boolean,
): Promise<RemediationOutcome> {
  const ops = await ctx.check(
    '3.3 mitigation: operations status',
    () => fastChecks.checkOperationsStatus(),
    NO_OPERATIONS_STATUS,
  );
  const paused = tradingStopped(ops.data.mode);
  const gate = await approvalGate(ctx, {
    action: 'pause',
    description: paused
      ? `Confirm trading stays ${ops.data.mode} while the data source is down (${minutes.toFixed(0)} minutes); no platform call is needed`
      : `Pause trading: POST /operations/pause (data source down ${minutes.toFixed(0)} minutes, trading not auto-paused)`,
    evidence: [ops.text, `latest bar ${minutes.toFixed(1)} minutes old`],
    justification,
    supersededBy,
  });
  if (gate.decision === 'superseded') return 'not-needed';
  if (!gatePassed(gate)) return gate.decision === 'rejected' ? 'rejected' : 'needs-human';
  try {
    const r = await remediations.pauseTrading({
      pausedBy: guarded
        ? engineActor(gate.by, ctx.input.incidentId)
        : gate.by
          ? `${gate.by} via incident-response`
          : 'incident-response',
      reason: `Data source down ${minutes.toFixed(0)} minutes (3.3)`,
      ...(guarded
        ? {
            preconditions: [{ kind: 'data-stale' as const, minMinutes: DATA_OUTAGE_WAIT_MAX_MINUTES }],
            incidentId: ctx.input.incidentId,
          }
        : {}),
    });
    if (r.refused) return refusedCall(ctx, '3.3 mitigation: manual pause confirmation', gate, r.refused);
    ctx.report({
      step: '3.3 mitigation: manual pause confirmation',
      type: 'action',
      outcome: 'ok',
      text: r.applied
        ? `trading paused (${gate.actionId})`
        : `pause confirmed (${gate.actionId}): ${r.message}`,
      data: {
        actionId: gate.actionId,
        applied: r.applied,
        ...(r.applied && guarded
          ? {
              safetyHold: hold('applied', 'pause', gate.actionId, {
                activatedAt: gate.at,
                activatedBy: engineActor(gate.by, ctx.input.incidentId),
                reason: `Data source down ${minutes.toFixed(0)} minutes (3.3)`,
              }),
            }
          : {}),
      },
    });
    return 'done';
  } catch (err) {
    ctx.report({
      step: '3.3 mitigation: manual pause confirmation',
      type: 'action',
      outcome: 'failed',
      text: `pause failed: ${errorMessage(err)}`,
    });
    return 'failed';
  }
}

/** 3.3 over 60 minutes: "Activate kill switch, notify team" (pre-approvable: kill-switch:data-outage-60m). */
async function killSwitch(
  ctx: ProcedureContext,
  minutes: number,
  justification: Justification,
  guarded: boolean,
): Promise<{ outcome: RemediationOutcome; activation: KillSwitchActivation | null }> {
  const outage = `${minutes.toFixed(0)} minutes`;
  const gate = await approvalGate(ctx, {
    action: 'kill-switch',
    description: `Activate the kill switch: POST /operations/kill-switch (close positions, notify team): data source down ${outage} (> 60)`,
    evidence: [`latest bar ${outage} old`],
    justification,
    preApprovalKey: KILL_SWITCH_DATA_OUTAGE_ACTION,
  });
  if (!gatePassed(gate))
    return { outcome: gate.decision === 'rejected' ? 'rejected' : 'needs-human', activation: null };
  const reason = `Data source down ${outage} (playbook 3.3)`;
  // The incident's id in activated_by makes the kill switch this incident's safety hold (src/playbook/safety.ts).
  const activatedBy = guarded
    ? engineActor(gate.by, ctx.input.incidentId)
    : gate.by === 'policy'
      ? 'incident-response (pre-approved)'
      : `${gate.by} via incident-response`;
  try {
    const r = await remediations.activateKillSwitch({
      reason,
      activatedBy,
      closePositions: true,
      notifyTeam: true,
      ...(guarded
        ? {
            preconditions: [
              { kind: 'data-stale' as const, minMinutes: DATA_OUTAGE_KILL_SWITCH_AFTER_MINUTES },
            ],
            incidentId: ctx.input.incidentId,
          }
        : {}),
    });
    if (r.refused)
      return {
        outcome: refusedCall(ctx, '3.3 mitigation: activate kill switch', gate, r.refused),
        activation: null,
      };
    const activation: KillSwitchActivation | null = r.applied
      ? { activatedAt: r.activatedAt, activatedBy, reason }
      : null;
    ctx.report({
      step: '3.3 mitigation: activate kill switch',
      type: 'action',
      outcome: 'ok',
      text: r.applied ? `kill switch activated (${gate.actionId}): ${r.message}` : r.message,
      data: {
        actionId: gate.actionId,
        applied: r.applied,
        ...(activation && guarded
          ? { safetyHold: hold('applied', 'kill-switch', gate.actionId, activation) }
          : {}),
      },
    });
    // "notify team": the platform notifies with notify_team; the incident announces it on its channels.
    ctx.report({
      step: '3.3 mitigation: notify team',
      type: 'action',
      outcome: 'ok',
      text: `kill switch active: data source down ${outage}; trading stopped until recovery is verified and resume approved with CONFIRM_RESUME`,
      data: { notify: 'team' },
    });
    return { outcome: 'done', activation: guarded ? activation : null };
  } catch (err) {
    ctx.report({
      step: '3.3 mitigation: activate kill switch',
      type: 'action',
      outcome: 'failed',
      text: `kill switch failed: ${errorMessage(err)}`,
    });
    return { outcome: 'failed', activation: null };
  }
}

/** The guard refused an approved call at the moment of the call: withdrawn, with the reasons, and said. */
function refusedCall(
  ctx: ProcedureContext,
  step: string,
  gate: { actionId: string; by: string | null },
  reasons: string[],
): RemediationOutcome {
  ctx.report({
    step,
    type: 'decision',
    outcome: 'unknown',
    text: `${gate.actionId} withdrawn: ${gate.by === 'policy' ? 'pre-approved' : `approved by ${gate.by ?? '?'}`}, but not performed because its grounds are gone at the call: ${reasons.join('; ')}`,
    data: { actionId: gate.actionId, refused: reasons, notify: 'team' },
  });
  return 'not-needed';
}

/**
 * Polls record what changed, not what they found again: each step reports when its state changes, with how
 * often the previous state was seen (3.3 polls every playbook minute for up to four hours).
 */
class Watch {
  private readonly last = new Map<string, { state: string; seen: number }>();
  constructor(private readonly ctx: ProcedureContext) {}
  report(
    step: string,
    state: string,
    outcome: 'ok' | 'failed' | 'unknown',
    text: string,
    notifyTeam = false,
  ): void {
    const prev = this.last.get(step);
    if (prev?.state === state) {
      prev.seen += 1;
      return;
    }
    this.last.set(step, { state, seen: 1 });
    this.ctx.report({
      step,
      type: 'finding',
      outcome,
      text: prev && prev.seen > 1 ? `${text} (the previous state was read ${prev.seen} times)` : text,
      ...(notifyTeam ? { data: { notify: 'team' } } : {}),
    });
  }
}
