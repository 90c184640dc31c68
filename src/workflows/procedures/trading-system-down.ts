// 3.1 P0: Trading System Down, as a child workflow of incidentWorkflow.
import { diagnoseTradingSystemDown, type ServiceFacts } from '../../playbook/procedures';
import type { ProcedureInput, ProcedureResult } from '../definitions';
import { fastChecks, openProcedure, type ProcedureContext } from './common';
import {
  humanStep,
  overall,
  requestResume,
  restartContainers,
  rollbackModel,
  type RemediationOutcome,
} from './remediations';

const PROCEDURE = '3.1 trading-system-down';

const healthFallback = (service: 'trading' | 'inference') => ({
  service,
  container: service,
  reachable: false,
  reachError: null,
  healthy: null,
  databaseConnected: null,
  modelLoaded: null,
});
const opsFallback = {
  mode: null,
  killSwitchActive: null,
  reason: null,
  activatedBy: null,
  activatedAt: null,
};

async function healthChecks(ctx: ProcedureContext, step: string) {
  const [trading, inference] = await Promise.all([
    ctx.check(
      `${step}: trading-api health`,
      () => fastChecks.checkServiceHealth('trading'),
      healthFallback('trading'),
    ),
    ctx.check(
      `${step}: inference-api health`,
      () => fastChecks.checkServiceHealth('inference'),
      healthFallback('inference'),
    ),
  ]);
  return { trading, inference };
}

export async function tradingSystemDownProcedure(input: ProcedureInput): Promise<ProcedureResult> {
  const ctx = openProcedure(PROCEDURE, input);
  const caps = await fastChecks.platformCapabilities();

  // Immediate actions (0-5 minutes). Step 1, the ACK in #trading-incidents, is the incident's start notification.
  const { trading, inference } = await healthChecks(ctx, '3.1 immediate: check system status');
  const [ops, containers] = await Promise.all([
    ctx.check(
      '3.1 immediate: check kill switch status',
      () => fastChecks.checkOperationsStatus(),
      opsFallback,
    ),
    ctx.check('3.1 immediate: check container status', () => fastChecks.checkContainers(), {
      containers: null,
    }),
  ]);

  // Diagnosis (5-15 minutes).
  const [logs, db, redis, models] = await Promise.all([
    Promise.all(
      caps.apiContainers.map((c) =>
        ctx.check(`3.1 diagnosis: service logs ${c}`, () => fastChecks.checkContainerLogs(c, 'errors'), {
          container: c,
          lines: [],
          outOfMemory: false,
          diskFull: false,
        }),
      ),
    ),
    ctx.check('3.1 diagnosis: database connectivity', () => fastChecks.checkDatabase(), {
      reachable: false,
      pingMs: null,
      error: null,
    }),
    ctx.check('3.1 diagnosis: Redis', () => fastChecks.checkRedis(), { reachable: false, latencyMs: null }),
    ctx.check('3.1 diagnosis: model status', () => fastChecks.checkModels(), { models: [], notLoaded: [] }),
    ctx.check('3.1 diagnosis: Airflow DAGs', () => fastChecks.checkAirflowDagRuns(), {
      dagId: null,
      running: 0,
      failed: 0,
      latestState: null,
    }),
  ]);

  const services: ServiceFacts[] = [trading, inference].map((f) => ({
    container: f.data.container,
    reachable: f.data.reachable,
    reachError: f.data.reachError,
    healthy: f.data.healthy,
    databaseConnected: f.data.databaseConnected,
    modelLoaded: f.data.modelLoaded,
  }));
  const diagnosis = diagnoseTradingSystemDown({
    services,
    containers: containers.data.containers,
    databaseReachable: db.outcome === 'unknown' ? null : db.data.reachable,
    redisReachable: redis.outcome === 'unknown' ? null : redis.data.reachable,
    modelNotLoaded: models.data.notLoaded.length > 0 || services.some((s) => s.modelLoaded === false),
    logsShowOutOfMemory: logs.some((l) => l.data.outOfMemory),
    killSwitch:
      ops.data.killSwitchActive === null
        ? null
        : { active: ops.data.killSwitchActive, reason: ops.data.reason, activatedBy: ops.data.activatedBy },
    apiContainers: caps.apiContainers,
    databaseContainer: caps.commands.includes(`restart:${caps.databaseContainer}`)
      ? caps.databaseContainer
      : null,
  });
  if (redis.data.reachable === false)
    humanStep(
      ctx,
      '3.1 diagnosis: Redis',
      'Redis does not answer PING: check the redis container (not a 3.1 table row)',
    );

  for (const c of diagnosis.causes) {
    ctx.report({
      step: '3.1 resolution',
      type: 'decision',
      outcome: 'failed',
      text: `cause: ${c.row.playbookCause} -> ${c.row.playbookResolution} (${c.evidence.join('; ')})`,
      data: { cause: c.cause, evidence: c.evidence, remediation: c.remediation },
    });
  }
  if (diagnosis.causes.length === 0 && !diagnosis.resumeRequest) {
    const allOk = [trading, inference].every((f) => f.outcome === 'ok');
    ctx.report({
      step: '3.1 resolution',
      type: 'decision',
      outcome: 'unknown',
      text: allOk
        ? 'both APIs healthy and no kill switch: no row of the 3.1 table applies'
        : 'no row of the 3.1 table matches the findings',
    });
    return ctx.finish(
      'needs-human',
      allOk
        ? 'trading system looks healthy; no cause from the 3.1 table found'
        : 'no cause from the 3.1 table matched; a human diagnoses',
    );
  }

  const outcomes: RemediationOutcome[] = [];
  const restarted = new Set<string>();
  for (const c of diagnosis.causes) {
    const step = `3.1 resolution: ${c.row.playbookCause}`;
    const r = c.remediation;
    if (r.kind === 'restart-containers') {
      const todo = r.containers.filter((x) => !restarted.has(x));
      if (todo.length === 0) continue;
      todo.forEach((x) => restarted.add(x));
      outcomes.push(
        await restartContainers(ctx, step, todo, caps.commands, c.row.playbookResolution, c.evidence),
      );
      if (c.cause === 'memory-exhaustion')
        humanStep(ctx, step, 'check for memory leaks (memory growth of the restarted containers)');
    } else if (r.kind === 'rollback-model') {
      outcomes.push(
        (await rollbackModel(ctx, step, 'Model file corrupted: model not loaded (3.1)', c.evidence)).outcome,
      );
    } else if (r.kind === 'human') {
      humanStep(ctx, step, r.step);
      outcomes.push('needs-human');
    }
  }

  // Verify: both APIs healthy again; then 3.1 step 5, a kill switch left active is a resume request.
  const after = diagnosis.causes.length
    ? await healthChecks(ctx, '3.1 verify: system status')
    : { trading, inference };
  const healthy = after.trading.outcome === 'ok' && after.inference.outcome === 'ok';
  const opsNow = diagnosis.causes.length
    ? await ctx.check('3.1 verify: kill switch status', () => fastChecks.checkOperationsStatus(), opsFallback)
    : ops;
  if (opsNow.data.killSwitchActive) {
    if (healthy) {
      outcomes.push(
        await requestResume(
          ctx,
          '3.1 immediate: kill switch active unintentionally -> resume',
          `The kill switch is active (by ${opsNow.data.activatedBy ?? '?'}: ${opsNow.data.reason ?? 'no reason'}) while both APIs are healthy. Approve only if it was not activated on purpose.`,
          [opsNow.text, after.trading.text, after.inference.text],
        ),
      );
    } else {
      humanStep(
        ctx,
        '3.1 immediate: kill switch',
        'kill switch active and the system is not healthy yet: resume after the cause is fixed',
      );
      outcomes.push('needs-human');
    }
  }

  const outcome = overall(outcomes, healthy);
  const causes =
    diagnosis.causes.map((c) => c.row.playbookCause).join(', ') || 'kill switch active unintentionally';
  return ctx.finish(
    outcome,
    `${causes}: ${outcome === 'completed' ? 'remediated and verified healthy' : outcome === 'failed' ? 'a remediation failed' : 'waiting on a human step or decision'}`,
  );
}
