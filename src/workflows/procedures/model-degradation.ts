// 3.2 P1: Model Performance Degradation, as a child workflow of incidentWorkflow.
import {
  MODEL_MONITOR_INTERVAL_MINUTES,
  POST_ROLLBACK_MONITOR_MINUTES,
  decideModelDegradation,
  degradedAgain,
  type DegradationAction,
} from '../../playbook/procedures';
import type { ProcedureInput, ProcedureResult } from '../../playbook/contract/procedure';
import type { Reading } from '../../playbook/evidence';
import { evidenceOf, fastChecks, NO_ROUTER_STATUS, openProcedure, type ProcedureContext } from './common';
import { humanStep, rollbackModel } from './remediations';

const PROCEDURE = '3.2 model-degradation';
const METRICS_WINDOW = '7d';
/** While monitoring, the recent window (3.2 "monitor closely"). */
const MONITOR_WINDOW = '24h';

/** A Sharpe reading that put the model in a row of the 3.2 table, and where it came from. */
interface SharpeTrigger {
  sharpe: number | null;
  reading: Reading;
  window: string;
}
const metricsFallback = (modelId: string) => ({
  modelId,
  sharpe: null,
  winRate: null,
  errorRate: null,
  consecutiveLosses: null,
});

export async function modelDegradationProcedure(input: ProcedureInput): Promise<ProcedureResult> {
  const ctx = openProcedure(PROCEDURE, input);
  const caps = await fastChecks.platformCapabilities();
  const model = caps.championModelId;

  // Immediate actions (0-5 minutes); step 1, the ACK, is the incident's start notification.
  await Promise.all([
    ctx.check('3.2 immediate: current model status', () => fastChecks.checkRouterStatus(), NO_ROUTER_STATUS),
    ctx.check('3.2 immediate: recent predictions', () => fastChecks.checkRouterHistory(20), {
      count: 0,
      disagreements: 0,
    }),
    ctx.check('3.2 immediate: drift metrics', () => fastChecks.checkDrift(), {
      score: null,
      driftDetected: null,
      source: null,
    }),
  ]);
  // Diagnosis (5-30 minutes).
  const [metrics, , , dataStatus, shadow] = await Promise.all([
    ctx.check(
      '3.2 diagnosis: compare to historical metrics',
      () => fastChecks.checkModelMetrics(model, METRICS_WINDOW),
      metricsFallback(model),
    ),
    ctx.check('3.2 diagnosis: feature quality', () => fastChecks.checkConsistency(model), {
      modelId: model,
      status: null,
      failedChecks: [],
    }),
    ctx.check('3.2 diagnosis: recent trades', () => fastChecks.checkRecentTrades(), {
      count: 0,
      consecutiveLosses: 0,
      winRate: null,
      pnlSum: 0,
    }),
    ctx.check('3.2 diagnosis: data source freshness', () => fastChecks.checkDataStatus(), {
      status: null,
      stale: null,
      stalenessSeconds: null,
    }),
    ctx.check('3.2 diagnosis: shadow model comparison', () => fastChecks.checkShadowComparison(), {
      championSharpe: null,
      shadowSharpe: null,
      agreementRate: null,
      recommendation: null,
    }),
  ]);
  if (dataStatus.outcome === 'unavailable') {
    // Missing on the deployed code: the SQL freshness check answers the same question.
    await ctx.check('3.2 diagnosis: data source freshness (SQL)', () => fastChecks.checkDataFreshness(), {
      latest: null,
      stalenessMinutes: null,
    });
  }

  // Only a reading that answered gives a Sharpe (DESIGN "Evidence rule"); the shadow comparison's champion
  // figure stands in when the metrics endpoint has none.
  const fromMetrics = metrics.evidence === 'unknown' ? null : metrics.data.sharpe;
  const fromShadow = shadow.evidence === 'unknown' ? null : shadow.data.championSharpe;
  const sharpe = fromMetrics ?? fromShadow;
  // The reading that decides the table's row now: the diagnosis's, then the monitor's when it degrades again.
  let trigger: SharpeTrigger = {
    sharpe,
    reading: fromMetrics !== null ? metrics.reading : shadow.reading,
    window: fromMetrics !== null ? METRICS_WINDOW : 'shadow comparison',
  };
  let action: DegradationAction = decideModelDegradation(sharpe).action;
  report(ctx, sharpe, false);

  // The 3.2 table, applied again if the model degrades further while monitored (at most twice).
  for (let round = 0; round < 3; round++) {
    if (action === 'none')
      return ctx.finish('completed', `Sharpe ${sharpe} >= 0.8: no action from the 3.2 table`);
    if (action === 'unknown') {
      humanStep(
        ctx,
        '3.2 resolution',
        'the Sharpe ratio is not available on this deployment: judge the degradation from the findings',
      );
      return ctx.finish('needs-human', 'Sharpe ratio not available: a human judges the degradation');
    }
    if (action === 'shadow-comparison') {
      // 3.2 "Activate shadow mode comparison": the platform has no operation that turns it on (only GET
      // /models/shadow/comparison, a reading), so it is a human step; the comparison read so far goes with it.
      humanStep(
        ctx,
        '3.2 resolution: activate shadow mode comparison',
        `enable the shadow model on the router and compare it with the champion (no platform call does this)${shadow.evidence === 'unknown' ? '' : `; comparison so far: ${shadow.text}`}`,
      );
      const next = await monitor(
        ctx,
        model,
        POST_ROLLBACK_MONITOR_MINUTES,
        'significant degradation',
        (s) => decideModelDegradation(s).action === 'rollback',
      );
      if (next === null)
        return ctx.finish(
          'needs-human',
          'significant degradation: shadow mode comparison left to a human, monitored without further degradation',
        );
      trigger = next;
      action = 'rollback';
      continue;
    }
    if (action === 'monitor') {
      const next = await monitor(
        ctx,
        model,
        POST_ROLLBACK_MONITOR_MINUTES,
        'minor degradation',
        degradedAgain,
      );
      if (next === null)
        return ctx.finish('completed', 'minor degradation: monitored closely, no immediate action needed');
      trigger = next;
      action = decideModelDegradation(next.sharpe).action;
      continue;
    }
    // Severe: rollback procedure 1-3, then 4 "Monitor for 30 minutes post-rollback".
    const r = await rollbackModel(
      ctx,
      '3.2 rollback procedure',
      // The approver and the platform's rollback call cite the reading that triggered it (its window too).
      `Performance degradation - Sharpe (${trigger.window}) dropped to ${trigger.sharpe ?? '?'}`,
      [],
      {
        row: '3.2 severe degradation (Sharpe < 0.3): Execute rollback to previous model',
        requires: [{ reading: trigger.reading, expect: 'failed' }],
        against: trigger.reading === metrics.reading ? [] : [metrics.reading],
      },
    );
    if (r.outcome !== 'done') {
      return ctx.finish(
        r.outcome === 'failed' ? 'failed' : 'needs-human',
        `severe degradation: rollback ${r.outcome === 'failed' ? 'failed' : r.outcome === 'rejected' ? 'rejected' : 'not approved'}`,
      );
    }
    const again = await monitor(ctx, model, POST_ROLLBACK_MONITOR_MINUTES, 'post-rollback', degradedAgain);
    if (again === null)
      return ctx.finish(
        'completed',
        `severe degradation: rolled back to ${r.newModel ?? 'the previous model'}, verified, 30 minutes without degradation`,
      );
    return ctx.finish(
      'needs-human',
      `rolled back to ${r.newModel ?? 'the previous model'} but the model degraded again (Sharpe ${again.sharpe}): re-escalated`,
    );
  }
  return ctx.finish('needs-human', 'the model kept degrading while monitored: re-escalated');
}

function report(ctx: ProcedureContext, sharpe: number | null, reescalate: boolean): void {
  const d = decideModelDegradation(sharpe);
  ctx.report({
    step: '3.2 resolution options',
    type: 'decision',
    outcome: d.action === 'none' ? 'ok' : d.action === 'unknown' ? 'unknown' : 'failed',
    text: `Sharpe ${sharpe ?? 'unknown'} -> ${d.severity} degradation: ${d.playbookAction}`,
    data: { sharpe, action: d.action, severity: d.severity, ...(reescalate ? { reescalate: true } : {}) },
  });
}

/**
 * Reads the Sharpe every MODEL_MONITOR_INTERVAL_MINUTES for `minutes` (timers, playbook time). Returns the
 * Sharpe that tripped `worse` after re-escalating (a 'decision' procedureEvent with {reescalate: true}), or null.
 */
async function monitor(
  ctx: ProcedureContext,
  model: string,
  minutes: number,
  what: string,
  worse: (sharpe: number | null) => boolean,
): Promise<SharpeTrigger | null> {
  ctx.report({
    step: `3.2 monitor (${what})`,
    type: 'info',
    text: `monitoring the Sharpe every ${MODEL_MONITOR_INTERVAL_MINUTES} minutes for ${minutes} minutes`,
  });
  for (let waited = 0; waited < minutes; waited += MODEL_MONITOR_INTERVAL_MINUTES) {
    await ctx.sleepMinutes(MODEL_MONITOR_INTERVAL_MINUTES);
    const m = await fastChecks.checkModelMetrics(model, MONITOR_WINDOW).catch(() => null);
    const answered = m !== null && m.outcome === 'answered';
    const sharpe = answered ? m.data.sharpe : null;
    if (m && worse(sharpe)) {
      const evidence = evidenceOf(m, ctx.thresholds);
      ctx.report({ step: `3.2 monitor (${what})`, type: 'finding', outcome: evidence, text: m.text });
      report(ctx, sharpe, true);
      return {
        sharpe,
        reading: { check: m.check, evidence, text: m.text, at: new Date(Date.now()).toISOString() },
        window: MONITOR_WINDOW,
      };
    }
  }
  ctx.report({
    step: `3.2 monitor (${what})`,
    type: 'finding',
    outcome: 'ok',
    text: `no further degradation in ${minutes} minutes`,
  });
  return null;
}
