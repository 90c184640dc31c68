// npm run bench:ingress — alerts/s and webhook-to-first-page latency (p50/p99) through the ingress, beside
// a baseline measured in the same run: a bare client signalWithStart of a workflow that runs one activity.
// Starts its own in-memory dev server unless TEMPORAL_ADDRESS names one; options via env: BENCH_ALERTS (200), BENCH_CONCURRENCY (16),
// BENCH_STORM (1000 alerts over 10 keys, throughput of deduplicated alerts), BENCH_STORM_BATCH (10 alerts
// per notification, as Alertmanager groups them), BENCH_HOUR_SCALE (120: the timeScale of the measured
// unacknowledged P1 playbook hour; 0 skips it).
import { Client, Connection } from '@temporalio/client';
import { WORKFLOW_PRELOAD_MODULES } from '../src/temporal/bundle';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { temporal } from '@temporalio/proto';
import { createActivities } from '../src/activities';
import { OutboxChannel } from '../src/activities/notify/outbox';
import type { DeliveryResult, NotificationChannel } from '../src/activities/notify/port';
import type { Notification } from '../src/playbook/contract/notification';
import { loadIngressConfig } from '../src/ingress/config';
import { startIngress } from '../src/ingress/start';
import { TemporalIncidentStarter } from '../src/ingress/starter';
import { startDevServer } from './lib/dev-server';
import { parseIncidentId } from '../src/playbook/contract/incident-id';
import { ensureTemporalCli } from './lib/temporal-cli';
import { ensureTemporalReady } from '../src/temporal/readiness';

const ALERTS = Number(process.env.BENCH_ALERTS ?? 200);
const BENCH_TOKEN = 'bench-ingress-token';
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const STORM = Number(process.env.BENCH_STORM ?? 1000);
const STORM_BATCH = Math.max(1, Number(process.env.BENCH_STORM_BATCH ?? 10));
const HOUR_SCALE = Number(process.env.BENCH_HOUR_SCALE ?? 120);
const quiet = () => undefined;

/** The outbox, noting when each incident's first page was written. */
class TimedOutbox implements NotificationChannel {
  readonly name = 'outbox';
  readonly firstPage = new Map<string, number>();
  private waiters = new Map<string, () => void>();
  constructor(private readonly inner: OutboxChannel) {}
  async deliver(n: Notification): Promise<DeliveryResult> {
    const r = await this.inner.deliver(n);
    // Keyed by workflow id (what the ingress answers): a notification's incidentId is `<workflow id>@<opened>`.
    const id = parseIncidentId(n.incidentId)?.workflowId ?? n.incidentId;
    if (n.kind === 'page' && !this.firstPage.has(id)) {
      this.firstPage.set(id, performance.now());
      this.waiters.get(id)?.();
    }
    return r;
  }
  /** Fails after `timeoutMs` instead of hanging the benchmark when a page never comes. */
  waitFor(id: string, timeoutMs = 60_000): Promise<number> {
    const at = this.firstPage.get(id);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no first page for ${id} within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
      this.waiters.set(id, () => {
        clearTimeout(timer);
        resolve(this.firstPage.get(id) as number);
      });
    });
  }
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function pool<T>(n: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await fn(i);
      }
    }),
  );
  return out;
}

interface Result {
  name: string;
  alerts: number;
  seconds: number;
  latencies: number[];
}

function row(r: Result): string {
  const s = [...r.latencies].sort((a, b) => a - b);
  return `${r.name.padEnd(34)} ${String(r.alerts).padStart(6)} ${(r.alerts / r.seconds).toFixed(1).padStart(9)} ${pct(s, 50).toFixed(1).padStart(9)} ${pct(s, 99).toFixed(1).padStart(9)}`;
}

async function main() {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    /* already installed */
  }
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-ingress-'));
  // TEMPORAL_ADDRESS: measure against that server (a cluster: `npm run cluster`), namespace `default` or
  // TEMPORAL_NAMESPACE; otherwise an in-memory dev server of its own.
  const given = process.env.TEMPORAL_ADDRESS;
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  let server: { address: string; stop(): Promise<void> };
  if (given) {
    console.log(
      `[bench] server ${given} (namespace ${namespace}), ${os.cpus().length} CPUs, node ${process.version}`,
    );
    server = { address: given, stop: async () => undefined };
  } else {
    const cli = await ensureTemporalCli();
    console.log(`[bench] dev server (in memory), ${os.cpus().length} CPUs, node ${process.version}`);
    server = await startDevServer({ cli, logFile: path.join(tmp, 'dev-server.log') });
  }
  const runId = Date.now().toString(36);
  const incidentQueue = `bench-incident-${runId}`;
  const baselineQueue = `bench-baseline-${runId}`;
  const silent = {
    trace: quiet,
    debug: quiet,
    info: quiet,
    warn: console.warn,
    error: console.error,
    log: quiet,
  } as never;
  const [incidentBundle, baselineBundle] = await Promise.all([
    bundleWorkflowCode({
      workflowsPath: require.resolve('../src/workflows'),
      preloadModules: WORKFLOW_PRELOAD_MODULES,
      logger: silent,
    }),
    bundleWorkflowCode({ workflowsPath: require.resolve('./bench-workflow'), logger: silent }),
  ]);
  const nc = await NativeConnection.connect({ address: server.address });
  const outbox = new TimedOutbox(new OutboxChannel(path.join(tmp, 'outbox.jsonl'), quiet));
  const baselinePages = new Map<string, number>();
  const baselineWaiters = new Map<string, () => void>();
  const workers = await Promise.all([
    Worker.create({
      connection: nc,
      namespace,
      taskQueue: incidentQueue,
      workflowBundle: incidentBundle,
      activities: createActivities({ channels: { outbox }, policyOverrides: {} }),
    }),
    Worker.create({
      connection: nc,
      namespace,
      taskQueue: baselineQueue,
      workflowBundle: baselineBundle,
      activities: {
        async benchPage(id: string) {
          baselinePages.set(id, performance.now());
          baselineWaiters.get(id)?.();
        },
      },
    }),
  ]);
  const running = workers.map((w) => w.run());
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection, namespace });
  // Another server may lack the incident search attributes: the same start-up check as the engine's.
  await ensureTemporalReady(connection, namespace, (l) => console.log(`[bench] ${l}`));

  const starter = new TemporalIncidentStarter({ taskQueue: incidentQueue, timeoutMs: 10_000, client });
  const ingress = await startIngress(
    loadIngressConfig(
      {},
      {
        port: 0,
        logLevel: 'warn',
        taskQueue: incidentQueue,
        // As Alertmanager sends it: with a bearer token (http_config.authorization).
        bearerTokens: BENCH_TOKEN,
        rateLimitPerSecond: 1_000_000,
        rateLimitBurst: 1_000_000,
        routesFile: path.resolve(__dirname, '..', 'config', 'alert-routes.yaml'),
      },
    ),
    { starter },
  );
  const post = async (payload: unknown) => {
    const res = await request(`${ingress.url}/v1/alerts/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` },
      body: JSON.stringify(payload),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`ingress answered ${res.statusCode}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as { incidents: { workflowId: string; runId: string }[] };
  };
  const am = (service: string, ...fps: string[]) => ({
    version: '4',
    groupKey: service,
    status: 'firing',
    receiver: 'bench',
    truncatedAlerts: 0,
    alerts: fps.map((fp) => ({
      status: 'firing',
      // An alert no rule knows: a generic P1 incident, so the measure is ingress + incident workflow to the
      // first page, without a 3.1 procedure probing a trading platform that is not there.
      labels: { alertname: 'BenchmarkProbe', service, severity: 'critical' },
      annotations: { summary: 'bench' },
      startsAt: new Date().toISOString(),
      endsAt: '0001-01-01T00:00:00Z',
      fingerprint: fp,
    })),
  });

  // Warm-up: first workflow tasks load the bundles.
  console.log('[bench] warm-up');
  await outbox.waitFor((await post(am(`warm-${runId}`, 'warm'))).incidents[0]!.workflowId);
  await client.workflow.signalWithStart('benchBaselineWorkflow', {
    workflowId: `bench-warm-${runId}`,
    taskQueue: baselineQueue,
    args: ['warm'],
    signal: 'alertFired',
    signalArgs: [{}],
  });

  const results: Result[] = [];

  // Baseline: bare signalWithStart of a one-activity workflow, one new workflow per alert.
  {
    console.log(`[bench] baseline: ${ALERTS} alerts`);
    const t0 = performance.now();
    const latencies = await pool(ALERTS, CONCURRENCY, async (i) => {
      const id = `bench-base-${runId}-${i}`;
      const started = performance.now();
      const page = new Promise<number>((resolve) =>
        baselineWaiters.set(id, () => resolve(baselinePages.get(id) as number)),
      );
      await client.workflow.signalWithStart('benchBaselineWorkflow', {
        workflowId: id,
        taskQueue: baselineQueue,
        args: [id],
        signal: 'alertFired',
        signalArgs: [{ alert: { fingerprint: id } }],
      });
      return (await page) - started;
    });
    results.push({
      name: 'baseline signalWithStart+1 activity',
      alerts: ALERTS,
      seconds: (performance.now() - t0) / 1000,
      latencies,
    });
  }

  // Ingress: webhook -> routing -> signalWithStart(incidentWorkflow) -> first page in the outbox.
  {
    console.log(`[bench] ingress to first page: ${ALERTS} alerts`);
    const t0 = performance.now();
    const latencies = await pool(ALERTS, CONCURRENCY, async (i) => {
      const started = performance.now();
      const res = await post(am(`svc-${runId}-${i}`, `fp-${i}`));
      return (await outbox.waitFor(res.incidents[0]!.workflowId)) - started;
    });
    results.push({
      name: 'ingress webhook -> first page',
      alerts: ALERTS,
      seconds: (performance.now() - t0) / 1000,
      latencies,
    });
  }

  // Storm: deduplicated alerts (10 keys), accepted (2xx) per second; latency = webhook answer time. Each
  // notification carries STORM_BATCH alerts of one group, as Alertmanager sends them.
  let stormIncidents: { keys: number; runs: number; perKey: number[] } | null = null;
  if (STORM > 0) {
    const requests = Math.ceil(STORM / STORM_BATCH);
    console.log(`[bench] storm: ${STORM} alerts over 10 keys, ${STORM_BATCH} per notification`);
    const runs = new Map<string, Set<string>>();
    const t0 = performance.now();
    const latencies = await pool(requests, CONCURRENCY * 2, async (i) => {
      const started = performance.now();
      const fps = Array.from(
        { length: Math.min(STORM_BATCH, STORM - i * STORM_BATCH) },
        (_, j) => `storm-${i}-${j}`,
      );
      const res = await post(am(`storm-${runId}-${i % 10}`, ...fps));
      for (const inc of res.incidents) {
        const set = runs.get(inc.workflowId) ?? new Set<string>();
        set.add(inc.runId);
        runs.set(inc.workflowId, set);
      }
      return performance.now() - started;
    });
    const seconds = (performance.now() - t0) / 1000;
    results.push({ name: `ingress storm, 10 keys (2xx time/req)`, alerts: STORM, seconds, latencies });
    stormIncidents = {
      keys: runs.size,
      runs: [...runs.values()].reduce((n, r) => n + r.size, 0),
      perKey: [...runs.values()].map((r) => r.size),
    };
  }

  // One unacknowledged P1 playbook hour: history events and bytes of the incident (ingress start, default
  // policy: re-page every 5 min, matrix steps at 15, 30 and 60 min, response target breached at 15 min).
  let hour: { events: number; bytes: number } | null = null;
  if (HOUR_SCALE > 0) {
    const hourMs = 3_600_000 / HOUR_SCALE;
    console.log(
      `[bench] one unacknowledged P1 playbook hour at timeScale ${HOUR_SCALE} (${(hourMs / 1000).toFixed(0)} s)`,
    );
    const hourIngress = await startIngress(
      loadIngressConfig(
        {},
        {
          port: 0,
          logLevel: 'warn',
          taskQueue: incidentQueue,
          bearerTokens: BENCH_TOKEN,
          timeScale: HOUR_SCALE,
          routesFile: path.resolve(__dirname, '..', 'config', 'alert-routes.yaml'),
        },
      ),
      { starter },
    );
    const t0 = Date.now();
    const res = await request(`${hourIngress.url}/v1/alerts/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${BENCH_TOKEN}` },
      body: JSON.stringify(am(`hour-${runId}`, 'hour-1')),
    });
    const body = JSON.parse(await res.body.text()) as { incidents: { workflowId: string }[] };
    const workflowId = body.incidents[0]!.workflowId;
    // Until the round after minute 60 (the 60-minute step and its delivery are in the hour).
    const end = t0 + hourMs + (5 * 60_000) / HOUR_SCALE - 200;
    await new Promise((r) => setTimeout(r, end - Date.now() + 500));
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const inHour = (history.events ?? []).filter((e) => {
      const t = e.eventTime?.seconds
        ? Number(e.eventTime.seconds) * 1000 + (e.eventTime.nanos ?? 0) / 1e6
        : 0;
      return t <= end;
    });
    const byType = new Map<string, number>();
    const bytesOf = new Map<string, number>();
    for (const e of inHour) {
      const name = String(temporal.api.enums.v1.EventType[e.eventType ?? 0]).replace('EVENT_TYPE_', '');
      const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
      const key = activity ? `${name}(${activity})` : name;
      byType.set(key, (byType.get(key) ?? 0) + 1);
      bytesOf.set(
        key,
        (bytesOf.get(key) ?? 0) + temporal.api.history.v1.HistoryEvent.encode(e).finish().length,
      );
    }
    console.log(
      `[bench] the hour's events: ${[...byType]
        .sort((a, b) => b[1] - a[1])
        .map(([k, n]) => `${k} ${n} (${((bytesOf.get(k) ?? 0) / 1024).toFixed(1)} KB)`)
        .join(', ')}`,
    );
    hour = {
      events: inHour.length,
      bytes: inHour.reduce((n, e) => n + temporal.api.history.v1.HistoryEvent.encode(e).finish().length, 0),
    };
    await hourIngress.close();
  }

  const base = results[0]!;
  const ing = results[1]!;
  const sb = [...base.latencies].sort((a, b) => a - b);
  const si = [...ing.latencies].sort((a, b) => a - b);
  console.log(`\n[bench] ${new Date().toISOString()}  alerts=${ALERTS} concurrency=${CONCURRENCY}`);
  console.log(
    `${'path'.padEnd(34)} ${'alerts'.padStart(6)} ${'alerts/s'.padStart(9)} ${'p50 ms'.padStart(9)} ${'p99 ms'.padStart(9)}`,
  );
  for (const r of results) console.log(row(r));
  console.log(
    `\nratio ingress/baseline: throughput ${(ing.alerts / ing.seconds / (base.alerts / base.seconds)).toFixed(2)}x, ` +
      `p50 ${(pct(si, 50) / pct(sb, 50)).toFixed(2)}x, p99 ${(pct(si, 99) / pct(sb, 99)).toFixed(2)}x`,
  );
  if (stormIncidents)
    console.log(
      `storm: ${stormIncidents.runs} incident(s) over ${stormIncidents.keys} key(s) (runs per key: ${stormIncidents.perKey.join(',')}), ` +
        `${(STORM / results[2]!.seconds).toFixed(0)} alerts/s in ${Math.ceil(STORM / STORM_BATCH)} notifications of ${STORM_BATCH}`,
    );
  if (hour)
    console.log(
      `one unacknowledged P1 playbook hour: ${hour.events} history events, ${(hour.bytes / 1024).toFixed(1)} KB`,
    );

  await ingress.close();
  for (const w of workers) w.shutdown();
  await Promise.all(running);
  await connection.close();
  await nc.close();
  await server.stop();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
