// A monitor's history stays bounded under steady beats (continue-as-new carries its state), a bad signal is
// counted and changes nothing, the worker's start-up sync creates declared monitors `waiting`, and the
// engine's outbound ping goes out only while the ingress takes its beat. Histories recorded as replay fixtures
// (`npm run record-histories`).
import type { Client } from '@temporalio/client';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silenceIncidentWorkflowId } from '../../src/activities/heartbeat';
import { startIngress, type RunningIngress } from '../../src/ingress/start';
import { TemporalIncidentStarter } from '../../src/ingress/starter';
import {
  heartbeatsConfigSchema,
  monitorSpecSchema,
  OUTBOUND_WORKFLOW_ID,
  type MonitorStatus,
} from '../../src/playbook/contract/heartbeat';
import { syncHeartbeats } from '../../src/temporal/heartbeats';
import { HeartbeatStateKey } from '../../src/workflows/definitions';
import { beatSignal, configureSignal, monitorStatusQuery } from '../../src/workflows/heartbeat-definitions';
import { MONITOR_HISTORY_LIMIT } from '../../src/workflows/heartbeat';
import { recordHistory } from '../harness/history';
import { startTestWorker, testClient, uniqueTaskQueue, waitFor, type TestWorker } from '../harness/temporal';
import { closeAllApps, defaultRules, testConfig } from '../ingress/helpers';

const RUN = Date.now().toString(36);
const TOKEN = 'outbound-token-3e1f';
const TOKEN_ENV = `HB_TEST_TOKEN_${RUN.toUpperCase()}`;
let client: Client;
let closeClient: () => Promise<void>;
let worker: TestWorker;
const taskQueue = uniqueTaskQueue('hb-history');
const cleanup: string[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const status = (name: string): Promise<MonitorStatus> =>
  client.workflow.getHandle(`heartbeat-${name}`).query(monitorStatusQuery);

beforeAll(async () => {
  process.env[TOKEN_ENV] = TOKEN;
  ({ client, close: closeClient } = await testClient());
  // One id per namespace: a run another file or run left would be on its own task queue.
  for (const id of [OUTBOUND_WORKFLOW_ID, 'heartbeat-engine'])
    await client.workflow
      .getHandle(id)
      .terminate('test start')
      .catch(() => undefined);
  worker = await startTestWorker({ taskQueue });
});
afterAll(async () => {
  for (const id of cleanup)
    await client.workflow
      .getHandle(id)
      .terminate('test over')
      .catch(() => undefined);
  await closeAllApps();
  await worker?.stop();
  await closeClient?.();
  delete process.env[TOKEN_ENV];
}, 120_000);

test('steady beats continue the monitor as new before its history grows long, carrying its state', async () => {
  const name = `hbh-can-${RUN}`;
  cleanup.push(`heartbeat-${name}`);
  const starter = new TemporalIncidentStarter({ taskQueue, timeoutMs: 10_000, client });
  const spec = monitorSpecSchema.parse({ name, periodSeconds: 3600, graceSeconds: 60 });
  const first = await starter.beat({ monitor: { spec, createdBy: 'test' }, beat: { source: 'first' } });
  const h = client.workflow.getHandle(`heartbeat-${name}`);
  // A bad payload: counted as rejected, not a beat, and the monitor carries on.
  await h.signal(beatSignal, { source: 42 });
  // Every beat is a signal event at least (beats sent together share a workflow task). Sent without pause.
  const BEATS = MONITOR_HISTORY_LIMIT;
  for (let i = 0; i < BEATS; i += 50)
    await Promise.all(
      Array.from({ length: Math.min(50, BEATS - i) }, (_, k) =>
        h.signal(beatSignal, { source: `beat-${i + k}`, at: new Date().toISOString() }),
      ),
    );
  const st = await waitFor(
    () => h.query(monitorStatusQuery),
    (s) => s.beats === BEATS + 1,
    { what: 'every beat counted', timeoutMs: 60_000 },
  );
  expect(st).toMatchObject({ state: 'healthy', silences: 0, rejected: 1, createdBy: 'test' });
  const now = await h.describe();
  expect(now.runId).not.toBe(first.runId);
  const firstRun = client.workflow.getHandle(`heartbeat-${name}`, first.runId);
  const firstDesc = await firstRun.describe();
  expect(firstDesc.status.name).toBe('CONTINUED_AS_NEW');
  expect(firstDesc.historyLength).toBeLessThan(MONITOR_HISTORY_LIMIT + 200);
  expect(now.searchAttributes).toMatchObject({ HeartbeatState: ['healthy'] });
  await recordHistory(firstRun, 'heartbeat-continue-as-new');
}, 120_000);

test("the worker's start-up sync creates declared monitors waiting, and a waiting monitor calls no silence", async () => {
  const name = `hbh-sync-${RUN}`;
  cleanup.push(`heartbeat-${name}`);
  const config = heartbeatsConfigSchema.parse({
    monitors: [{ name, periodSeconds: 1, graceSeconds: 1, severity: 'P3' }],
  });
  const r = await syncHeartbeats(client, config, { taskQueue });
  expect(r.monitors).toEqual([name]);
  await sleep(3000);
  const st = await status(name);
  expect(st).toMatchObject({ state: 'waiting', deadline: null, silences: 0, createdBy: 'config' });
  const desc = await client.workflow.getHandle(`heartbeat-${name}`).describe();
  expect(desc.typedSearchAttributes.get(HeartbeatStateKey)).toBe('waiting');
  // A second sync with a changed spec reconfigures the running monitor (no second run).
  const changed = heartbeatsConfigSchema.parse({
    monitors: [{ name, periodSeconds: 5, graceSeconds: 2, severity: 'P3' }],
  });
  await syncHeartbeats(client, changed, { taskQueue });
  await waitFor(
    () => status(name),
    (s) => s.periodSeconds === 5,
    { what: 'the new spec' },
  );
  expect((await client.workflow.getHandle(`heartbeat-${name}`).describe()).runId).toBe(desc.runId);
  // A configure for another monitor's name is refused, counted.
  await client.workflow
    .getHandle(`heartbeat-${name}`)
    .signal(configureSignal, { spec: { name: 'other', periodSeconds: 1, graceSeconds: 1 } });
  await waitFor(
    () => status(name),
    (s) => s.rejected === 1,
    { what: 'the refusal counted' },
  );
  expect((await status(name)).periodSeconds).toBe(5);
  await recordHistory(client.workflow.getHandle(`heartbeat-${name}`), 'heartbeat-sync-waiting');
}, 60_000);

describe("the engine's outbound ping", () => {
  let deadMansSwitch: Server;
  let pings: { method: string; at: number }[] = [];
  let ingress: RunningIngress | null = null;

  beforeAll(async () => {
    deadMansSwitch = createServer((req, res) => {
      pings.push({ method: req.method ?? '', at: Date.now() });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('OK');
    });
    await new Promise<void>((r) => deadMansSwitch.listen(0, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    await ingress?.close();
    await new Promise((r) => deadMansSwitch.close(r));
  });

  test('pings through the ingress each period, stops while the ingress is down, and stops when unconfigured', async () => {
    const starter = new TemporalIncidentStarter({ taskQueue, timeoutMs: 10_000, client });
    ingress = await startIngress(
      testConfig({ taskQueue, bearerTokens: TOKEN, port: 0, rateLimitPerSecond: 1000, rateLimitBurst: 1000 }),
      {
        starter,
        rules: defaultRules(),
        heartbeats: heartbeatsConfigSchema.parse({
          outbound: {
            url: `http://127.0.0.1:${(deadMansSwitch.address() as AddressInfo).port}/ping/abc`,
            periodSeconds: 1,
            ingressUrl: 'http://placeholder.invalid',
          },
        }),
      },
    );
    const outbound = {
      url: `http://127.0.0.1:${(deadMansSwitch.address() as AddressInfo).port}/ping/abc`,
      method: 'POST' as const,
      periodSeconds: 1,
      ingressUrl: ingress.url,
      ingressTokenEnv: TOKEN_ENV,
    };
    cleanup.push(OUTBOUND_WORKFLOW_ID, 'heartbeat-engine', silenceIncidentWorkflowId('engine'));
    const r = await syncHeartbeats(client, heartbeatsConfigSchema.parse({ outbound }), { taskQueue });
    expect(r.outbound).toBe('started-or-configured');
    // The monitor the previous test's config declared is no longer declared: ended, with the reason.
    expect(r.retired).toEqual([`hbh-sync-${RUN}`]);
    await waitFor(
      async () => pings.length,
      (n) => n >= 3,
      { what: 'three pings', timeoutMs: 20_000 },
    );
    expect(pings.every((p) => p.method === 'POST')).toBe(true);
    const engine = await status('engine');
    expect(engine).toMatchObject({
      state: 'healthy',
      lastBeatSource: 'engine-outbound',
      createdBy: 'outbound',
    });

    // The ingress goes away: no beat accepted, so no ping leaves.
    await ingress.close();
    ingress = null;
    await sleep(1500);
    const before = pings.length;
    await sleep(4000);
    expect(pings.length).toBe(before);

    // Unconfigured: the next sync stops the ping workflow.
    const stopped = await syncHeartbeats(client, heartbeatsConfigSchema.parse({}), { taskQueue });
    expect(stopped.outbound).toBe('stopped');
    // The engine monitor goes with the outbound ping.
    expect(stopped.retired).toEqual(['engine']);
    const ended = await client.workflow.getHandle('heartbeat-engine').describe();
    expect(ended.status.name).toBe('TERMINATED');
    await waitFor(
      () => client.workflow.getHandle(OUTBOUND_WORKFLOW_ID).describe(),
      (d) => d.status.name === 'COMPLETED',
      { what: 'the ping workflow to stop' },
    );
    await recordHistory(client.workflow.getHandle(OUTBOUND_WORKFLOW_ID), 'engine-heartbeat');
    pings = [];
  }, 60_000);
});
