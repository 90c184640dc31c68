// 3.4 Database Connection Issues end to end on the dev server against real PostgreSQL backends: every row
// of the resolution table (pool exhausted, long-running queries, overload, disk full).
import type { WorkflowHandle } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { uniqueTaskQueue, waitFor } from '../harness/temporal';
import {
  decide,
  platformConfig,
  procState,
  resultOf,
  sql,
  waitForApproval,
  type Platform,
  procedureSuite,
} from './helpers';

const queues = {
  long: uniqueTaskQueue('proc-3-4-long'),
  pool: uniqueTaskQueue('proc-3-4-pool'),
  overload: uniqueTaskQueue('proc-3-4-overload'),
};
const POOL_LIMIT = 20;
// Three workers, three thresholds (deployment config): long queries over 1.2 s; a pool of 20; overload at 1 active backend.
const cfg = (p: Platform, database: Record<string, unknown>) =>
  platformConfig('playbook', p.sim, p.docker, { database });
const suite = procedureSuite({
  database: 'usdcop_proc_3_4',
  workers: {
    [queues.long]: (p) => cfg(p, { longQueryMinutes: 0.02 }),
    [queues.pool]: (p) => cfg(p, { maxConnections: POOL_LIMIT }),
    [queues.overload]: (p) => cfg(p, { overloadActiveBackends: 1 }),
  },
  resetDocker: true,
});

const start = (queue: string, name: string) =>
  suite.start(queue, 'databaseConnectionProcedure', name, { kind: 'database-connection', severity: 'P2' });
const causes = async (h: WorkflowHandle) =>
  (await procState(h)).events
    .filter((e) => e.step === '3.4 resolution' && e.data?.cause)
    .map((e) => e.data!.cause);

test('Long-running queries: terminate behind approval listing pid, duration and query; verified gone', async () => {
  const st = await suite.p.sim.injectFault({ longRunningQuery: { seconds: 300 } });
  const pid = st.longRunningQuery!.pid;
  await new Promise((r) => setTimeout(r, 1_500));
  const h = await start(queues.long, 'long-query');
  const actionId = await waitForApproval(h, 'terminate-backend');
  const pending = (await procState(h)).pendingApproval!;
  expect(pending.description).toContain(`pid ${pid}`);
  expect(pending.description).toContain('pg_sleep');
  expect(pending.evidence).toEqual([
    // The reading that decided it, with its check id and time, then the details.
    expect.stringMatching(
      new RegExp(`^\\[long-running-queries, [^\\]]+\\] 1 queries running over .*pid ${pid}`),
    ),
    `pid ${pid}`,
    expect.stringMatching(/^duration \d+s \(since /),
    expect.stringContaining('query: SELECT pg_sleep($1)'),
  ]);
  expect(await causes(h)).toEqual(['long-running-queries']);
  await decide(h, actionId, 'approved', 'dba');
  const r = await resultOf(h);
  expect(r.outcome).toBe('completed');
  await waitFor(
    () => suite.p.sim.state(),
    (s) => s.longRunningQuery?.endedBy === 'terminated',
    { what: 'backend terminated' },
  );
});

test('Long-running query, termination rejected: the backend keeps running', async () => {
  await suite.p.sim.injectFault({ longRunningQuery: { seconds: 300 } });
  await new Promise((r) => setTimeout(r, 1_500));
  const h = await start(queues.long, 'long-query-rejected');
  const actionId = await waitForApproval(h, 'terminate-backend');
  await decide(h, actionId, 'rejected', 'dba', 'month-end report');
  expect((await resultOf(h)).outcome).toBe('needs-human');
  expect((await suite.p.sim.state()).longRunningQuery?.active).toBe(true);
});

test('Connection pool exhausted: restart the application containers (approved); their connections close', async () => {
  const [{ n }] = await sql<{ n: string }>(
    suite.p.sim.databaseUrl,
    'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()',
  );
  const extra = POOL_LIMIT - Number(n) + 1;
  const pool: PgClient[] = [];
  for (let i = 0; i < extra; i++) {
    const c = new PgClient({
      connectionString: suite.p.sim.databaseUrl,
      application_name: 'trading-api-pool',
    });
    c.on('error', () => undefined);
    await c.connect();
    pool.push(c);
  }
  suite.p.docker.update((s) => {
    s.connectionsOnRestart = {
      'trading-api': { databaseUrl: suite.p.sim.databaseUrl, applicationName: 'trading-api-pool' },
    };
  });
  try {
    const h = await start(queues.pool, 'pool');
    const actionId = await waitForApproval(h, 'restart');
    expect(await causes(h)).toEqual(['connection-pool-exhausted']);
    // The approver sees who holds the connections, from the reading that decided it.
    expect((await procState(h)).pendingApproval!.evidence[0]).toMatch(
      new RegExp(`^\\[database-connections, [^\\]]+\\] .*held by trading-api-pool \\(${extra}\\)`),
    );
    await decide(h, actionId, 'approved', 'oncall');
    const r = await resultOf(h);
    expect(r.outcome).toBe('completed');
    expect(suite.p.docker.read().restarts).toEqual(['trading-api', 'inference-api']);
  } finally {
    await Promise.all(pool.map((c) => c.end().catch(() => undefined)));
  }
});

test('Database overload: scale up or optimize queries is a human step', async () => {
  await suite.p.sim.injectFault({ longRunningQuery: { seconds: 300 } });
  const h = await start(queues.overload, 'overload');
  const r = await resultOf(h);
  expect(r.outcome).toBe('needs-human');
  expect(await causes(h)).toEqual(['database-overload']);
  expect(
    (await procState(h)).events.some(
      (e) => e.text === 'human step: Scale up the database or optimize the slow queries',
    ),
  ).toBe(true);
});

test('Disk full (PostgreSQL logs): clear logs, archive old data is a human step', async () => {
  suite.p.docker.update((s) => {
    s.containers.postgres!.logs = [
      '2026-11-27 10:00:01 UTC ERROR:  could not extend file "base/16384/2619": No space left on device',
    ];
  });
  const h = await start(queues.long, 'disk');
  const r = await resultOf(h);
  expect(r.outcome).toBe('needs-human');
  expect(await causes(h)).toEqual(['disk-full']);
  expect(
    (await procState(h)).events.some(
      (e) => e.text === 'human step: Clear logs and archive old data to free disk space',
    ),
  ).toBe(true);
});

test('a healthy database: no row applies, completed', async () => {
  const h = await start(queues.long, 'healthy');
  expect(await resultOf(h)).toMatchObject({
    outcome: 'completed',
    summary: expect.stringContaining('database healthy'),
  });
});

test('a healthy database with Redis unreachable: not "completed", needs-human with the Redis finding', async () => {
  await suite.p.sim.injectFault({ redisUnreachable: true });
  const h = await start(queues.long, 'redis-down');
  const r = await resultOf(h);
  expect(r.outcome).toBe('needs-human');
  expect(r.summary).toMatch(/database healthy, but a fault outside the 3.4 table: Redis PING failed/);
  const s = await procState(h);
  expect(
    s.events.some((e) => /^human step: outside the 3.4 table: could not verify redis/.test(e.text)),
  ).toBe(true);
});
