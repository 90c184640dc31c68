// The ingress against the real dev server (jest globalSetup) with an in-process worker on this file's own
// task queue: recorded fixtures become incidents, repeated posts add to them, an alert storm makes exactly
// one incident per dedup key with every alert counted, and a closed incident's key opens a new one.
import type { Client } from '@temporalio/client';
import type { Alert } from '../../src/playbook/contract/incident';
import { startTestWorker, testClient, uniqueTaskQueue, waitFor, type TestWorker } from '../harness/temporal';
import { resolveUpdate, statusQuery, timelineQuery } from '../../src/workflows/definitions';
import { startIngress, type RunningIngress } from '../../src/ingress/start';
import { TemporalIncidentStarter } from '../../src/ingress/starter';
import {
  alertmanagerPayload,
  bigAlertmanagerGroup,
  closeAllApps,
  defaultRules,
  fixture,
  httpClient,
  testConfig,
} from './helpers';

const TOKEN = 'integration-token-7c1d';
const auth = { authorization: `Bearer ${TOKEN}` };

let client: Client;
let closeClient: () => Promise<void>;
let worker: TestWorker;
const taskQueue = uniqueTaskQueue('ingress');
const ingresses: RunningIngress[] = [];

async function ingress(timeScale: number, overrides: Parameters<typeof testConfig>[0] = {}) {
  const starter = new TemporalIncidentStarter({ taskQueue, timeoutMs: 10_000, client });
  const running = await startIngress(
    testConfig({
      taskQueue,
      timeScale,
      bearerTokens: TOKEN,
      rateLimitPerSecond: 100_000,
      rateLimitBurst: 100_000,
      signalConcurrency: 16,
      ...overrides,
    }),
    { starter, rules: defaultRules() },
  );
  ingresses.push(running);
  return httpClient(running.app);
}

const status = (workflowId: string) => client.workflow.getHandle(workflowId).query(statusQuery);

beforeAll(async () => {
  ({ client, close: closeClient } = await testClient());
  worker = await startTestWorker({ taskQueue });
});

afterAll(async () => {
  for (const i of ingresses) await i.close();
  await closeAllApps();
  await worker?.stop();
  await closeClient?.();
});

describe('recorded Alertmanager and Grafana notifications', () => {
  it('Alertmanager firing opens one incident; repeats add to it; resolved only notes the clearing', async () => {
    const http = await ingress(1);
    const first = await http.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      headers: auth,
      payload: fixture('alertmanager-firing.json'),
    });
    expect(first.statusCode).toBe(200);
    const { workflowId, runId } = first.json().incidents[0];
    // 2xx came after Temporal accepted the signal: the run exists now.
    const desc = await client.workflow.getHandle(workflowId).describe();
    expect(desc.runId).toBe(runId);
    expect(desc.type).toBe('incidentWorkflow');
    expect(desc.taskQueue).toBe(taskQueue);
    expect(desc.searchAttributes).toMatchObject({
      IncidentSeverity: ['P0'],
      IncidentKind: ['trading-system-down'],
    });
    expect(await desc.staticSummary()).toContain('TradingAPIDown');
    expect(await desc.staticDetails()).toContain('Dedup key');

    const again = await http.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      headers: auth,
      payload: fixture('alertmanager-firing.json'),
    });
    expect(again.json().incidents[0]).toMatchObject({ workflowId, runId });
    await waitFor(
      () => status(workflowId),
      (s) => s.alerts.received === 2,
      { what: 'two alerts counted' },
    );

    const resolved = await http.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      headers: auth,
      payload: fixture('alertmanager-resolved.json'),
    });
    expect(resolved.statusCode).toBe(200);
    const s = await waitFor(
      () => status(workflowId),
      (x) => x.alerts.resolved === 1,
      { what: 'resolved alert counted' },
    );
    expect(s).toMatchObject({
      kind: 'trading-system-down',
      severity: 'P0',
      status: 'triggered',
      alerts: { firing: 0, received: 2 },
    });
    const timeline = await client.workflow.getHandle(workflowId).query(timelineQuery);
    expect(timeline.map((e) => e.type)).toContain('alerts.cleared');
  });

  it('a mixed group and a Grafana notification', async () => {
    const http = await ingress(1);
    const mixed = await http.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      headers: auth,
      payload: fixture('alertmanager-mixed.json'),
    });
    expect(mixed.statusCode).toBe(200);
    const db = mixed.json().incidents[0];
    const s = await waitFor(
      () => status(db.workflowId),
      (x) => x.alerts.received === 2 && x.alerts.resolved === 1,
      { what: 'mixed group counted' },
    );
    expect(s).toMatchObject({ kind: 'database-connection', severity: 'P2' });
    const grafana = await http.inject({
      method: 'POST',
      url: '/v1/alerts/grafana',
      headers: auth,
      payload: fixture('grafana-firing.json'),
    });
    expect(grafana.statusCode).toBe(200);
    const g = await waitFor(
      () => status(grafana.json().incidents[0].workflowId),
      (x) => x.alerts.received === 1,
      { what: 'grafana alert' },
    );
    expect(g).toMatchObject({ kind: 'data-source-down', severity: 'P1' });
  });

  it('opens an incident by hand with a Web UI link', async () => {
    const http = await ingress(1);
    const res = await http.inject({
      method: 'POST',
      url: '/v1/incidents',
      headers: auth,
      payload: {
        title: 'Kill switch triggered unexpectedly',
        severity: 'P0',
        kind: 'trading-system-down',
        openedBy: 'ana',
      },
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.url).toBe(
      `http://127.0.0.1:8233/namespaces/default/workflows/${body.workflowId}/${body.runId}/history`,
    );
    const s = await waitFor(
      () => status(body.workflowId),
      (x) => x.title.length > 0,
      { what: 'manual incident' },
    );
    expect(s).toMatchObject({
      severity: 'P0',
      kind: 'trading-system-down',
      title: 'Kill switch triggered unexpectedly',
    });
  });
});

describe('alert storm', () => {
  it('1,000 alerts over 10 keys sent concurrently make exactly 10 incidents with every alert counted', async () => {
    const http = await ingress(1);
    const KEYS = 10;
    const PER_KEY = 100;
    const jobs = Array.from({ length: KEYS * PER_KEY }, (_, i) => ({
      key: i % KEYS,
      n: Math.floor(i / KEYS),
    }));
    const ids = new Set<string>();
    const codes = new Map<number, number>();
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < jobs.length) {
          const job = jobs[next++]!;
          const payload = alertmanagerPayload([
            {
              alertname: 'HighFeatureDrift',
              labels: { service: `storm-svc-${job.key}`, feature: `f${job.n}` },
              fingerprint: `storm-${job.key}-${job.n}`,
            },
          ]);
          const res = await http.inject({
            method: 'POST',
            url: '/v1/alerts/alertmanager',
            headers: auth,
            payload,
          });
          codes.set(res.statusCode, (codes.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode === 200) ids.add(res.json().incidents[0].workflowId);
        }
      }),
    );
    const elapsed = Date.now() - started;
    expect(Object.fromEntries(codes)).toEqual({ 200: KEYS * PER_KEY });
    expect(ids.size).toBe(KEYS);
    // Every incident counts exactly its 100 alerts, and no other incident exists on this key space.
    const counts = await Promise.all(
      [...ids].map((id) =>
        waitFor(
          () => status(id),
          (s) => s.alerts.received === PER_KEY,
          { what: `${id} counts ${PER_KEY}`, timeoutMs: 60_000 },
        ),
      ),
    );
    expect(counts.reduce((sum, s) => sum + s.alerts.received, 0)).toBe(KEYS * PER_KEY);
    let runs = 0;
    for await (const wf of client.workflow.list({
      query: `TaskQueue = '${taskQueue}' AND IncidentKind = 'model-degradation'`,
    })) {
      if (ids.has(wf.workflowId)) runs += 1;
    }
    expect(runs).toBe(KEYS);
    console.log(
      `storm: ${KEYS * PER_KEY} alerts in ${elapsed} ms (${Math.round((KEYS * PER_KEY * 1000) / elapsed)} alerts/s)`,
    );
  });
});

/** The alerts the incident received, as Temporal recorded the alertFired signals. */
async function signalledAlerts(workflowId: string): Promise<Alert[]> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const alerts: Alert[] = [];
  for (const e of history.events ?? []) {
    const sig = e.workflowExecutionSignaledEventAttributes;
    if (sig?.signalName !== 'alertFired') continue;
    const data = sig.input?.payloads?.[0]?.data;
    if (!data) continue;
    const body = JSON.parse(Buffer.from(data).toString('utf8')) as {
      alert?: Alert;
      alerts?: { alert: Alert }[];
    };
    alerts.push(...(body.alerts ? body.alerts.map((a) => a.alert) : body.alert ? [body.alert] : []));
  }
  return alerts;
}

describe('issue 12 item 6: a real alert is never dropped for its size', () => {
  it('a 60,000-character description: accepted, the incident opens, the truncation is recorded', async () => {
    const http = await ingress(1);
    const description =
      `panic: runtime error: index out of range\n${'goroutine 1 [running]:\nmain.handle(0xc0000b2000)\n'.repeat(1500)}`.slice(
        0,
        60_000,
      );
    expect(description).toHaveLength(60_000);
    const payload = alertmanagerPayload([
      { alertname: 'IngressStackTrace', labels: { service: 'long-desc', severity: 'warning' } },
    ]);
    payload.alerts[0]!.annotations = { summary: 'order router crashed', description };
    const res = await http.inject({ method: 'POST', url: '/v1/alerts/alertmanager', headers: auth, payload });
    expect(res.statusCode).toBe(200);
    expect(res.json().truncated).toEqual({
      alerts: 1,
      examples: ['alerts[0].annotations.description: 60000 -> 16384 chars'],
    });
    const { workflowId } = res.json().incidents[0];
    await waitFor(
      () => status(workflowId),
      (x) => x.alerts.received === 1,
      { what: 'alert counted' },
    );
    // The timeline says so...
    const timeline = await client.workflow.getHandle(workflowId).query(timelineQuery);
    expect(timeline.find((e) => e.type === 'alert.fired')?.text).toBe(
      'Alert firing: IngressStackTrace: order router crashed [ingress: truncated annotations.description]',
    );
    // ...the Web UI details too, and the alert Temporal recorded carries the marked head and the list.
    const desc = await client.workflow.getHandle(workflowId).describe();
    expect(await desc.staticDetails()).toContain(
      '- Truncated by ingress: annotations.description: 60000 -> 16384 chars',
    );
    // The signal Temporal recorded carries the alert trimmed to what the incident keeps (issue 9 item 4):
    // no annotations (they stay in the static details and the ingress log), the summary says it was cut.
    const [alert] = await signalledAlerts(workflowId);
    expect(alert?.annotations).toBeUndefined();
    expect(alert?.summary).toBe('order router crashed [ingress: truncated annotations.description]');
    expect(JSON.stringify(alert).length).toBeLessThan(1000);
    expect(description.length).toBe(60_000);
  });

  it('one notification of 1,000 alerts (about 1.5 MB): accepted, every incident opens with all its alerts', async () => {
    const http = await ingress(1);
    const group = bigAlertmanagerGroup(1000, { services: 10, tag: 'thousand' });
    expect(Buffer.byteLength(JSON.stringify(group))).toBeGreaterThan(1024 * 1024);
    const started = Date.now();
    const res = await http.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      headers: auth,
      payload: group,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ received: 1000, firing: 1000, folded: 0, dropped: 0 });
    expect(body.incidents).toHaveLength(10);
    const counts = await Promise.all(
      (body.incidents as { workflowId: string }[]).map((i) =>
        waitFor(
          () => status(i.workflowId),
          (s) => s.alerts.received === 100,
          { what: `${i.workflowId} counts 100`, timeoutMs: 60_000 },
        ),
      ),
    );
    expect(counts.reduce((n, s) => n + s.alerts.firing, 0)).toBe(1000);
    console.log(`1,000-alert notification answered 200 in ${Date.now() - started} ms`);
  });

  it('more alerts than the per-request limit: accepted, the rest folded in, and the timeline says how many', async () => {
    const http = await ingress(1, { maxAlertsPerRequest: 100 });
    const group = bigAlertmanagerGroup(150, { services: 2, tag: 'overlimit' });
    const res = await http.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      headers: auth,
      payload: group,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ received: 150, folded: 50, dropped: 0 });
    for (const inc of body.incidents as { workflowId: string; fired: number; folded: number }[]) {
      expect(inc.fired + inc.folded).toBe(75);
      const s = await waitFor(
        () => status(inc.workflowId),
        (x) => x.alerts.received === inc.fired,
        { what: 'signalled alerts counted' },
      );
      expect(s.alerts.received).toBe(inc.fired);
      const fired = (await client.workflow.getHandle(inc.workflowId).query(timelineQuery)).filter(
        (e) => e.type === 'alert.fired',
      );
      expect(fired[fired.length - 1]?.text).toMatch(
        new RegExp(`\\[ingress: ${inc.folded} more alert\\(s\\) of this notification folded in\\]$`),
      );
    }
  });
});

describe('incident closed', () => {
  it('the same key opens a new incident run after the previous one closed', async () => {
    // timeScale 600: the 30-minute reopen window passes in 3 s.
    const http = await ingress(600);
    // An unknown alert (generic kind, no procedure child workflow): only the incident lifecycle runs.
    const payload = alertmanagerPayload([
      { alertname: 'IngressReuseCheck', labels: { service: 'closing', severity: 'warning' } },
    ]);
    const first = (
      await http.inject({ method: 'POST', url: '/v1/alerts/alertmanager', headers: auth, payload })
    ).json().incidents[0];
    const handle = client.workflow.getHandle(first.workflowId);
    await waitFor(
      () => status(first.workflowId),
      (s) => s.alerts.received === 1,
      { what: 'first alert' },
    );
    await handle.executeUpdate(resolveUpdate, { args: [{ by: 'ana', rootCause: 'test' }] });
    await waitFor(
      async () => (await handle.describe()).status.name,
      (st) => st === 'COMPLETED',
      { what: 'incident closed', timeoutMs: 30_000 },
    );
    const second = (
      await http.inject({ method: 'POST', url: '/v1/alerts/alertmanager', headers: auth, payload })
    ).json().incidents[0];
    expect(second.workflowId).toBe(first.workflowId);
    expect(second.runId).not.toBe(first.runId);
    const s = await waitFor(
      () => status(second.workflowId),
      (x) => x.alerts.received === 1,
      { what: 'new run counts its alert' },
    );
    expect(s.status).toBe('triggered');
  });
});
