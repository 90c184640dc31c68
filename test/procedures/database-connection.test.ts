// 3.4 Database Connection Issues end to end on the dev server against real PostgreSQL backends: every row
// of the resolution table (pool exhausted, long-running queries, overload, disk full).
import type { Client, WorkflowHandle } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { testClient, uniqueTaskQueue, waitFor } from '../harness/temporal';
import {
  decide,
  platformConfig,
  procState,
  resultOf,
  sql,
  startPlatform,
  startProcedure,
  startProcedureWorker,
  terminateParents,
  waitForApproval,
  type Platform,
  type ProcedureWorker,
} from './helpers';

let p: Platform;
const queues = {
  long: uniqueTaskQueue('proc-3-4-long'),
  pool: uniqueTaskQueue('proc-3-4-pool'),
  overload: uniqueTaskQueue('proc-3-4-overload'),
};
const POOL_LIMIT = 20;
const workers: ProcedureWorker[] = [];
let client: Client;
let closeClient: () => Promise<void>;
const parents: WorkflowHandle[] = [];

beforeAll(async () => {
  p = await startPlatform('playbook', 'usdcop_proc_3_4');
  // Three workers, three thresholds (deployment config): long queries over 1.2 s; a pool of 20; overload at 1 active backend.
  const cfg = (database: Record<string, unknown>) =>
    platformConfig('playbook', p.sim, p.docker, { database });
  workers.push(
    await startProcedureWorker(queues.long, cfg({ longQueryMinutes: 0.02 })),
    await startProcedureWorker(queues.pool, cfg({ maxConnections: POOL_LIMIT })),
    await startProcedureWorker(queues.overload, cfg({ overloadActiveBackends: 1 })),
  );
  ({ client, close: closeClient } = await testClient());
});
afterAll(async () => {
  await terminateParents(parents);
  await closeClient();
  for (const w of workers) await w.stop();
  await p.sim.stop();
});
beforeEach(async () => {
  await p.sim.reset();
  p.docker.reset(p.sim.controlUrl);
});

async function start(queue: string, name: string) {
  const { parent, child } = await startProcedure(client, queue, 'databaseConnectionProcedure', name, {
    kind: 'database-connection',
    severity: 'P2',
  });
  parents.push(parent);
  return child;
}
const causes = async (h: WorkflowHandle) =>
  (await procState(h)).events
    .filter((e) => e.step === '3.4 resolution' && e.data?.cause)
    .map((e) => e.data!.cause);

test('Long-running queries: terminate behind approval listing pid, duration and query; verified gone', async () => {
  const st = await p.sim.injectFault({ longRunningQuery: { seconds: 300 } });
  const pid = st.longRunningQuery!.pid;
  await new Promise((r) => setTimeout(r, 1_500));
  const h = await start(queues.long, 'long-query');
  const actionId = await waitForApproval(h, 'terminate-backend');
  const pending = (await procState(h)).pendingApproval!;
  expect(pending.description).toContain(`pid ${pid}`);
  expect(pending.description).toContain('pg_sleep');
  expect(pending.evidence).toEqual([
    `pid ${pid}`,
    expect.stringMatching(/^duration \d+s \(since /),
    expect.stringContaining('query: SELECT pg_sleep($1)'),
  ]);
  expect(await causes(h)).toEqual(['long-running-queries']);
  await decide(h, actionId, 'approved', 'dba');
  const r = await resultOf(h);
  expect(r.outcome).toBe('completed');
  await waitFor(
    () => p.sim.state(),
    (s) => s.longRunningQuery?.endedBy === 'terminated',
    { what: 'backend terminated' },
  );
});

test('Long-running query, termination rejected: the backend keeps running', async () => {
  await p.sim.injectFault({ longRunningQuery: { seconds: 300 } });
  await new Promise((r) => setTimeout(r, 1_500));
  const h = await start(queues.long, 'long-query-rejected');
  const actionId = await waitForApproval(h, 'terminate-backend');
  await decide(h, actionId, 'rejected', 'dba', 'month-end report');
  expect((await resultOf(h)).outcome).toBe('needs-human');
  expect((await p.sim.state()).longRunningQuery?.active).toBe(true);
});

test('Connection pool exhausted: restart the application containers (approved); their connections close', async () => {
  const [{ n }] = await sql<{ n: string }>(
    p.sim.databaseUrl,
    'SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database()',
  );
  const extra = POOL_LIMIT - Number(n) + 1;
  const pool: PgClient[] = [];
  for (let i = 0; i < extra; i++) {
    const c = new PgClient({ connectionString: p.sim.databaseUrl, application_name: 'trading-api-pool' });
    c.on('error', () => undefined);
    await c.connect();
    pool.push(c);
  }
  p.docker.update((s) => {
    s.connectionsOnRestart = {
      'trading-api': { databaseUrl: p.sim.databaseUrl, applicationName: 'trading-api-pool' },
    };
  });
  try {
    const h = await start(queues.pool, 'pool');
    const actionId = await waitForApproval(h, 'restart');
    expect(await causes(h)).toEqual(['connection-pool-exhausted']);
    await decide(h, actionId, 'approved', 'oncall');
    const r = await resultOf(h);
    expect(r.outcome).toBe('completed');
    expect(p.docker.read().restarts).toEqual(['trading-api', 'inference-api']);
  } finally {
    await Promise.all(pool.map((c) => c.end().catch(() => undefined)));
  }
});

test('Database overload: scale up or optimize queries is a human step', async () => {
  await p.sim.injectFault({ longRunningQuery: { seconds: 300 } });
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
  p.docker.update((s) => {
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
