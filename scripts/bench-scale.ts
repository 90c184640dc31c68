// npm run bench:scale — N P1 incidents opened at once on ONE worker at a time scale, so each escalation
// step and re-page is real load: starts/s, first-page latency, lateness of each matrix step against its due
// time, acknowledgement-to-seen latency, re-pages composed after an acknowledgement, and peak RSS of the
// worker (this process) and of the dev server. Starts its own in-memory dev server on loopback.
// Options via env: BENCH_INCIDENTS (1000), BENCH_TIME_SCALE (10), BENCH_SETTLE_S (30), BENCH_MAX_CACHED
// (1000), BENCH_CONCURRENCY (50), BENCH_FOOTPRINT (workflows per pass of the footprint comparison, 300; 0
// skips it; BENCH_ONLY_FOOTPRINT=1 stops after it), BENCH_TIMEOUT_S (hard limit; default from the others).
// First it compares one incident's footprint with a bare workflow's (scripts/bench-footprint.ts).
// The last line printed is one JSON object with the results.
import { Client, Connection } from '@temporalio/client';
import { WORKFLOW_PRELOAD_MODULES } from '../src/temporal/bundle';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createActivities } from '../src/activities';
import { measureFootprint, type FootprintResult } from './bench-footprint';
import { OutboxChannel } from '../src/activities/notify/outbox';
import type { DeliveryResult, NotificationChannel } from '../src/activities/notify/port';
import type { Notification } from '../src/playbook/contract/notification';
import {
  IncidentKindKey,
  IncidentSeverityKey,
  IncidentStatusKey,
  WORKFLOW_TYPE,
  acknowledgeSignal,
} from '../src/workflows/definitions';
import type { IncidentInput } from '../src/playbook/contract/incident';
import { startDevServer, type DevServer } from './lib/dev-server';
import { parseIncidentId } from '../src/playbook/contract/incident-id';
import { ensureTemporalCli } from './lib/temporal-cli';

const envNumber = (name: string, def: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name}=${raw} is not a positive number`);
  return v;
};

const N = Math.floor(envNumber('BENCH_INCIDENTS', 1000));
const TIME_SCALE = envNumber('BENCH_TIME_SCALE', 10);
const SETTLE_S = envNumber('BENCH_SETTLE_S', 30);
const MAX_CACHED = Math.floor(envNumber('BENCH_MAX_CACHED', 1000));
const CONCURRENCY = Math.floor(envNumber('BENCH_CONCURRENCY', 50));
const FOOTPRINT = process.env.BENCH_FOOTPRINT === '0' ? 0 : Math.floor(envNumber('BENCH_FOOTPRINT', 300));
/** Playbook minute (from each incident's start-call return) at which it is acknowledged. */
const ACK_AT_MINUTES = 70;
const MINUTE_MS = 60_000;
/** P1 matrix (src/playbook/escalation.ts): playbook minutes of each step. */
const STEPS = [0, 15, 30, 60] as const;
/** Deadline of each start / signal call. */
const CALL_TIMEOUT_MS = 30_000;
const ackDelayMs = (ACK_AT_MINUTES * MINUTE_MS) / TIME_SCALE;
const TIMEOUT_S = envNumber(
  'BENCH_TIMEOUT_S',
  // Starts (generously 20/s), the wait to minute 70, settle, plus a fixed margin for setup and shutdown.
  Math.ceil(N / 20 + ackDelayMs / 1000 + SETTLE_S + 300 + FOOTPRINT),
);

const quiet = () => undefined;
const log = (line: string) => console.log(`[bench:scale] ${line}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const mb = (bytes: number) => Math.round((bytes / (1024 * 1024)) * 10) / 10;
const round = (v: number) => (Number.isFinite(v) ? Math.round(v * 10) / 10 : null);

/** What was delivered for one incident, in this process's monotonic clock (performance.now()). */
interface IncidentRecord {
  /** Delivery time of each step's page, by playbook minute. */
  stepPage: Map<number, number>;
  firstPage: number | null;
  ackDelivered: number | null;
  /** Workflow time (epoch ms) the 'acknowledged' notification was composed: the ack as seen by it. */
  ackCreatedAt: number | null;
  /** Every delivered re-page: when it was delivered and its workflow compose time. */
  repages: { deliveredAt: number; createdAt: number }[];
}

/** The outbox, noting when each notification of the benchmark's incidents was delivered. */
class RecordingOutbox implements NotificationChannel {
  readonly name = 'outbox';
  readonly records: IncidentRecord[];
  delivered = 0;
  /** Deliveries for incidents not of the benchmark (the warm-up). */
  others = 0;
  pages = 0;
  repages = 0;
  acks = 0;
  duplicates = 0;
  constructor(
    private readonly inner: OutboxChannel,
    private readonly prefix: string,
    n: number,
  ) {
    this.records = Array.from({ length: n }, () => ({
      stepPage: new Map(),
      firstPage: null,
      ackDelivered: null,
      ackCreatedAt: null,
      repages: [],
    }));
  }

  async deliver(n: Notification): Promise<DeliveryResult> {
    const r = await this.inner.deliver(n);
    const now = performance.now();
    if (r.outcome === 'duplicate') {
      this.duplicates += 1;
      return r;
    }
    // A notification's incidentId is `<workflow id>@<opened>`; the workflow id ends with the index.
    const wid = parseIncidentId(n.incidentId)?.workflowId ?? n.incidentId;
    const rec = wid.startsWith(this.prefix) ? this.records[Number(wid.slice(this.prefix.length))] : undefined;
    if (!rec) {
      this.others += 1; // the warm-up incident
      return r;
    }
    this.delivered += 1;
    if (n.kind === 'page') {
      this.pages += 1;
      if (rec.firstPage === null) rec.firstPage = now;
      const m = /^escalate-P1-(\d+)m$/.exec(n.step);
      if (m && !rec.stepPage.has(Number(m[1]))) rec.stepPage.set(Number(m[1]), now);
    } else if (n.kind === 'repage') {
      this.repages += 1;
      rec.repages.push({ deliveredAt: now, createdAt: Date.parse(n.createdAt) });
    } else if (n.kind === 'acknowledged' && n.target === 'channel' && n.step === 'ack-0') {
      this.acks += 1;
      if (rec.ackDelivered === null) {
        rec.ackDelivered = now;
        rec.ackCreatedAt = Date.parse(n.createdAt);
      }
    }
    return r;
  }
}

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function stats(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return {
    count: s.length,
    p50Ms: round(pct(s, 50)),
    p99Ms: round(pct(s, 99)),
    maxMs: round(s.length ? (s[s.length - 1] as number) : NaN),
  };
}

async function pool(n: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, n) }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

/** Resident set of a process and its descendants, from /proc (kB values); null when unreadable. */
function procStatus(pid: number): { rssKb: number; hwmKb: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') };
  } catch {
    return null;
  }
}

function childPids(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(/\s+/).filter(Boolean).map(Number),
    );
  } catch {
    return [];
  }
}

/** Peak RSS of the dev server process tree: the max of 1 s samples and the kernel's high-water mark. */
class ServerRss {
  peakKb = 0;
  lastKb = 0;
  readable = false;
  constructor(private readonly pid: number | undefined) {}
  sample(): void {
    if (this.pid === undefined) return;
    const pids = [this.pid, ...childPids(this.pid)];
    let sum = 0;
    let any = false;
    for (const p of pids) {
      const s = procStatus(p);
      if (!s) continue;
      any = true;
      sum += Number.isFinite(s.rssKb) ? s.rssKb : 0;
      // The main process's high-water mark catches a peak between samples.
      if (p === this.pid && Number.isFinite(s.hwmKb)) this.peakKb = Math.max(this.peakKb, s.hwmKb);
    }
    if (!any) return;
    this.readable = true;
    this.lastKb = sum;
    this.peakKb = Math.max(this.peakKb, sum);
  }
}

async function main() {
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    /* already installed */
  }
  const cleanups: (() => Promise<void>)[] = [];
  const cleanup = async () => {
    while (cleanups.length) {
      try {
        await cleanups.pop()!();
      } catch (err) {
        console.error('[bench:scale] cleanup:', err);
      }
    }
  };
  let server: DevServer | null = null;
  // Hard bound on the whole run: stop the server and fail rather than hang.
  const watchdog = setTimeout(() => {
    console.error(`[bench:scale] did not finish within ${TIMEOUT_S} s (BENCH_TIMEOUT_S); aborting`);
    server?.process.kill('SIGKILL');
    process.exit(2);
  }, TIMEOUT_S * 1000);
  watchdog.unref();

  try {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-scale-'));
    const cli = await ensureTemporalCli();
    log(
      `incidents=${N} timeScale=${TIME_SCALE} ackAt=${ACK_AT_MINUTES}m (${ackDelayMs / 1000} s real) ` +
        `maxCachedWorkflows=${MAX_CACHED} concurrency=${CONCURRENCY} settle=${SETTLE_S}s timeout=${TIMEOUT_S}s`,
    );
    log(`dev server (in memory), ${os.cpus().length} CPUs, node ${process.version}, tmp ${tmp}`);
    server = await startDevServer({ cli, logFile: path.join(tmp, 'dev-server.log') });
    const srv = server;
    cleanups.push(() => srv.stop());
    const serverPid = srv.process.pid;
    const serverRss = new ServerRss(serverPid);

    let footprint: FootprintResult | null = null;
    if (FOOTPRINT > 0) {
      log(`footprint: ${FOOTPRINT} bare workflows, then ${FOOTPRINT} incidents, each pass on its own worker`);
      const fc = await Connection.connect({ address: srv.address });
      try {
        footprint = await measureFootprint({
          address: srv.address,
          connection: fc,
          workflows: FOOTPRINT,
          log,
        });
      } finally {
        await fc.close();
      }
      if (process.env.BENCH_ONLY_FOOTPRINT === '1') {
        await cleanup();
        clearTimeout(watchdog);
        console.log(JSON.stringify({ footprint }));
        return;
      }
    }

    const runId = Date.now().toString(36);
    const taskQueue = `bench-scale-${runId}`;
    const prefix = `bench-scale-${runId}-`;
    const silent = {
      trace: quiet,
      debug: quiet,
      info: quiet,
      warn: console.warn,
      error: console.error,
      log: quiet,
    } as never;
    const workflowBundle = await bundleWorkflowCode({
      workflowsPath: require.resolve('../src/workflows'),
      preloadModules: WORKFLOW_PRELOAD_MODULES,
      logger: silent,
    });
    const nc = await NativeConnection.connect({ address: srv.address });
    cleanups.push(() => nc.close());
    const outbox = new RecordingOutbox(new OutboxChannel(path.join(tmp, 'outbox.jsonl'), quiet), prefix, N);
    const worker = await Worker.create({
      connection: nc,
      taskQueue,
      workflowBundle,
      maxCachedWorkflows: MAX_CACHED,
      activities: createActivities({ channels: { outbox }, policyOverrides: {} }),
    });
    const running = worker.run();
    // A worker that stops or fails mid-run fails the benchmark instead of leaving it waiting.
    const workerFailed = running.then(() => {
      throw new Error('the worker stopped before the benchmark ended');
    });
    workerFailed.catch(() => undefined);
    const orWorkerFailure = <T>(p: Promise<T>): Promise<T> => Promise.race([p, workerFailed]);
    cleanups.push(async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => undefined);
    });
    const connection = await Connection.connect({ address: srv.address });
    cleanups.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default' });
    const withDeadline = <T>(fn: () => Promise<T>) =>
      connection.withDeadline(Date.now() + CALL_TIMEOUT_MS, fn);

    // Worker RSS: 1 s samples from here (the worker is running) to the end. The process's own peak
    // (getrusage maxRSS) is reported beside it: it also holds the workflow bundling (webpack) before.
    let workerPeak = process.memoryUsage().rss;
    const sampler = setInterval(() => {
      workerPeak = Math.max(workerPeak, process.memoryUsage().rss);
      serverRss.sample();
    }, 1000);
    cleanups.push(async () => clearInterval(sampler));
    serverRss.sample();

    const input = (title: string): IncidentInput => ({
      title,
      severity: 'P1',
      kind: 'generic',
      timeScale: TIME_SCALE,
      policyComplete: true,
      policy: { channels: ['outbox'] },
    });
    const startOptions = (workflowId: string, title: string) => ({
      taskQueue,
      workflowId,
      args: [input(title)] as [IncidentInput],
      typedSearchAttributes: [
        { key: IncidentSeverityKey, value: 'P1' },
        { key: IncidentStatusKey, value: 'triggered' },
        { key: IncidentKindKey, value: 'generic' },
      ],
    });

    // Warm-up: the first workflow task loads the bundle; one incident, acknowledged once it paged.
    log('warm-up');
    {
      const warmId = `bench-scale-warm-${runId}`;
      const before = outbox.others;
      const h = await withDeadline(() =>
        client.workflow.start(WORKFLOW_TYPE, startOptions(warmId, 'bench:scale warm-up')),
      );
      const until = performance.now() + 60_000;
      while (outbox.others === before) {
        if (performance.now() > until) throw new Error('warm-up incident delivered nothing within 60 s');
        await orWorkerFailure(sleep(50));
      }
      // Acknowledged, not terminated (a terminate racing its workflow task logs a core warning): it stops
      // re-paging and is left out of every measure.
      await withDeadline(() => h.signal(acknowledgeSignal, { by: 'bench' }));
    }

    const workerRssAtStart = process.memoryUsage().rss;
    const startReturned = new Array<number>(N).fill(NaN);
    const ackReturned = new Array<number>(N).fill(NaN);
    let started = 0;
    let acked = 0;
    const t0 = performance.now();
    const progress = setInterval(() => {
      log(
        `t+${Math.round((performance.now() - t0) / 1000)}s started=${started} pages=${outbox.pages} ` +
          `repages=${outbox.repages} acked=${acked} ackSeen=${outbox.acks} ` +
          `workerRss=${mb(process.memoryUsage().rss)}MB serverRss=${serverRss.readable ? `${mb(serverRss.lastKb * 1024)}MB` : 'n/a'}`,
      );
    }, 30_000);
    cleanups.push(async () => clearInterval(progress));

    // Open all incidents, ~CONCURRENCY start calls in flight.
    log(`starting ${N} incidents`);
    const progressEvery = Math.max(1, Math.round(N / 10));
    await orWorkerFailure(
      pool(N, CONCURRENCY, async (i) => {
        await withDeadline(() =>
          client.workflow.start(WORKFLOW_TYPE, startOptions(`${prefix}${i}`, `bench:scale incident ${i}`)),
        );
        startReturned[i] = performance.now();
        started += 1;
        if (started % progressEvery === 0 || started === N) log(`started ${started}/${N}`);
      }),
    );
    const startSeconds = (performance.now() - t0) / 1000;
    const startsPerSecond = N / startSeconds;
    log(`all started in ${startSeconds.toFixed(1)} s (${startsPerSecond.toFixed(1)} starts/s)`);

    // Acknowledge each at playbook minute 70 after its start call returned, ~CONCURRENCY signals in flight.
    const ackOrder = Array.from({ length: N }, (_, i) => i).sort(
      (a, b) => (startReturned[a] as number) - (startReturned[b] as number),
    );
    const firstAckDue = (startReturned[ackOrder[0] as number] as number) + ackDelayMs;
    log(
      `waiting ${Math.round((firstAckDue - performance.now()) / 1000)} s to acknowledge (minute ${ACK_AT_MINUTES})`,
    );
    await orWorkerFailure(
      pool(N, CONCURRENCY, async (k) => {
        const i = ackOrder[k] as number;
        await sleep((startReturned[i] as number) + ackDelayMs - performance.now());
        await withDeadline(() =>
          client.workflow.getHandle(`${prefix}${i}`).signal(acknowledgeSignal, { by: 'bench' }),
        );
        ackReturned[i] = performance.now();
        acked += 1;
        if (acked % progressEvery === 0 || acked === N) log(`acknowledged ${acked}/${N}`);
      }),
    );
    const ackLagMs = ackOrder.map(
      (i) => (ackReturned[i] as number) - ((startReturned[i] as number) + ackDelayMs),
    );

    log(`settling ${SETTLE_S} s for stragglers`);
    const settleUntil = performance.now() + SETTLE_S * 1000;
    while (performance.now() < settleUntil)
      await orWorkerFailure(sleep(Math.min(1000, settleUntil - performance.now())));
    const endedAt = performance.now();

    // Measures.
    workerPeak = Math.max(workerPeak, process.memoryUsage().rss);
    const processPeak = Math.max(workerPeak, process.resourceUsage().maxRSS * 1024);
    serverRss.sample();
    const firstPage: number[] = [];
    const stepLateness = new Map<number, number[]>(STEPS.map((m) => [m, []]));
    const stepMissing = new Map<number, number>(STEPS.map((m) => [m, 0]));
    let missingSteps = 0;
    let missingAck = 0;
    const ackSeen: number[] = [];
    let repagesAfterAck = 0;
    let repagesDeliveredAfterAckCall = 0;
    let incidentsRepagedAfterAck = 0;
    for (let i = 0; i < N; i++) {
      const rec = outbox.records[i]!;
      const s = startReturned[i] as number;
      if (rec.firstPage !== null) firstPage.push(rec.firstPage - s);
      let missing = false;
      for (const m of STEPS) {
        const at = rec.stepPage.get(m);
        if (at === undefined) {
          missing = true;
          stepMissing.set(m, (stepMissing.get(m) ?? 0) + 1);
        } else stepLateness.get(m)!.push(at - (s + (m * MINUTE_MS) / TIME_SCALE));
      }
      if (missing) missingSteps += 1;
      if (rec.ackDelivered === null) missingAck += 1;
      else ackSeen.push(rec.ackDelivered - (ackReturned[i] as number));
      let after = 0;
      for (const r of rec.repages) {
        if (rec.ackCreatedAt !== null && r.createdAt > rec.ackCreatedAt) after += 1;
        if (r.deliveredAt > (ackReturned[i] as number)) repagesDeliveredAfterAckCall += 1;
      }
      repagesAfterAck += after;
      if (after > 0) incidentsRepagedAfterAck += 1;
    }
    const steps = Object.fromEntries(
      STEPS.map((m) => [`${m}m`, { ...stats(stepLateness.get(m)!), missing: stepMissing.get(m) ?? 0 }]),
    ) as Record<string, ReturnType<typeof stats> & { missing: number }>;
    const stepP99s = Object.values(steps)
      .map((s) => s.p99Ms)
      .filter((v): v is number => v !== null);
    const fp = stats(firstPage);
    const ack = stats(ackSeen);
    const lag = stats(ackLagMs);
    const serverPeakMb = serverRss.readable ? mb(serverRss.peakKb * 1024) : null;
    const counts = {
      delivered: outbox.delivered,
      pages: outbox.pages,
      repages: outbox.repages,
      acks: outbox.acks,
      duplicates: outbox.duplicates,
    };

    // Shut down before printing, so nothing comes after the JSON line.
    clearInterval(progress);
    clearInterval(sampler);
    await cleanup();
    clearTimeout(watchdog);

    const f = (v: number | null) => (v === null ? 'n/a' : v.toFixed(1)).padStart(10);
    console.log('');
    log(
      `${new Date().toISOString()}  incidents=${N} timeScale=${TIME_SCALE} maxCachedWorkflows=${MAX_CACHED}`,
    );
    log(`run ${((endedAt - t0) / 1000).toFixed(0)} s; deliveries ${JSON.stringify(counts)}`);
    log(`starts/s ${startsPerSecond.toFixed(1)} (${N} in ${startSeconds.toFixed(1)} s)`);
    log(
      `first page after start call: p50 ${fp.p50Ms} ms, p99 ${fp.p99Ms} ms, max ${fp.maxMs} ms (${fp.count}/${N})`,
    );
    log(
      `${'step lateness'.padEnd(16)} ${'p50 ms'.padStart(10)} ${'p99 ms'.padStart(10)} ${'max ms'.padStart(10)} ${'missing'.padStart(8)}`,
    );
    for (const [name, s] of Object.entries(steps))
      log(
        `${`escalate-P1-${name}`.padEnd(16)} ${f(s.p50Ms)} ${f(s.p99Ms)} ${f(s.maxMs)} ${String(s.missing).padStart(8)}`,
      );
    log(`incidents missing a step: ${missingSteps}`);
    log(
      `ack call lag behind minute ${ACK_AT_MINUTES}: p50 ${lag.p50Ms} ms, p99 ${lag.p99Ms} ms, max ${lag.maxMs} ms`,
    );
    log(
      `ack-to-seen ('acknowledged' delivered - ack call returned): p50 ${ack.p50Ms} ms, p99 ${ack.p99Ms} ms, ` +
        `max ${ack.maxMs} ms; missing ${missingAck}`,
    );
    log(
      `re-pages composed after the ack (workflow time): ${repagesAfterAck} in ${incidentsRepagedAfterAck} incidents; ` +
        `re-pages delivered after the ack call returned (informational): ${repagesDeliveredAfterAckCall}`,
    );
    if (footprint) {
      const fpr = footprint;
      log(
        `footprint (${fpr.workflows} each): heap per cached workflow: incident ${fpr.heapPerCachedKb.incident} KB, ` +
          `bare ${fpr.heapPerCachedKb.bare} KB (${fpr.heapRatio}x)`,
      );
      log(
        `workflow-thread CPU per round: first ${fpr.firstRoundCpuMs.incident} ms vs bare ${fpr.firstRoundCpuMs.bare} ms ` +
          `(${fpr.firstRoundRatio}x); re-page ${fpr.repageRoundCpuMs.incident} ms vs bare ${fpr.repageRoundCpuMs.bare} ms (${fpr.repageRoundRatio}x)`,
      );
      log(
        `cache: ${fpr.cachedBeforeClose} with P3 incidents open, ${fpr.cachedAfterClose} once they closed, ` +
          `${fpr.cachedAfterTerminate} after the P1 incidents were terminated`,
      );
    }
    log(
      `peak RSS: worker ${mb(workerPeak)} MB (${workerPeak < 1024 ** 3 ? 'under' : 'OVER'} 1 GiB; ` +
        `${mb(workerRssAtStart)} MB before the first incident, process peak incl. bundling ${mb(processPeak)} MB), server ` +
        (serverPeakMb === null
          ? `not measured (pid ${serverPid ?? 'unknown'}, /proc unreadable)`
          : `${serverPeakMb} MB (pid ${serverPid})`),
    );
    console.log(
      JSON.stringify({
        incidents: N,
        timeScale: TIME_SCALE,
        maxCachedWorkflows: MAX_CACHED,
        startsPerSecond: round(startsPerSecond),
        firstPageP50Ms: fp.p50Ms,
        firstPageP99Ms: fp.p99Ms,
        // The worst of the four steps' p99 lateness.
        stepLatenessP99Ms: stepP99s.length ? Math.max(...stepP99s) : null,
        stepLateness: steps,
        missingSteps,
        ackSeenP50Ms: ack.p50Ms,
        ackSeenP99Ms: ack.p99Ms,
        ackSeenMaxMs: ack.maxMs,
        missingAcks: missingAck,
        repagesAfterAck,
        incidentsRepagedAfterAck,
        repagesDeliveredAfterAckCall,
        workerRssPeakMb: mb(workerPeak),
        workerRssBeforeIncidentsMb: mb(workerRssAtStart),
        processRssPeakMb: mb(processPeak),
        serverRssPeakMb: serverPeakMb,
        deliveries: counts,
        footprint,
      }),
    );
  } catch (err) {
    await cleanup();
    throw err;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
