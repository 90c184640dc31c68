// 3.3 P1: Data Source Down (TwelveData), as a child workflow of incidentWorkflow.
import {
  DATA_FRESH_MAX_MINUTES,
  DATA_OUTAGE_MONITOR_MAX_MINUTES,
  DATA_OUTAGE_POLL_MINUTES,
  KILL_SWITCH_DATA_OUTAGE_ACTION,
  decideDataOutage,
  tradingStopped,
  verifyDataRecovery,
  type DataOutageAction,
} from '../../playbook/procedures';
import type { ProcedureInput, ProcedureResult } from '../definitions';
import { approvalGate, gatePassed } from './approval-gate';
import { errorMessage, fastChecks, openProcedure, remediations } from './common';
import { humanStep, requestResume, type RemediationOutcome } from './remediations';

const PROCEDURE = '3.3 data-source-down';
const opsFallback = {
  mode: null,
  killSwitchActive: null,
  reason: null,
  activatedBy: null,
  activatedAt: null,
};
const freshFallback = { latest: null, stalenessMinutes: null };
/** Report the freshness while waiting only every this many polls (or when the table row changes). */
const REPORT_EVERY_POLLS = 10;

export async function dataSourceDownProcedure(input: ProcedureInput): Promise<ProcedureResult> {
  const ctx = openProcedure(PROCEDURE, input);
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
      opsFallback,
    ),
  ]);
  // Diagnosis (5-15 minutes).
  await Promise.all([
    ctx.check(
      '3.3 diagnosis: data pipeline logs',
      () => fastChecks.checkContainerLogs(caps.airflowScheduler, 'twelvedata'),
      { container: caps.airflowScheduler, lines: [], outOfMemory: false, diskFull: false },
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

  const outcomes: RemediationOutcome[] = [];
  let staleness = freshness.data.stalenessMinutes;
  let lastAction: DataOutageAction | 'recovered' | null = null;
  let autoPauseVerified = tradingStopped(ops.data.mode);
  let pauseHandled = false;
  let killHandled = false;
  let polls = 0;
  let waitedMinutes = 0;
  let recovered = false;

  for (;;) {
    if (staleness !== null && staleness <= DATA_FRESH_MAX_MINUTES) {
      // Recovery verification 1-2: freshness restored, feature quality OK.
      const consistency = await ctx.check(
        '3.3 recovery: verify feature quality',
        () => fastChecks.checkConsistency(caps.championModelId),
        { modelId: caps.championModelId, status: null, failedChecks: [] },
      );
      const v = verifyDataRecovery({ stalenessMinutes: staleness, consistency: consistency.data.status });
      if (v.recovered) {
        ctx.report({
          step: '3.3 recovery verification',
          type: 'decision',
          outcome: 'ok',
          text: `data source recovered: latest bar ${staleness.toFixed(1)} min old, feature consistency ${consistency.data.status}`,
        });
        recovered = true;
        break;
      }
      ctx.report({
        step: '3.3 recovery verification',
        type: 'decision',
        outcome: 'failed',
        text: `not recovered yet: ${v.reasons.join('; ')}`,
      });
    } else {
      // 3.3 "Mitigation Actions" by outage duration (the age of the latest bar; no bar at all counts as over 60).
      const minutes = staleness ?? Number.POSITIVE_INFINITY;
      const d = decideDataOutage(minutes);
      if (d.action !== lastAction) {
        ctx.report({
          step: '3.3 mitigation',
          type: 'decision',
          outcome: 'failed',
          text: `outage ${Number.isFinite(minutes) ? `${minutes.toFixed(1)} minutes` : 'with no data at all'} -> ${d.playbookAction}`,
          data: { action: d.action, outageMinutes: Number.isFinite(minutes) ? minutes : null },
        });
        lastAction = d.action;
      }
      if (d.action === 'wait' && !autoPauseVerified) {
        const now = await ctx.check(
          '3.3 mitigation: verify trading auto-paused',
          () => fastChecks.checkOperationsStatus(),
          opsFallback,
        );
        autoPauseVerified = tradingStopped(now.data.mode);
        if (!autoPauseVerified)
          ctx.report({
            step: '3.3 mitigation',
            type: 'finding',
            outcome: 'failed',
            text: `trading is NOT auto-paused (mode ${now.data.mode ?? 'unknown'}); a pause is asked at 10 minutes`,
          });
      }
      if (d.action === 'confirm-pause' && !pauseHandled) {
        pauseHandled = true;
        outcomes.push(await confirmPause(ctx, minutes));
      }
      if (d.action === 'kill-switch' && !killHandled) {
        killHandled = true;
        outcomes.push(await killSwitch(ctx, minutes));
      }
    }

    if (waitedMinutes >= DATA_OUTAGE_MONITOR_MAX_MINUTES) {
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
    // Monitor status: read freshness; report it only now and then (the timeline is for people).
    const f = await fastChecks.checkDataFreshness().catch(() => null);
    staleness = f?.data.stalenessMinutes ?? staleness;
    if (
      f &&
      (polls % REPORT_EVERY_POLLS === 0 || (staleness !== null && staleness <= DATA_FRESH_MAX_MINUTES))
    ) {
      ctx.report({ step: '3.3 monitor: data freshness', type: 'finding', outcome: f.outcome, text: f.text });
    }
  }

  // Recovery verification 3: resume trading if quality OK (a kill switch needs CONFIRM_RESUME).
  const opsNow = await ctx.check(
    '3.3 recovery: operations status',
    () => fastChecks.checkOperationsStatus(),
    opsFallback,
  );
  if (recovered && opsNow.data.killSwitchActive) {
    outcomes.push(
      await requestResume(
        ctx,
        '3.3 recovery: resume trading',
        'The data source recovered and feature quality is OK (3.3 recovery verification).',
        [opsNow.text],
      ),
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
  ctx: ReturnType<typeof openProcedure>,
  minutes: number,
): Promise<RemediationOutcome> {
  const ops = await ctx.check(
    '3.3 mitigation: operations status',
    () => fastChecks.checkOperationsStatus(),
    opsFallback,
  );
  const paused = tradingStopped(ops.data.mode);
  const gate = await approvalGate(ctx, {
    action: 'pause',
    description: paused
      ? `Confirm trading stays ${ops.data.mode} while the data source is down (${minutes.toFixed(0)} minutes); no platform call is needed`
      : `Pause trading: POST /operations/pause (data source down ${minutes.toFixed(0)} minutes, trading not auto-paused)`,
    evidence: [ops.text, `latest bar ${minutes.toFixed(1)} minutes old`],
  });
  if (!gatePassed(gate)) return gate.decision === 'rejected' ? 'rejected' : 'needs-human';
  try {
    const r = await remediations.pauseTrading({
      pausedBy: gate.by ? `${gate.by} via incident-response` : 'incident-response',
      reason: `Data source down ${minutes.toFixed(0)} minutes (3.3)`,
    });
    ctx.report({
      step: '3.3 mitigation: manual pause confirmation',
      type: 'action',
      outcome: 'ok',
      text: r.applied
        ? `trading paused (${gate.actionId})`
        : `pause confirmed (${gate.actionId}): ${r.message}`,
      data: { actionId: gate.actionId, applied: r.applied },
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
  ctx: ReturnType<typeof openProcedure>,
  minutes: number,
): Promise<RemediationOutcome> {
  const outage = Number.isFinite(minutes) ? `${minutes.toFixed(0)} minutes` : 'no data at all';
  const gate = await approvalGate(ctx, {
    action: 'kill-switch',
    description: `Activate the kill switch: POST /operations/kill-switch (close positions, notify team): data source down ${outage} (> 60)`,
    evidence: [`latest bar ${outage} old`],
    preApprovalKey: KILL_SWITCH_DATA_OUTAGE_ACTION,
  });
  if (!gatePassed(gate)) return gate.decision === 'rejected' ? 'rejected' : 'needs-human';
  try {
    const r = await remediations.activateKillSwitch({
      reason: `Data source down ${outage} (playbook 3.3)`,
      activatedBy:
        gate.by === 'policy' ? 'incident-response (pre-approved)' : `${gate.by} via incident-response`,
      closePositions: true,
      notifyTeam: true,
    });
    ctx.report({
      step: '3.3 mitigation: activate kill switch',
      type: 'action',
      outcome: 'ok',
      text: r.applied ? `kill switch activated (${gate.actionId}): ${r.message}` : r.message,
      data: { actionId: gate.actionId, applied: r.applied },
    });
    // "notify team": the platform notifies with notify_team; the incident announces it on its channels.
    ctx.report({
      step: '3.3 mitigation: notify team',
      type: 'action',
      outcome: 'ok',
      text: `kill switch active: data source down ${outage}; trading stopped until recovery is verified and resume approved with CONFIRM_RESUME`,
      data: { notify: 'team' },
    });
    return 'done';
  } catch (err) {
    ctx.report({
      step: '3.3 mitigation: activate kill switch',
      type: 'action',
      outcome: 'failed',
      text: `kill switch failed: ${errorMessage(err)}`,
    });
    return 'failed';
  }
}
