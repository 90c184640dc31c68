// Heartbeat monitors through the real ingress (HTTP over loopback) and the dev server, with a worker on this
// file's own task queue: beats keep a monitor quiet; stopping them opens exactly one incident after period +
// grace (not before, and within seconds after), paged by its severity's matrix; resumed beats clear its alert
// (timeline and channel); after resolution a second silence opens a new incident; the Watchdog zero-config path.
import type { Client } from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/client';
import { readOutbox } from '../../src/activities/notify/outbox';
import { silenceIncidentWorkflowId } from '../../src/activities/heartbeat';
import { startIngress, type RunningIngress } from '../../src/ingress/start';
import { TemporalIncidentStarter } from '../../src/ingress/starter';
import { heartbeatsConfigSchema, type MonitorStatus } from '../../src/playbook/contract/heartbeat';
import type { IncidentStatus } from '../../src/playbook/contract/incident';
import { monitorStatusQuery } from '../../src/workflows/heartbeat-definitions';
import { resolveUpdate, statusQuery, timelineQuery } from '../../src/workflows/definitions';
import { startTestWorker, testClient, uniqueTaskQueue, waitFor, type TestWorker } from '../harness/temporal';
import { alertmanagerPayload, closeAllApps, defaultRules, testConfig } from '../ingress/helpers';
import { request } from 'undici';
import { recordHistory } from '../harness/history';

const TOKEN = 'heartbeat-token-51a9';
const RUN = Date.now().toString(36);
/** Seconds: short so a silence comes within a test. */
const PERIOD = 2;
const GRACE = 1;
const WINDOW_MS = (PERIOD + GRACE) * 1000;

const names = {
  quiet: `hbq-${RUN}`,
  silent: `hbs-${RUN}`,
  watchdogless: `hbw-${RUN}`,
};

let client: Client;
let closeClient: () => Promise<void>;
let worker: TestWorker;
let ingress: RunningIngress;
let base: string;
const taskQueue = uniqueTaskQueue('heartbeat');

beforeAll(async () => {
  ({ client, close: closeClient } = await testClient());
  // The watchdog monitor's id is one per namespace: a run left by another file would be on its task queue.
  await client.workflow
    .getHandle('heartbeat-watchdog')
    .terminate('test start')
    .catch(() => undefined);
  worker = await startTestWorker({ taskQueue });
  const starter = new TemporalIncidentStarter({ taskQueue, timeoutMs: 10_000, client });
  ingress = await startIngress(
    testConfig({
      taskQueue,
      // The incidents' playbook clock: the 30-minute reopen window passes in 3 s.
      timeScale: 600,
      bearerTokens: TOKEN,
      rateLimitPerSecond: 100_000,
      rateLimitBurst: 100_000,
      port: 0,
    }),
    {
      starter,
      rules: defaultRules(),
      heartbeats: heartbeatsConfigSchema.parse({
        monitors: [
          { name: names.quiet, periodSeconds: PERIOD, graceSeconds: GRACE },
          {
            name: names.silent,
            periodSeconds: PERIOD,
            graceSeconds: GRACE,
            severity: 'P1',
            description: 'test job',
          },
        ],
      }),
    },
  );
  base = ingress.url;
});

afterAll(async () => {
  // The monitors would keep their timers: end them (and what they opened) before the replay check.
  for (const id of [
    'heartbeat-watchdog',
    silenceIncidentWorkflowId('watchdog'),
    ...Object.values(names).flatMap((name) => [`heartbeat-${name}`, silenceIncidentWorkflowId(name)]),
  ])
    await client.workflow
      .getHandle(id)
      .terminate('test over')
      .catch(() => undefined);
  await ingress?.close();
  await closeAllApps();
  await worker?.stop();
  await closeClient?.();
}, 120_000);

async function beat(
  name: string,
  source = 'test-cron',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await request(`${base}/v1/heartbeats/${name}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ source }),
  });
  return { status: res.statusCode, body: (await res.body.json()) as Record<string, unknown> };
}

const monitor = (name: string): Promise<MonitorStatus> =>
  client.workflow.getHandle(`heartbeat-${name}`).query(monitorStatusQuery);
const incident = (name: string): Promise<IncidentStatus | null> =>
  client.workflow
    .getHandle(silenceIncidentWorkflowId(name))
    .query(statusQuery)
    .catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('POST /v1/heartbeats/{name}', () => {
  it('answers 202 with the next deadline; an unknown name 404 and a malformed one 400, starting nothing', async () => {
    const before = Date.now();
    const ok = await beat(names.quiet);
    expect(ok.status).toBe(202);
    expect(ok.body).toMatchObject({
      name: names.quiet,
      workflowId: `heartbeat-${names.quiet}`,
      periodSeconds: PERIOD,
      graceSeconds: GRACE,
    });
    const deadline = Date.parse(ok.body.deadline as string);
    expect(deadline).toBeGreaterThanOrEqual(before + WINDOW_MS);
    expect(deadline).toBeLessThanOrEqual(Date.now() + WINDOW_MS);
    expect((await monitor(names.quiet)).deadline).toBe(ok.body.deadline);

    const unknown = await beat(`nope-${RUN}`);
    expect(unknown.status).toBe(404);
    expect(JSON.stringify(unknown.body)).toContain('heartbeats.monitors');
    await expect(client.workflow.getHandle(`heartbeat-nope-${RUN}`).describe()).rejects.toThrow(
      WorkflowNotFoundError,
    );
    const bad = await beat('Bad..Name!');
    expect(bad.status).toBe(400);
    const noAuth = await request(`${base}/v1/heartbeats/${names.quiet}`, { method: 'POST' });
    expect(noAuth.statusCode).toBe(401);
    await noAuth.body.dump();
  });

  it('beats once a second keep a monitor quiet: healthy, no silence, no incident', async () => {
    for (let i = 0; i < 8; i++) {
      expect((await beat(names.quiet)).status).toBe(202);
      await sleep(1000);
    }
    const st = await monitor(names.quiet);
    expect(st).toMatchObject({ state: 'healthy', silences: 0, lastBeatSource: 'test-cron' });
    expect(st.beats).toBeGreaterThanOrEqual(9);
    expect(await incident(names.quiet)).toBeNull();
    // Its beats stop with this test: end it before it calls that silence.
    await client.workflow.getHandle(`heartbeat-${names.quiet}`).terminate('test over');
  }, 30_000);
});

describe('a silence', () => {
  let lastBeat = 0;
  let firstIncidentId = '';

  it('opens exactly one incident after period + grace, not before, and pages by its severity', async () => {
    for (let i = 0; i < 3; i++) {
      await beat(names.silent, 'nightly-job');
      lastBeat = Date.now();
      await sleep(500);
    }
    // Just before the deadline: still healthy, nothing opened.
    await sleep(WINDOW_MS - 800);
    expect((await monitor(names.silent)).state).toBe('healthy');
    expect(await incident(names.silent)).toBeNull();
    const st = await waitFor(
      () => monitor(names.silent),
      (s) => s.state === 'silent' && s.incidentWorkflowId !== undefined,
      { what: 'the monitor to go silent', timeoutMs: 15_000 },
    );
    const openedAfterMs = Date.now() - lastBeat;
    expect(openedAfterMs).toBeGreaterThanOrEqual(WINDOW_MS);
    expect(openedAfterMs).toBeLessThan(WINDOW_MS + 5_000);
    expect(st.incidentWorkflowId).toBe(silenceIncidentWorkflowId(names.silent));
    const inc = await waitFor(
      () => incident(names.silent),
      (s) => s !== null,
      { what: 'the incident' },
    );
    expect(inc).toMatchObject({
      kind: 'monitoring-gap',
      severity: 'P1',
      title: `Heartbeat missing: ${names.silent} (test job)`,
      status: 'triggered',
    });
    firstIncidentId = inc!.incidentId;
    // The timeline says when the last beat came and what sent it.
    const timeline = await client.workflow.getHandle(st.incidentWorkflowId!).query(timelineQuery);
    const fired = timeline.find((e) => e.type === 'alert.fired' || e.type === 'opened');
    expect(JSON.stringify(timeline)).toContain(`last beat at ${st.lastBeatAt} from nightly-job`);
    expect(fired).toBeDefined();
    // The P1 matrix's first step pages its roles (outbox).
    const pages = await waitFor(
      async () => (await readOutbox(worker.outbox.file)).filter((r) => r.incidentId === firstIncidentId),
      (rows) => rows.some((r) => r.kind === 'page'),
      { what: 'the P1 page in the outbox' },
    );
    expect(pages.filter((r) => r.kind === 'page').map((r) => r.target)).toEqual(
      expect.arrayContaining(['oncall-primary']),
    );
    // Missed periods after that open nothing more: one incident per silence.
    await sleep(2 * WINDOW_MS);
    const again = await monitor(names.silent);
    expect(again.silences).toBe(1);
    expect((await incident(names.silent))!.incidentId).toBe(firstIncidentId);
    let runs = 0;
    for await (const _ of client.workflow.list({ query: `WorkflowId = '${st.incidentWorkflowId}'` }))
      runs += 1;
    expect(runs).toBe(1);
  }, 60_000);

  it('resumed beats are recorded on the incident as the alert clearing (timeline and channel)', async () => {
    const r = await beat(names.silent, 'nightly-job-rerun');
    expect(r.status).toBe(202);
    const st = await waitFor(
      () => monitor(names.silent),
      (s) => s.state === 'healthy',
      {
        what: 'the monitor healthy again',
      },
    );
    expect(st.lastBeatSource).toBe('nightly-job-rerun');
    const wid = silenceIncidentWorkflowId(names.silent);
    const timeline = await waitFor(
      () => client.workflow.getHandle(wid).query(timelineQuery),
      (t) => t.some((e) => e.type === 'alerts.cleared'),
      { what: 'alerts.cleared on the incident' },
    );
    expect(JSON.stringify(timeline.filter((e) => e.type === 'alert.resolved'))).toContain('resumed at');
    expect((await incident(names.silent))!.status).toBe('triggered');
    await waitFor(
      async () => (await readOutbox(worker.outbox.file)).filter((x) => x.incidentId === firstIncidentId),
      (rows) =>
        rows.some((x) => x.step.startsWith('alerts-cleared-') && x.text.includes('nightly-job-rerun')),
      { what: 'the channel message of the clearing' },
    );
  }, 30_000);

  it('after resolution and close, a second silence opens a new incident', async () => {
    const wid = silenceIncidentWorkflowId(names.silent);
    // Beats go on while the incident is resolved and closes (a silence inside its reopen window would reopen it).
    let beating = true;
    const beats = (async () => {
      while (beating) {
        await beat(names.silent, 'nightly-job');
        await sleep(500);
      }
    })();
    try {
      const resolved = await client.workflow
        .getHandle(wid)
        .executeUpdate(resolveUpdate, { args: [{ by: 'oncall-primary', resolution: 'job fixed' }] });
      expect(resolved).toMatchObject({ accepted: true, status: 'resolved' });
      // The reopen window (30 playbook minutes) passes in 3 s at timeScale 600; the incident closes.
      await waitFor(
        () => client.workflow.getHandle(wid).describe(),
        (d) => d.status.name === 'COMPLETED',
        { what: 'the first incident to close', timeoutMs: 30_000 },
      );
      expect((await monitor(names.silent)).silences).toBe(1);
    } finally {
      beating = false;
      await beats;
    }
    const second = await waitFor(
      () => incident(names.silent),
      (s) => s !== null && s.incidentId !== firstIncidentId,
      { what: 'a second incident', timeoutMs: 20_000 },
    );
    expect(second).toMatchObject({ kind: 'monitoring-gap', status: 'triggered' });
    expect((await monitor(names.silent)).silences).toBe(2);
    await recordHistory(client.workflow.getHandle(`heartbeat-${names.silent}`), 'heartbeat-two-silences');
    await recordHistory(client.workflow.getHandle(wid), 'heartbeat-incident');
  }, 90_000);
});

describe("Alertmanager's Watchdog", () => {
  it('beats the `watchdog` monitor, created with its built-in spec at the first Watchdog', async () => {
    const res = await request(`${base}/v1/alerts/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(alertmanagerPayload([{ alertname: 'Watchdog', labels: { severity: 'none' } }])),
    });
    expect(res.statusCode).toBe(200);
    const body = (await res.body.json()) as { heartbeats: { name: string; deadline: string }[] };
    expect(body.heartbeats).toEqual([expect.objectContaining({ name: 'watchdog', periodSeconds: 120 })]);
    const st = await client.workflow.getHandle('heartbeat-watchdog').query(monitorStatusQuery);
    expect(st).toMatchObject({ name: 'watchdog', periodSeconds: 120, graceSeconds: 180, severity: 'P2' });
    expect(st.state).toBe('healthy');
    expect(st.lastBeatSource).toBe('alertmanager');
    const desc = await client.workflow.getHandle('heartbeat-watchdog').describe();
    expect(desc.searchAttributes).toMatchObject({ HeartbeatState: ['healthy'] });
  });
});

describe('an Alertmanager that stops sending its Watchdog', () => {
  it('opens a P2 "Heartbeat missing: watchdog" incident after period + grace', async () => {
    await client.workflow
      .getHandle('heartbeat-watchdog')
      .terminate('next test')
      .catch(() => undefined);
    // The built-in spec (120 + 180 s) is proven by the test above and the core's; here the deployment
    // shortens it, as `monitors:` allows, so the silence comes within the test.
    const starter = new TemporalIncidentStarter({ taskQueue, timeoutMs: 10_000, client });
    const short = await startIngress(
      testConfig({ taskQueue, timeScale: 600, bearerTokens: TOKEN, port: 0 }),
      {
        starter,
        rules: defaultRules(),
        heartbeats: heartbeatsConfigSchema.parse({
          monitors: [{ name: 'watchdog', periodSeconds: PERIOD, graceSeconds: GRACE }],
        }),
      },
    );
    try {
      const res = await request(`${short.url}/v1/alerts/alertmanager`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(alertmanagerPayload([{ alertname: 'Watchdog', labels: { severity: 'none' } }])),
      });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
      const last = Date.now();
      const st = await waitFor(
        () => monitor('watchdog'),
        (s) => s.state === 'silent' && s.incidentWorkflowId !== undefined,
        { what: 'the watchdog monitor silent', timeoutMs: 15_000 },
      );
      expect(Date.now() - last).toBeGreaterThanOrEqual(WINDOW_MS - 100);
      const inc = await waitFor(
        () => incident('watchdog'),
        (s) => s !== null,
        { what: 'the watchdog incident' },
      );
      expect(inc).toMatchObject({
        severity: 'P2',
        kind: 'monitoring-gap',
        title: 'Heartbeat missing: watchdog',
      });
      expect(st.lastBeatSource).toBe('alertmanager');
      const silent: string[] = [];
      await waitFor(
        async () => {
          silent.length = 0;
          for await (const w of client.workflow.list({
            query: `HeartbeatState = 'silent' AND WorkflowId = 'heartbeat-watchdog' AND ExecutionStatus = 'Running'`,
          }))
            silent.push(w.workflowId);
          return silent.length;
        },
        (n) => n === 1,
        { what: "workflow list HeartbeatState='silent'" },
      );
    } finally {
      await short.close();
    }
  }, 60_000);
});
