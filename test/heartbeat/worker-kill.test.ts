// Heartbeat monitors across worker crashes (real worker processes, SIGKILL): beats that arrive while no
// worker runs are counted at their receipt time, so the outage neither opens a false silence nor loses the
// deadline; a deadline that passes while no worker runs is called once when a worker is back; a silence is
// never opened twice. The histories replay.
import type { Client } from '@temporalio/client';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { WorkflowNotFoundError } from '@temporalio/client';
import { silenceIncidentWorkflowId } from '../../src/activities/heartbeat';
import { TemporalIncidentStarter } from '../../src/ingress/starter';
import type { MonitorSpecInput, MonitorStatus } from '../../src/playbook/contract/heartbeat';
import { monitorSpecSchema } from '../../src/playbook/contract/heartbeat';
import { statusQuery } from '../../src/workflows/definitions';
import { monitorStatusQuery } from '../../src/workflows/heartbeat-definitions';
import { recordHistory } from '../harness/history';
import { replayTaskQueue, testClient, tmpFile, uniqueTaskQueue, waitFor } from '../harness/temporal';
import { startWorkerProcess, stopAll, type WorkerProcess } from '../harness/worker-processes';

const taskQueue = uniqueTaskQueue('hb-kill');
const outboxFile = tmpFile('hb-kill-outbox.jsonl');
const RUN = Date.now().toString(36);
const PERIOD = 4;
const GRACE = 2;
const WINDOW_MS = (PERIOD + GRACE) * 1000;
let client: Client;
let closeClient: () => Promise<void>;
let starter: TemporalIncidentStarter;
const workers: WorkerProcess[] = [];
const names: string[] = [];

const worker = async (env: Record<string, string> = {}) => {
  const w = startWorkerProcess({ taskQueue, outboxFile, env });
  workers.push(w);
  await w.running();
  return w;
};
const kill = async (w: WorkerProcess) => {
  w.child.kill('SIGKILL');
  await w.exited;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** A gauge's value for one monitor in Prometheus text, or null when absent. */
function gauge(text: string, metric: string, monitor: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{`) && l.includes(`monitor="${monitor}"`));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : null;
}
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

/** A beat as the ingress sends it: received now. */
function beat(name: string): Promise<unknown> {
  const spec: MonitorSpecInput = { name, periodSeconds: PERIOD, graceSeconds: GRACE, severity: 'P3' };
  return starter.beat({
    monitor: { spec: monitorSpecSchema.parse(spec), createdBy: 'test' },
    beat: { source: 'kill-test', at: new Date().toISOString() },
  });
}
const status = (name: string): Promise<MonitorStatus> =>
  client.workflow.getHandle(`heartbeat-${name}`).query(monitorStatusQuery);
async function incidentRuns(name: string): Promise<number> {
  let n = 0;
  for await (const _ of client.workflow.list({
    query: `WorkflowId = '${silenceIncidentWorkflowId(name)}'`,
  }))
    n += 1;
  return n;
}

beforeAll(async () => {
  ({ client, close: closeClient } = await testClient());
  starter = new TemporalIncidentStarter({ taskQueue, timeoutMs: 10_000, client });
});
afterAll(async () => {
  for (const name of names)
    for (const id of [`heartbeat-${name}`, silenceIncidentWorkflowId(name)])
      await client.workflow
        .getHandle(id)
        .terminate('test over')
        .catch(() => undefined);
  stopAll(workers);
  await closeClient();
  await replayTaskQueue(taskQueue, process.env.WORKFLOW_BUNDLE_PATH!);
}, 120_000);

test('SIGKILL mid-period: beats during the outage keep it quiet; once they stop, one incident at the deadline', async () => {
  const name = `hbk-a-${RUN}`;
  names.push(name);
  const a = await worker();
  for (let i = 0; i < 3; i++) {
    await beat(name);
    await sleep(1000);
  }
  expect((await status(name)).state).toBe('healthy');
  await kill(a);
  // No worker for longer than the window; the beats wait in Temporal.
  for (let i = 0; i < 8; i++) {
    await beat(name);
    await sleep(1000);
  }
  const metrics = `127.0.0.1:${await freePort()}`;
  await worker({ WORKER_METRICS_ADDRESS: metrics });
  for (let i = 0; i < 3; i++) {
    await beat(name);
    await sleep(1000);
  }
  const healthy = await status(name);
  expect(healthy).toMatchObject({ state: 'healthy', silences: 0 });
  expect(healthy.beats).toBe(14);
  expect(await incidentRuns(name)).toBe(0);
  // The worker's /metrics: the monitor's last beat (Unix seconds), and not silent.
  const scraped = await waitFor(
    async () => (await request(`http://${metrics}/metrics`).then((r) => r.body.text())) as string,
    (text) => gauge(text, 'heartbeat_last_beat_timestamp_seconds', name) !== null,
    { what: 'the heartbeat gauges on /metrics' },
  );
  expect(gauge(scraped, 'heartbeat_last_beat_timestamp_seconds', name)! * 1000).toBeCloseTo(
    Date.parse(healthy.lastBeatAt!),
    -3,
  );
  expect(gauge(scraped, 'heartbeat_silent', name)).toBe(0);

  await beat(name);
  const last = Date.now();
  const silent = await waitFor(
    () => status(name),
    (s) => s.state === 'silent' && s.incidentWorkflowId !== undefined,
    { what: 'the silence', timeoutMs: WINDOW_MS + 20_000 },
  );
  expect(Date.now() - last).toBeGreaterThanOrEqual(WINDOW_MS);
  expect(Date.parse(silent.silentSince!)).toBeGreaterThanOrEqual(last - 1000 + WINDOW_MS);
  await sleep(2 * WINDOW_MS);
  expect((await status(name)).silences).toBe(1);
  expect(await incidentRuns(name)).toBe(1);
  await recordHistory(client.workflow.getHandle(`heartbeat-${name}`), 'heartbeat-worker-kill');
}, 120_000);

test('a deadline that passes while no worker runs is called once, as soon as a worker is back', async () => {
  const name = `hbk-b-${RUN}`;
  names.push(name);
  await beat(name);
  const last = Date.now();
  await waitFor(
    () => status(name).catch(() => null),
    (s) => s?.state === 'healthy',
    { what: 'the monitor running' },
  );
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) await kill(w);
  await sleep(WINDOW_MS + 3000);
  await expect(client.workflow.getHandle(silenceIncidentWorkflowId(name)).query(statusQuery)).rejects.toThrow(
    WorkflowNotFoundError,
  );
  const back = Date.now();
  await worker();
  const silent = await waitFor(
    () => status(name),
    (s) => s.state === 'silent' && s.incidentWorkflowId !== undefined,
    { what: 'the silence after the outage', timeoutMs: 30_000 },
  );
  // Called at the deadline that passed (the last beat + the window), found as soon as a worker ran it.
  expect(Math.abs(Date.parse(silent.silentSince!) - (last + WINDOW_MS))).toBeLessThan(1500);
  expect(Date.now() - back).toBeLessThan(25_000);
  await sleep(WINDOW_MS);
  expect((await status(name)).silences).toBe(1);
  expect(await incidentRuns(name)).toBe(1);
}, 120_000);
