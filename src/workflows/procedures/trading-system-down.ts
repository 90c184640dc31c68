// 3.1 P0: Trading System Down, as a child workflow of incidentWorkflow.
import { diagnoseTradingSystemDown, type ServiceFacts } from '../../playbook/procedures';
import type { ProcedureInput, ProcedureResult } from '../../playbook/contract/procedure';
import {
  fastChecks,
  NO_OPERATIONS_STATUS,
  openProcedure,
  type Judged,
  type ProcedureContext,
} from './common';
import {
  foreignHold,
  humanStep,
  overall,
  type OperationsData,
  requestResume,
  restartContainers,
  rollbackModel,
  type Reassessment,
  type RemediationOutcome,
  type ResumeGrounds,
} from './remediations';

const PROCEDURE = '3.1 trading-system-down';

const healthFallback = (service: 'trading' | 'inference') => ({
  service,
  container: service,
  reachable: false,
  reachError: null,
  status: null,
  databaseConnected: null,
  modelLoaded: null,
});

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
      NO_OPERATIONS_STATUS,
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
          filter: 'errors' as const,
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
      sqlState: null,
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
    health: f.reading,
    reachError: f.data.reachError,
    databaseConnected: f.outcome === 'unknown' ? null : f.data.databaseConnected,
    modelLoaded: f.outcome === 'unknown' ? null : f.data.modelLoaded,
  }));
  const diagnosis = diagnoseTradingSystemDown({
    services,
    containers: {
      reading: containers.reading,
      list:
        containers.outcome === 'unknown' || containers.outcome === 'unavailable'
          ? null
          : containers.data.containers,
    },
    database: db.reading,
    redis: redis.reading,
    models: { reading: models.reading, notLoaded: models.data.notLoaded },
    logs: logs.map((l) => ({
      reading: l.reading,
      outOfMemory: l.evidence === 'failed' && l.data.outOfMemory,
    })),
    killSwitch: {
      reading: ops.reading,
      active: ops.evidence === 'unknown' ? null : ops.data.killSwitchActive,
      reason: ops.data.reason,
      activatedBy: ops.data.activatedBy,
    },
    apiContainers: caps.apiContainers,
    databaseContainer: caps.commands.includes(`restart:${caps.databaseContainer}`)
      ? caps.databaseContainer
      : null,
  });
  if (redis.evidence !== 'ok')
    humanStep(
      ctx,
      '3.1 diagnosis: Redis',
      `could not verify Redis (${redis.text}): check the redis container (not a 3.1 table row)`,
    );
  for (const step of diagnosis.unverified) humanStep(ctx, '3.1 diagnosis', step);

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
    const allOk = [trading, inference].every((f) => f.evidence === 'ok');
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

  // Redis down is a fault outside the 3.1 table: whatever else is remediated, the procedure does not end
  // "completed" while it stands (game day: Redis unreachable reported as done).
  const outcomes: RemediationOutcome[] = redis.evidence === 'ok' ? [] : ['needs-human'];
  const restarted = new Set<string>();
  for (const c of diagnosis.causes) {
    const step = `3.1 resolution: ${c.row.playbookCause}`;
    const r = c.remediation;
    if (r.kind === 'restart-containers') {
      const todo = r.containers.filter((x) => !restarted.has(x));
      if (todo.length === 0) continue;
      todo.forEach((x) => restarted.add(x));
      outcomes.push(
        await restartContainers(
          ctx,
          step,
          todo,
          caps.commands,
          c.row.playbookResolution,
          c.evidence,
          c.justification,
        ),
      );
      if (c.cause === 'memory-exhaustion')
        humanStep(ctx, step, 'check for memory leaks (memory growth of the restarted containers)');
    } else if (r.kind === 'rollback-model') {
      outcomes.push(
        (
          await rollbackModel(
            ctx,
            step,
            'Model file corrupted: model not loaded (3.1)',
            c.evidence,
            c.justification,
          )
        ).outcome,
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
  const healthy = after.trading.evidence === 'ok' && after.inference.evidence === 'ok';
  const opsNow = diagnosis.causes.length
    ? await ctx.check(
        '3.1 verify: kill switch status',
        () => fastChecks.checkOperationsStatus(),
        NO_OPERATIONS_STATUS,
      )
    : ops;
  if (opsNow.data.killSwitchActive) {
    const held = await foreignHold(ctx, opsNow.data);
    if (held !== null) {
      humanStep(
        ctx,
        '3.1 immediate: kill switch',
        `${held}: no resume is requested while that incident is open; its own procedure decides when to lift it`,
      );
      outcomes.push('needs-human');
    } else if (healthy) {
      outcomes.push(
        await requestResume(ctx, RESUME_STEP, resumeGrounds(opsNow, after.trading, after.inference), () =>
          reassessResume(ctx),
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

const RESUME_STEP = '3.1 immediate: kill switch active unintentionally -> resume';

type OpsJudged = Judged<OperationsData>;

/** 3.1 step 5 as a resume request bound to the activation read in `ops`. */
function resumeGrounds(ops: OpsJudged, trading: Judged<unknown>, inference: Judged<unknown>): ResumeGrounds {
  return {
    activation: ops.data,
    why: 'The kill switch is active while both APIs are healthy. Approve only if it was not activated on purpose.',
    evidence: [ops.text, trading.text, inference.text],
    justification: {
      row: '3.1 immediate step 5: kill switch active unintentionally -> resume',
      requires: [
        { reading: ops.reading, expect: 'failed' },
        { reading: trading.reading, expect: 'ok' },
        { reading: inference.reading, expect: 'ok' },
      ],
    },
  };
}

/** After a refused resume: read the kill switch and the APIs again; ask again only if step 5 still applies. */
async function reassessResume(ctx: ProcedureContext): Promise<Reassessment> {
  const ops = await ctx.check(
    '3.1 immediate: kill switch status (again)',
    () => fastChecks.checkOperationsStatus(),
    NO_OPERATIONS_STATUS,
  );
  if (ops.evidence === 'unknown')
    return { outcome: 'needs-human', text: `could not read the kill switch again (${ops.text})` };
  if (!ops.data.killSwitchActive) return { outcome: 'not-needed', text: ops.text };
  const held = await foreignHold(ctx, ops.data);
  if (held !== null) return { outcome: 'needs-human', text: `${held}: no resume is requested` };
  const { trading, inference } = await healthChecks(ctx, '3.1 immediate: system status (again)');
  if (trading.evidence !== 'ok' || inference.evidence !== 'ok')
    return {
      outcome: 'needs-human',
      text: 'kill switch active and the system is not healthy now: resume after the cause is fixed',
    };
  return { grounds: resumeGrounds(ops, trading, inference) };
}
