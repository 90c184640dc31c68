// Temporal down: the ingress answers 503 + Retry-After (Alertmanager retries 5xx), /healthz says so, and
// once Temporal is back the retried notification lands on the same incident: nothing lost.
// Uses its own dev server on a SQLite file, stopped and restarted on the same port.
import { Client, Connection } from '@temporalio/client';
import { waitFor } from '../harness/temporal';
import { statusQuery } from '../../src/workflows/definitions';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createActivities } from '../../src/activities';
import { OutboxChannel } from '../../src/activities/notify/outbox';
import { startIngress, type RunningIngress } from '../../src/ingress/start';
import { TemporalIncidentStarter } from '../../src/ingress/starter';
import { freePort, startDevServer, type DevServer } from '../../scripts/lib/dev-server';
import { ensureTemporalCli } from '../../scripts/lib/temporal-cli';
import { alertmanagerPayload, closeAllApps, defaultRules, httpClient, testConfig } from './helpers';

const tmp = process.env.TEST_TMP_DIR ?? '/tmp';
const dbFile = path.join(tmp, `ingress-down-${randomUUID().slice(0, 8)}.sqlite`);
const taskQueue = `test-ingress-down-${randomUUID().slice(0, 8)}`;
let cli: string;
let port: number;
let server: DevServer | null = null;
let worker: { stop(): Promise<void> } | null = null;
let ingress: RunningIngress;
let connection: Connection;

async function startServer() {
  server = await startDevServer({
    cli,
    port,
    dbFile,
    logFile: path.join(tmp, 'ingress-down-dev-server.log'),
  });
}

async function startWorker() {
  const nc = await NativeConnection.connect({ address: `127.0.0.1:${port}` });
  const w = await Worker.create({
    connection: nc,
    namespace: 'default',
    taskQueue,
    workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH ?? '' },
    activities: createActivities({
      channels: { outbox: new OutboxChannel(path.join(tmp, `${taskQueue}-outbox.jsonl`), () => undefined) },
      policyOverrides: {},
    }),
  });
  const running = w.run();
  worker = {
    async stop() {
      if (w.getState() === 'RUNNING') w.shutdown();
      await running;
      await nc.close();
    },
  };
}

beforeAll(async () => {
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // another helper in this process installed it already
  }
  cli = await ensureTemporalCli();
  port = await freePort();
  await startServer();
  await startWorker();
  connection = Connection.lazy({ address: `127.0.0.1:${port}` });
  const starter = new TemporalIncidentStarter({
    taskQueue,
    timeoutMs: 1500,
    connection,
    namespace: 'default',
  });
  ingress = await startIngress(testConfig({ taskQueue, retryAfterSeconds: 10 }), {
    starter,
    rules: defaultRules(),
  });
});

afterAll(async () => {
  await ingress?.close();
  await closeAllApps();
  await worker?.stop();
  await connection?.close();
  await server?.stop();
});

it('503 + Retry-After while Temporal is down; the retried alert lands on the same incident once it is back', async () => {
  const http = httpClient(ingress.app);
  const alert = (fp: string) =>
    alertmanagerPayload([
      {
        alertname: 'IngressOutageCheck',
        labels: { service: 'outage', severity: 'warning' },
        fingerprint: fp,
      },
    ]);
  const first = await http.inject({
    method: 'POST',
    url: '/v1/alerts/alertmanager',
    payload: alert('fp-before'),
  });
  expect(first.statusCode).toBe(200);
  const { workflowId, runId } = first.json().incidents[0];

  await worker?.stop();
  worker = null;
  await server?.stop();
  server = null;

  const during = await http.inject({
    method: 'POST',
    url: '/v1/alerts/alertmanager',
    payload: alert('fp-during'),
  });
  expect(during.statusCode).toBe(503);
  expect(during.headers['retry-after']).toBe('10');
  expect(during.json().error).toMatchObject({ code: 'temporal_unavailable' });
  const health = await http.inject({ method: 'GET', url: '/healthz' });
  expect(health.statusCode).toBe(503);
  expect(health.json()).toEqual({ status: 'degraded' });
  // A bad body is still the sender's fault: 4xx, never 5xx.
  expect(
    (await http.inject({ method: 'POST', url: '/v1/alerts/alertmanager', payload: { version: '4' } }))
      .statusCode,
  ).toBe(400);

  await startServer();
  await startWorker();
  // The sender retries (as Alertmanager does on 5xx) until accepted.
  const retried = await waitFor(
    () => http.inject({ method: 'POST', url: '/v1/alerts/alertmanager', payload: alert('fp-during') }),
    (r) => r.statusCode === 200,
    { what: 'the retried notification accepted', timeoutMs: 30_000, intervalMs: 500 },
  );
  expect(retried.json().incidents[0]).toMatchObject({ workflowId, runId });
  const client = new Client({ connection, namespace: 'default' });
  const s = await waitFor(
    () => client.workflow.getHandle(workflowId).query(statusQuery),
    (x) => x.alerts.received === 2,
    { what: 'both alerts counted', timeoutMs: 30_000 },
  );
  expect(s.alerts.firing).toBe(2);
  expect((await http.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
});
