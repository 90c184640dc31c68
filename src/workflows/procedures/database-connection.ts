// 3.4 P2: Database Connection Issues, as a child workflow of incidentWorkflow.
import { diagnoseDatabase, formatDuration, truncate } from '../../playbook/procedures';
import type { ProcedureInput, ProcedureResult } from '../../playbook/contract/procedure';
import { approvalGate, gatePassed } from './approval-gate';
import { errorMessage, fastChecks, openProcedure, remediations } from './common';
import { humanStep, overall, restartContainers, type RemediationOutcome } from './remediations';

const PROCEDURE = '3.4 database-connection';
/** At most this many long-running queries are put to approval in one run (the oldest first). */
const MAX_TERMINATIONS = 5;

export async function databaseConnectionProcedure(input: ProcedureInput): Promise<ProcedureResult> {
  const ctx = openProcedure(PROCEDURE, input);
  const caps = await fastChecks.platformCapabilities();

  // Immediate actions.
  const [db, connections, long] = await Promise.all([
    ctx.check('3.4 immediate: PostgreSQL status', () => fastChecks.checkDatabase(), {
      reachable: false,
      pingMs: null,
      error: null,
      sqlState: null,
    }),
    ctx.check('3.4 immediate: active connections', () => fastChecks.checkDatabaseConnections(), {
      connections: null,
      active: null,
      limit: null,
      holders: [],
    }),
    ctx.check('3.4 immediate: long-running queries', () => fastChecks.checkLongRunningQueries(), {
      queries: [],
    }),
  ]);
  // Symptoms "intermittent 500 errors", "PostgreSQL not responding" as the services see them, and the database logs.
  const [tradingHealth, inferenceHealth, pgLogs, redis] = await Promise.all([
    ctx.check('3.4 symptoms: trading-api health', () => fastChecks.checkServiceHealth('trading'), {
      service: 'trading' as const,
      container: caps.apiContainers[0] ?? 'trading-api',
      reachable: false,
      reachError: null,
      status: null,
      databaseConnected: null,
      modelLoaded: null,
    }),
    ctx.check('3.4 symptoms: inference-api health', () => fastChecks.checkServiceHealth('inference'), {
      service: 'inference' as const,
      container: caps.apiContainers[1] ?? 'inference-api',
      reachable: false,
      reachError: null,
      status: null,
      databaseConnected: null,
      modelLoaded: null,
    }),
    ctx.check(
      '3.4 diagnosis: PostgreSQL logs',
      () => fastChecks.checkContainerLogs(caps.databaseContainer, 'errors'),
      {
        container: caps.databaseContainer,
        filter: 'errors' as const,
        lines: [],
        outOfMemory: false,
        diskFull: false,
      },
    ),
    // Not a 3.4 row, but a fault here is what a "database issue" alert may really be (game day: Redis down).
    ctx.check('3.4 diagnosis: Redis', () => fastChecks.checkRedis(), { reachable: false, latencyMs: null }),
  ]);
  // Readings outside the 3.4 table that do not show a healthy system: reported, and never "completed".
  const outside = [tradingHealth, inferenceHealth, redis].filter((r) => r.evidence !== 'ok');
  for (const r of outside)
    humanStep(
      ctx,
      '3.4 diagnosis',
      `outside the 3.4 table: ${r.evidence === 'unknown' ? 'could not verify' : 'fault in'} ${r.check}: ${r.text}`,
    );

  ctx.thresholds.poolExhaustedRatio = caps.databaseThresholds.poolExhaustedRatio;
  ctx.thresholds.overloadActiveBackends = caps.databaseThresholds.overloadActiveBackends;
  const { decisions, unverified } = diagnoseDatabase({
    database: db.reading,
    connectError: db.data.error,
    pingMs: db.data.pingMs,
    connectionsReading: connections.reading,
    connections: connections.data.connections,
    connectionLimit: connections.data.limit,
    activeBackends: connections.data.active,
    longQueriesReading: long.reading,
    longQueries: long.data.queries,
    logsReading: pgLogs.reading,
    diskFull: pgLogs.data.diskFull,
    appContainers: caps.apiContainers,
    thresholds: caps.databaseThresholds,
  });
  for (const step of unverified) humanStep(ctx, '3.4 diagnosis', step);
  for (const d of decisions) {
    ctx.report({
      step: '3.4 resolution',
      type: 'decision',
      outcome: 'failed',
      text: `cause: ${d.playbookCause} -> ${d.playbookResolution} (${d.evidence.join('; ')})`,
      data: { cause: d.cause, evidence: d.evidence },
    });
  }
  if (decisions.length === 0) {
    const healthy = db.evidence === 'ok' && unverified.length === 0 && outside.length === 0;
    ctx.report({
      step: '3.4 resolution',
      type: 'decision',
      outcome: healthy ? 'ok' : 'unknown',
      text: healthy
        ? 'database answers, connections and queries normal: no row of the 3.4 table applies'
        : 'no row of the 3.4 table matches the findings, and some could not be verified',
    });
    return ctx.finish(
      healthy ? 'completed' : 'needs-human',
      healthy
        ? 'database healthy: no cause from the 3.4 table found'
        : outside.length > 0 && db.evidence === 'ok' && unverified.length === 0
          ? `database healthy, but a fault outside the 3.4 table: ${outside.map((r) => r.text).join('; ')}`
          : 'no cause from the 3.4 table matched; what could not be verified is left to a human',
    );
  }

  const outcomes: RemediationOutcome[] = [];
  for (const d of decisions) {
    const step = `3.4 resolution: ${d.playbookCause}`;
    const r = d.remediation;
    if (r.kind === 'restart-containers') {
      outcomes.push(
        await restartContainers(
          ctx,
          step,
          r.containers,
          caps.commands,
          d.playbookResolution,
          d.evidence,
          d.justification,
        ),
      );
    } else if (r.kind === 'terminate-backends') {
      for (const q of long.data.queries.slice(0, MAX_TERMINATIONS)) {
        const gate = await approvalGate(ctx, {
          action: 'terminate-backend',
          description: `Terminate PostgreSQL backend pid ${q.pid}: SELECT pg_terminate_backend(${q.pid}) (running ${formatDuration(q.durationSeconds)}, state ${q.state ?? '?'}): ${truncate(q.query, 300)}`,
          evidence: [
            `pid ${q.pid}`,
            `duration ${formatDuration(q.durationSeconds)} (since ${q.queryStart})`,
            `query: ${truncate(q.query, 1000)}`,
          ],
          justification: d.justification,
        });
        if (!gatePassed(gate)) {
          outcomes.push(gate.decision === 'rejected' ? 'rejected' : 'needs-human');
          continue;
        }
        try {
          const t = await remediations.terminateBackend({ pid: q.pid, queryStartUs: q.queryStartUs });
          ctx.report({
            step,
            type: 'action',
            outcome: 'ok',
            text: `${t.message} (${gate.actionId})`,
            data: { actionId: gate.actionId, pid: q.pid, applied: t.applied },
          });
          outcomes.push('done');
        } catch (err) {
          ctx.report({
            step,
            type: 'action',
            outcome: 'failed',
            text: `terminate pid ${q.pid} failed: ${errorMessage(err)}`,
            data: { actionId: gate.actionId, pid: q.pid },
          });
          outcomes.push('failed');
        }
      }
    } else if (r.kind === 'human') {
      humanStep(ctx, step, r.step);
      outcomes.push('needs-human');
    }
  }

  // Verify: the database answers, the long queries are gone, connections below the limit.
  const [dbAfter, connAfter, longAfter] = await Promise.all([
    ctx.check('3.4 verify: PostgreSQL status', () => fastChecks.checkDatabase(), {
      reachable: false,
      pingMs: null,
      error: null,
      sqlState: null,
    }),
    ctx.check('3.4 verify: active connections', () => fastChecks.checkDatabaseConnections(), {
      connections: null,
      active: null,
      limit: null,
      holders: [],
    }),
    ctx.check('3.4 verify: long-running queries', () => fastChecks.checkLongRunningQueries(), {
      queries: [],
    }),
  ]);
  const terminated = new Set(long.data.queries.map((q) => `${q.pid}:${q.queryStartUs}`));
  const stillRunning = longAfter.data.queries.filter((q) => terminated.has(`${q.pid}:${q.queryStartUs}`));
  const verified = dbAfter.evidence === 'ok' && connAfter.evidence === 'ok' && stillRunning.length === 0;
  const outcome = overall(outcomes, verified);
  return ctx.finish(
    outcome,
    `${decisions.map((d) => d.playbookCause).join(', ')}: ${outcome === 'completed' ? 'remediated and verified' : outcome === 'failed' ? 'a remediation failed' : 'waiting on a human step or decision'}`,
  );
}
