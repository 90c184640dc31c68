// Counts a monitoring engineer can trust (issue 10 item 5), on real processes: a worker process (npm run
// worker) with its SDK Prometheus exporter, and two ingress replicas in this process. Incidents opened are
// counted once per incident by the workflow, whichever replica delivered the alert, and a worker restarted
// from SIGKILL replays the incidents without counting them again. Each ingress's /metrics is prom-client's.
import type { Client } from '@temporalio/client';
import { testClient, tmpFile, uniqueTaskQueue, waitFor } from '../harness/temporal';
import { statusQuery } from '../../src/workflows/definitions';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'undici';
import { freePort } from '../../scripts/lib/dev-server';
import { PROJECT_ROOT } from '../../scripts/lib/temporal-cli';
import { startIngress, type RunningIngress } from '../../src/ingress/start';
import { TemporalIncidentStarter } from '../../src/ingress/starter';
import { alertmanagerPayload, defaultRules, testConfig } from '../ingress/helpers';
import { metricValue } from '../harness/metrics';

const taskQueue = uniqueTaskQueue('metrics');
let client: Client;
let closeClient: () => Promise<void>;
const children: ChildProcess[] = [];
const ingresses: RunningIngress[] = [];

function startWorker(metricsPort: number) {
  let out = '';
  const child = spawn(
    process.execPath,
    // One process (not tsx's CLI, which runs the script in a child that a SIGKILL of the CLI would not end).
    ['--import', 'tsx', 'src/worker.ts'],
    {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        INCIDENT_TASK_QUEUE: taskQueue,
        OUTBOX_FILE: tmpFile('metrics-outbox.jsonl'),
        WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  children.push(child);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, output: () => out, exited };
}

async function scrape(url: string): Promise<string> {
  const res = await request(url);
  expect(res.statusCode).toBe(200);
  return res.body.text();
}

beforeAll(async () => {
  ({ client, close: closeClient } = await testClient());
});
afterAll(async () => {
  for (const i of ingresses) await i.close();
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await closeClient();
});

test('incidents opened and alerts deduplicated are counted once, across replicas and a worker restart', async () => {
  const metricsPort = await freePort();
  const workerMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
  let worker = startWorker(metricsPort);
  await waitFor(
    async () => worker.output(),
    (o) => o.includes('[worker] polling task queue'),
    {
      timeoutMs: 60_000,
      what: 'worker process',
    },
  );
  expect(worker.output()).toContain(`metrics at ${workerMetrics}`);

  for (let i = 0; i < 2; i++) {
    const starter = new TemporalIncidentStarter({ taskQueue, timeoutMs: 10_000, client });
    ingresses.push(
      await startIngress(testConfig({ taskQueue, port: 0, timeScale: 1 }), {
        starter,
        rules: defaultRules(),
      }),
    );
  }
  // Two keys; 3 notifications of 4 alerts each through each replica: 24 alerts, 2 incidents.
  const ids = new Set<string>();
  for (let round = 0; round < 3; round++)
    for (const [r, ingress] of ingresses.entries()) {
      const alerts = Array.from({ length: 4 }, (_, n) => ({
        alertname: 'HighFeatureDrift',
        labels: { service: `metrics-svc-${n % 2}`, feature: `f${round}-${r}-${n}` },
        fingerprint: `${taskQueue}-${round}-${r}-${n}`,
      }));
      const res = await request(`${ingress.url}/v1/alerts/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alertmanagerPayload(alerts)),
      });
      const body = (await res.body.json()) as { incidents: { workflowId: string }[] };
      expect(res.statusCode).toBe(200);
      for (const i of body.incidents) ids.add(i.workflowId);
    }
  expect(ids.size).toBe(2);
  for (const id of ids)
    await waitFor(
      () => client.workflow.getHandle(id).query(statusQuery),
      (s) => s.alerts.received === 12,
      { what: `${id} received 12 alerts`, timeoutMs: 30_000 },
    );

  const labels = { taskQueue: taskQueue, severity: 'P1', kind: 'model-degradation' };
  const opened = (text: string) => metricValue(text, 'incidents_opened_total', labels);
  const deduplicated = (text: string) =>
    metricValue(text, 'incident_alerts_deduplicated_total', {
      taskQueue: taskQueue,
      kind: 'model-degradation',
    });
  const before = await waitFor(
    () => scrape(workerMetrics),
    (t) => deduplicated(t) === 22,
    { what: 'worker metrics', timeoutMs: 15_000 },
  );
  expect(opened(before)).toBe(2);
  // The SDK's own worker series are there too.
  expect(before).toMatch(/temporal_workflow_task_execution_latency/);

  // Each replica counts what it received and delivered; neither claims to know what opened an incident.
  for (const ingress of ingresses) {
    const text = await scrape(`${ingress.url}/metrics`);
    expect(
      metricValue(text, 'ingress_alerts_received_total', { source: 'alertmanager', status: 'firing' }),
    ).toBe(12);
    expect(metricValue(text, 'ingress_alerts_delivered_total', { source: 'alertmanager' })).toBe(12);
    expect(
      metricValue(text, 'ingress_temporal_call_duration_seconds_count', { operation: 'signalWithStart' }),
    ).toBe(6);
    expect(metricValue(text, 'ingress_temporal_reachable', {})).toBe(1);
    expect(text).not.toContain('ingress_incidents_started_total');
  }

  // SIGKILL the worker; a new one on the same port replays both incidents (new alerts need their history)
  // and counts only what is new: 1 alert deduplicated, no incident opened.
  worker.child.kill('SIGKILL');
  await worker.exited;
  worker = startWorker(metricsPort);
  await waitFor(
    async () => worker.output(),
    (o) => o.includes('[worker] polling task queue'),
    {
      timeoutMs: 60_000,
      what: 'second worker process',
    },
  );
  for (const service of ['metrics-svc-0', 'metrics-svc-1']) {
    const res = await request(`${ingresses[0]!.url}/v1/alerts/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        alertmanagerPayload([
          {
            alertname: 'HighFeatureDrift',
            labels: { service, feature: 'after-restart' },
            fingerprint: `${taskQueue}-after-${service}`,
          },
        ]),
      ),
    });
    expect(res.statusCode).toBe(200);
  }
  for (const id of ids)
    await waitFor(
      () => client.workflow.getHandle(id).query(statusQuery),
      (s) => s.alerts.received === 13,
      { what: `${id} received 13 alerts`, timeoutMs: 30_000 },
    );
  const after = await waitFor(
    () => scrape(workerMetrics),
    (t) => deduplicated(t) === 2,
    { what: 'second worker metrics', timeoutMs: 15_000 },
  );
  expect(opened(after)).toBe(0);
  for (const id of ids) await client.workflow.getHandle(id).terminate('test done');
}, 180_000);
