// npm run bench:heartbeats — N heartbeat monitors (dead-man's switches) each beaten once a second through the
// real HTTP route (POST /v1/heartbeats/<name> over loopback), against ONE worker in a process of its own:
// beats sent / accepted / failed, the beat's HTTP latency, the worker's CPU time per beat and its RSS, and how
// far a monitor's `status` lags behind the last beat it was sent. Then the checks: no monitor went silent
// while beaten (every `status` healthy with 0 silences) and no incidentWorkflow was started on the task
// queue; and a control: one monitor stops being beaten and must go silent (and open its incident) within a
// few seconds of its deadline, proof that the checks can fail. Everything on loopback; every monitor and
// incident of the run is terminated at the end.
//
// Starts its own in-memory dev server unless TEMPORAL_ADDRESS names one (namespace TEMPORAL_NAMESPACE or
// `default`). Options via env: BENCH_MONITORS (200), BENCH_PERIOD (10 s), BENCH_GRACE (10 s), BENCH_SECONDS
// (60: the measured window), BENCH_WARMUP_S (5: beats before the window, which start the monitors),
// BENCH_CONTROL_SLACK_S (5: how late past its deadline the control may go silent), BENCH_LAG_SAMPLE (10:
// monitors queried every 2 s during the window), BENCH_IDLE_S (5: the worker's CPU measured idle before the
// first beat, so the CPU per beat can be given net of it), BENCH_TIMEOUT_S (hard limit; default from the others).
// Exit 1 if a monitor went silent while beaten, an incident was opened other than the control's, an accepted
// beat was not counted, or the control did not fire. The last line printed is one JSON object.
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Agent, request } from 'undici';
import { silenceIncidentWorkflowId } from '../src/activities/heartbeat';
import { loadIngressConfig } from '../src/ingress/config';
import { startIngress, type RunningIngress } from '../src/ingress/start';
import { TemporalIncidentStarter } from '../src/ingress/starter';
import {
  heartbeatsConfigSchema,
  heartbeatWorkflowId,
  type MonitorStatus,
} from '../src/playbook/contract/heartbeat';
import { WORKFLOW_PRELOAD_MODULES } from '../src/temporal/bundle';
import { ensureTemporalReady } from '../src/temporal/readiness';
import { WORKFLOW_TYPE } from '../src/workflows/definitions';
import { monitorStatusQuery } from '../src/workflows/heartbeat-definitions';
import { startDevServer } from './lib/dev-server';
import { ensureTemporalCli, PROJECT_ROOT } from './lib/temporal-cli';

const envNumber = (name: string, def: number, min = 1): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isFinite(v) || v < min) throw new Error(`${name}=${raw} is not a number >= ${min}`);
  return v;
};

const N = Math.floor(envNumber('BENCH_MONITORS', 200));
const PERIOD_S = Math.floor(envNumber('BENCH_PERIOD', 10));
const GRACE_S = Math.floor(envNumber('BENCH_GRACE', 10, 0));
const SECONDS = envNumber('BENCH_SECONDS', 60);
const WARMUP_S = envNumber('BENCH_WARMUP_S', 5);
const CONTROL_SLACK_S = envNumber('BENCH_CONTROL_SLACK_S', 5);
const LAG_SAMPLE = Math.min(N, Math.floor(envNumber('BENCH_LAG_SAMPLE', 10)));
const IDLE_S = envNumber('BENCH_IDLE_S', 5);
const WINDOW_S = PERIOD_S + GRACE_S;
/** How long past the control's deadline it is watched (to say how late it was, when it was late). */
const CONTROL_WATCH_S = CONTROL_SLACK_S + 30;
const TIMEOUT_S = envNumber(
  'BENCH_TIMEOUT_S',
  // Set-up (server, bundle, worker), warm-up, window, checks, the control, clean-up, plus a fixed margin.
  Math.ceil(240 + IDLE_S + WARMUP_S + SECONDS + WINDOW_S + CONTROL_WATCH_S + N / 10),
);
/** Deadline of each Temporal call of this process (queries, counts, terminations). */
const CALL_TIMEOUT_MS = 15_000;
const HTTP_TIMEOUT_MS = 10_000;
const TOKEN = randomUUID();
const TICK_MS = 1000 / 100; // USER_HZ: /proc reports CPU time in clock ticks of 10 ms

const log = (line: string) => console.log(`[bench:heartbeats] ${line}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const mb = (kb: number) => Math.round((kb / 1024) * 10) / 10;
const r1 = (v: number) => (Number.isFinite(v) ? Math.round(v * 10) / 10 : null);
const r2 = (v: number) => (Number.isFinite(v) ? Math.round(v * 100) / 100 : null);

function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

function stats(values: number[]) {
  const s = [...values].sort((a, b) => a - b);
  return {
    count: s.length,
    p50: r1(pct(s, 50)),
    p99: r1(pct(s, 99)),
    max: r1(s.length ? (s[s.length - 1] as number) : NaN),
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

/** CPU time (ms, utime + stime of every thread) of a process from /proc; NaN when unreadable. */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ": utime and stime are 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return NaN;
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

/** CPU time of a process and its children (the dev server's CLI and what it runs). */
const treeCpuMs = (pid: number): number =>
  [pid, ...childPids(pid)].map(processCpuMs).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);

/** VmRSS and VmHWM (kB) of a process; NaN when unreadable. */
function rssKb(pid: number): { rss: number; hwm: number } {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rss: field('VmRSS'), hwm: field('VmHWM') };
  } catch {
    return { rss: NaN, hwm: NaN };
  }
}

type Phase = 'warmup' | 'window' | 'after';

interface PhaseCounts {
  sent: number;
  accepted: number;
  failed: number;
  latencies: number[];
}

/** One monitor's beats as sent: counts, and the ingress's receipt time of the last beat it accepted. */
interface MonitorBeats {
  sent: number;
  accepted: number;
  failed: number;
  /** Epoch ms of the last accepted beat's `at` (what the monitor should hold as lastBeatAt). */
  lastAt: number;
  /** Its deadline as the ingress answered it. */
  lastDeadline: string | null;
  inFlight: number;
}

/**
 * Beats every monitor once a second, the N monitors spread evenly over the second (beat s goes to monitor
 * s mod N at t0 + s * 1000/N ms). A beat is not held back by the previous one still in flight.
 */
class Beater {
  readonly monitors: MonitorBeats[];
  readonly phases: Record<Phase, PhaseCounts> = {
    warmup: { sent: 0, accepted: 0, failed: 0, latencies: [] },
    window: { sent: 0, accepted: 0, failed: 0, latencies: [] },
    after: { sent: 0, accepted: 0, failed: 0, latencies: [] },
  };
  readonly failures = new Map<string, number>();
  phase: Phase = 'warmup';
  /** How late the beater fired a beat against its schedule (this process's own lag), ms. */
  maxScheduleLagMs = 0;
  private readonly stopped = new Set<number>();
  private running = false;
  private timer: NodeJS.Timeout | null = null;
  private inFlight = 0;
  private drained: (() => void) | null = null;

  constructor(
    private readonly url: string,
    private readonly names: string[],
    private readonly agent: Agent,
  ) {
    this.monitors = names.map(() => ({
      sent: 0,
      accepted: 0,
      failed: 0,
      lastAt: NaN,
      lastDeadline: null,
      inFlight: 0,
    }));
  }

  start(): void {
    this.running = true;
    const n = this.names.length;
    const stepMs = 1000 / n;
    const t0 = performance.now();
    let s = 0;
    const tick = () => {
      if (!this.running) return;
      const now = performance.now();
      while (t0 + s * stepMs <= now) {
        this.maxScheduleLagMs = Math.max(this.maxScheduleLagMs, now - (t0 + s * stepMs));
        const i = s % n;
        if (!this.stopped.has(i)) void this.beat(i);
        s += 1;
      }
      this.timer = setTimeout(tick, Math.max(1, t0 + s * stepMs - performance.now()));
    };
    tick();
  }

  /** Stops beating monitor i; resolves once its beats in flight have been answered. */
  async stopOne(i: number): Promise<void> {
    this.stopped.add(i);
    while ((this.monitors[i] as MonitorBeats).inFlight > 0) await sleep(10);
  }

  /** Stops beating; resolves once every beat in flight has been answered. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => (this.drained = resolve));
  }

  private async beat(i: number): Promise<void> {
    const m = this.monitors[i] as MonitorBeats;
    const ph = this.phases[this.phase];
    m.sent += 1;
    m.inFlight += 1;
    ph.sent += 1;
    this.inFlight += 1;
    const started = performance.now();
    try {
      const res = await request(`${this.url}/v1/heartbeats/${this.names[i]}`, {
        method: 'POST',
        dispatcher: this.agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ source: 'bench' }),
        headersTimeout: HTTP_TIMEOUT_MS,
        bodyTimeout: HTTP_TIMEOUT_MS,
      });
      const text = await res.body.text();
      const ms = performance.now() - started;
      if (res.statusCode !== 202) {
        this.fail(m, ph, `HTTP ${res.statusCode}: ${text.slice(0, 160)}`);
        return;
      }
      const answer = JSON.parse(text) as { at: string; deadline: string };
      const at = Date.parse(answer.at);
      m.accepted += 1;
      ph.accepted += 1;
      ph.latencies.push(ms);
      if (!(at <= m.lastAt)) {
        m.lastAt = at;
        m.lastDeadline = answer.deadline;
      }
    } catch (err) {
      this.fail(m, ph, (err as Error).message.slice(0, 160));
    } finally {
      m.inFlight -= 1;
      this.inFlight -= 1;
      if (this.inFlight === 0 && this.drained) this.drained();
    }
  }

  private fail(m: MonitorBeats, ph: PhaseCounts, reason: string): void {
    m.failed += 1;
    ph.failed += 1;
    this.failures.set(reason, (this.failures.get(reason) ?? 0) + 1);
  }
}

/** The worker in a process of its own: its output kept (warnings and errors are reported). */
interface WorkerProc {
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

function startWorker(env: Record<string, string>): WorkerProc {
  let out = '';
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  // Nothing of this machine's deployment: no config file, no real channel (the control's incident pages the
  // outbox file of the run only), no ledger.
  for (const name of [
    'INCIDENT_CONFIG',
    'SLACK_WEBHOOK_URL',
    'SLACK_BOT_TOKEN',
    'PAGERDUTY_ROUTING_KEY',
    'LEDGER_DATABASE_URL',
    'WORKER_METRICS_ADDRESS',
  ])
    delete childEnv[name];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'lib', 'bench-worker.ts')], {
    cwd: PROJECT_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (c: Buffer) => {
    out += c.toString();
    if (out.length > 400_000) out = out.slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { child, output: () => out, exited };
}

async function waitOutput(w: WorkerProc, text: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!w.output().includes(text)) {
    if (w.child.exitCode !== null)
      throw new Error(`the worker exited (${w.child.exitCode}):\n${w.output().slice(-3000)}`);
    if (Date.now() > until)
      throw new Error(`the worker printed no "${text}" in ${timeoutMs} ms:\n${w.output().slice(-3000)}`);
    await sleep(100);
  }
}

/** Lag of a monitor's `status` behind the beats it was sent: 0 when it holds the last one answered. */
function lagMs(status: MonitorStatus, lastAnsweredAt: number): number {
  if (!Number.isFinite(lastAnsweredAt)) return 0;
  const held = status.lastBeatAt ? Date.parse(status.lastBeatAt) : -Infinity;
  return Math.max(0, lastAnsweredAt - held);
}

interface Check {
  name: string;
  pass: boolean;
  detail: string;
}

async function main(): Promise<void> {
  const cleanups: { what: string; fn: () => Promise<void> }[] = [];
  const cleanup = async () => {
    while (cleanups.length) {
      const c = cleanups.pop()!;
      try {
        await c.fn();
      } catch (err) {
        console.error(`[bench:heartbeats] cleanup (${c.what}):`, err);
      }
    }
  };
  let serverChild: ChildProcess | null = null;
  let workerChild: ChildProcess | null = null;
  // Hard bound on the whole run: kill what it started and fail rather than hang.
  const watchdog = setTimeout(() => {
    console.error(`[bench:heartbeats] did not finish within ${TIMEOUT_S} s (BENCH_TIMEOUT_S); aborting`);
    workerChild?.kill('SIGKILL');
    serverChild?.kill('SIGKILL');
    process.exit(2);
  }, TIMEOUT_S * 1000);
  watchdog.unref();

  try {
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'bench-heartbeats-'));
    const runId = Date.now().toString(36);
    const taskQueue = `bench-heartbeats-${runId}`;
    const names = Array.from({ length: N }, (_, i) => `bench-${runId}-${i}`);
    log(
      `monitors=${N} period=${PERIOD_S}s grace=${GRACE_S}s window=${SECONDS}s warm-up=${WARMUP_S}s ` +
        `control slack=${CONTROL_SLACK_S}s timeout=${TIMEOUT_S}s; ${os.cpus().length} CPUs, node ${process.version}, tmp ${tmp}`,
    );

    // TEMPORAL_ADDRESS: that server (namespace TEMPORAL_NAMESPACE or default); else an in-memory dev server.
    const given = process.env.TEMPORAL_ADDRESS;
    const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
    let address: string;
    if (given) {
      address = given;
      log(`server ${given} (namespace ${namespace})`);
    } else {
      const cli = await ensureTemporalCli();
      const server = await startDevServer({ cli, logFile: path.join(tmp, 'dev-server.log') });
      serverChild = server.process;
      cleanups.push({ what: 'dev server', fn: () => server.stop() });
      address = server.address;
      log(`dev server (in memory) at ${address}`);
    }
    const connection = await Connection.connect({ address });
    cleanups.push({ what: 'client connection', fn: () => connection.close() });
    const client = new Client({ connection, namespace });
    const call = <T>(fn: () => Promise<T>) => connection.withDeadline(Date.now() + CALL_TIMEOUT_MS, fn);
    await ensureTemporalReady(connection, namespace, (l) => log(l));

    // The bundle is built here once, so the worker's CPU in /proc is its own work, not webpack's.
    const { code } = await bundleWorkflowCode({
      workflowsPath: require.resolve('../src/workflows'),
      preloadModules: WORKFLOW_PRELOAD_MODULES,
      logger: {
        trace() {},
        debug() {},
        info() {},
        warn: console.warn,
        error: console.error,
        log() {},
      } as never,
    });
    const bundlePath = path.join(tmp, 'workflow-bundle.js');
    writeFileSync(bundlePath, code);

    const worker = startWorker({
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      INCIDENT_TASK_QUEUE: taskQueue,
      OUTBOX_FILE: path.join(tmp, 'outbox.jsonl'),
      WORKFLOW_BUNDLE_PATH: bundlePath,
    });
    workerChild = worker.child;
    cleanups.push({
      what: 'worker',
      fn: async () => {
        if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
        worker.child.kill('SIGTERM');
        const killer = setTimeout(() => worker.child.kill('SIGKILL'), 15_000);
        await worker.exited;
        clearTimeout(killer);
      },
    });
    await waitOutput(worker, '[bench-worker] running', 120_000);
    const workerPid = worker.child.pid as number;
    log(`worker pid ${workerPid} polling ${taskQueue}`);

    // Every name is declared (createOnFirstBeat stays off: an undeclared name would get 404).
    const heartbeats = heartbeatsConfigSchema.parse({
      monitors: names.map((name) => ({
        name,
        periodSeconds: PERIOD_S,
        graceSeconds: GRACE_S,
        severity: 'P3',
        description: 'bench:heartbeats',
      })),
    });
    const starter = new TemporalIncidentStarter({ taskQueue, timeoutMs: 10_000, client });
    const ingress: RunningIngress = await startIngress(
      loadIngressConfig(
        {},
        {
          host: '127.0.0.1',
          port: 0,
          logLevel: 'warn',
          taskQueue,
          bearerTokens: TOKEN,
          rateLimitPerSecond: 1_000_000,
          rateLimitBurst: 1_000_000,
          routesFile: path.join(PROJECT_ROOT, 'config', 'alert-routes.yaml'),
        },
      ),
      { starter, heartbeats, policy: {} },
    );
    cleanups.push({ what: 'ingress', fn: () => ingress.close() });
    const agent = new Agent({ connections: 128, keepAliveTimeout: 30_000 });
    cleanups.push({ what: 'http agent', fn: () => agent.close() });
    log(`ingress at ${ingress.url}`);

    // Clean-up of the run's monitors and incidents: registered now, so an abort below still runs it.
    const controlIndex = 0;
    const controlName = names[controlIndex] as string;
    const beater = new Beater(ingress.url, names, agent);
    let controlIncident: string | null = null;
    cleanups.push({
      what: 'monitors and incidents',
      fn: async () => {
        await beater.stop();
        let monitors = 0;
        await pool(N, 20, async (i) => {
          await call(() =>
            client.workflow
              .getHandle(heartbeatWorkflowId(names[i] as string))
              .terminate('bench:heartbeats done'),
          ).then(
            () => void (monitors += 1),
            () => undefined,
          );
        });
        // Incidents: the control's, each monitor's silence incident id (not yet listed if it opened a moment
        // ago), and any other workflow the visibility store lists on the run's task queue.
        const ids = new Set<string>([
          ...(controlIncident ? [controlIncident] : []),
          ...names.map(silenceIncidentWorkflowId),
        ]);
        for await (const w of client.workflow.list({
          query: `TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Running'`,
        }))
          ids.add(w.workflowId);
        let others = 0;
        const list = [...ids];
        await pool(list.length, 20, async (k) => {
          await call(() =>
            client.workflow.getHandle(list[k] as string).terminate('bench:heartbeats done'),
          ).then(
            () => void (others += 1),
            () => undefined,
          );
        });
        log(`terminated ${monitors} monitor(s) and ${others} other workflow(s) of the run`);
      },
    });

    const statusOf = (i: number) =>
      call(() =>
        client.workflow.getHandle(heartbeatWorkflowId(names[i] as string)).query(monitorStatusQuery),
      );

    // The worker idle (polling, nothing to run): its CPU rate is the floor under the window's.
    const idle0 = processCpuMs(workerPid);
    const idleT0 = performance.now();
    await sleep(IDLE_S * 1000);
    const idleRate = (processCpuMs(workerPid) - idle0) / (performance.now() - idleT0);
    log(`worker idle for ${IDLE_S} s: ${(idleRate * 100).toFixed(1)}% of one core`);

    // Warm-up: the first beats start the monitors (signalWithStart) and load the bundle in the worker.
    log(`warm-up: beating ${N} monitors for ${WARMUP_S} s`);
    beater.start();
    await sleep(WARMUP_S * 1000);

    // The measured window.
    const cpu0 = processCpuMs(workerPid);
    const server0 = serverChild?.pid ? treeCpuMs(serverChild.pid) : NaN;
    const self0 = process.cpuUsage();
    const t0 = performance.now();
    beater.phase = 'window';
    log(`window: ${SECONDS} s`);
    const windowLag: number[] = [];
    let sampleNext = 0;
    const windowEnd = t0 + SECONDS * 1000;
    let nextProgress = t0 + 15_000;
    while (performance.now() < windowEnd) {
      await sleep(Math.min(2000, windowEnd - performance.now()));
      if (performance.now() >= windowEnd) break;
      // A few monitors' status against the last beat each had answered before the query was sent.
      const batch = Array.from({ length: Math.min(5, LAG_SAMPLE) }, () => sampleNext++ % LAG_SAMPLE);
      await Promise.all(
        batch.map(async (i) => {
          const answered = (beater.monitors[i] as MonitorBeats).lastAt;
          const s = await statusOf(i).catch(() => null);
          if (s) windowLag.push(lagMs(s, answered));
        }),
      );
      if (performance.now() >= nextProgress) {
        const w = beater.phases.window;
        log(
          `t+${Math.round((performance.now() - t0) / 1000)}s sent=${w.sent} accepted=${w.accepted} failed=${w.failed} ` +
            `workerCpu=${((processCpuMs(workerPid) - cpu0) / 1000).toFixed(1)}s workerRss=${mb(rssKb(workerPid).rss)}MB`,
        );
        nextProgress += 15_000;
      }
    }
    const windowS = (performance.now() - t0) / 1000;
    beater.phase = 'after';
    const cpu1 = processCpuMs(workerPid);
    const server1 = serverChild?.pid ? treeCpuMs(serverChild.pid) : NaN;
    const self1 = process.cpuUsage(self0);
    const workerRss = rssKb(workerPid);
    const w = beater.phases.window;
    const workerCpuMs = cpu1 - cpu0;
    const workerNetMs = workerCpuMs - idleRate * windowS * 1000;

    // Check 1, beats still going: every monitor healthy with no silence, its status caught up or how far not.
    log(`checking the status of all ${N} monitors`);
    const falseSilent: string[] = [];
    const checkLag: number[] = [];
    let unanswered = 0;
    await pool(N, 20, async (i) => {
      const answered = (beater.monitors[i] as MonitorBeats).lastAt;
      const s = await statusOf(i).catch((err: Error) => {
        unanswered += 1;
        falseSilent.push(`${names[i]}: status query failed: ${err.message.slice(0, 120)}`);
        return null;
      });
      if (!s) return;
      checkLag.push(lagMs(s, answered));
      if (s.silences !== 0 || s.state !== 'healthy')
        falseSilent.push(
          `${s.name}: state ${s.state}, silences ${s.silences}, silentSince ${s.silentSince ?? '-'}, lastBeatAt ${s.lastBeatAt}`,
        );
    });
    const incidentQuery = `WorkflowType = '${WORKFLOW_TYPE}' AND TaskQueue = '${taskQueue}'`;
    const incidentsBefore = (await call(() => client.workflow.count(incidentQuery))).count;

    // The control: one monitor is no longer beaten and must go silent at its deadline and open its incident.
    log(`control: no more beats for ${controlName}`);
    await beater.stopOne(controlIndex);
    const cm = beater.monitors[controlIndex] as MonitorBeats;
    const deadline = Number.isFinite(cm.lastAt) ? cm.lastAt + WINDOW_S * 1000 : NaN;
    log(
      `control: its last beat was accepted at ${Number.isFinite(cm.lastAt) ? new Date(cm.lastAt).toISOString() : 'never'}; ` +
        `deadline ${cm.lastDeadline ?? '?'} (${Math.round((deadline - Date.now()) / 1000)} s from now)`,
    );
    let silentAt: number | null = null;
    let silentStatus: MonitorStatus | null = null;
    let incidentAt: number | null = null;
    const watchUntil = deadline + CONTROL_WATCH_S * 1000;
    while (Date.now() < watchUntil && incidentAt === null) {
      const s = await statusOf(controlIndex).catch(() => null);
      const now = Date.now();
      if (s && s.state === 'silent' && silentAt === null) {
        silentAt = now;
        silentStatus = s;
      }
      if (s?.incidentWorkflowId) {
        incidentAt = now;
        controlIncident = s.incidentWorkflowId;
        silentStatus = s;
      }
      await sleep(silentAt === null && now < deadline - 1500 ? 500 : 200);
    }
    let incidentRunning = false;
    if (controlIncident) {
      const d = await call(() => client.workflow.getHandle(controlIncident as string).describe()).catch(
        () => null,
      );
      incidentRunning = d !== null && d.type === WORKFLOW_TYPE && d.taskQueue === taskQueue;
    }
    const silentLateS = silentAt === null ? null : (silentAt - deadline) / 1000;
    const incidentLateS = incidentAt === null ? null : (incidentAt - deadline) / 1000;
    // Any incident besides the control's (visibility may take a moment to list the control's).
    let incidentsAfter = 0;
    for (let k = 0; k < 20; k++) {
      incidentsAfter = (await call(() => client.workflow.count(incidentQuery))).count;
      if (incidentsAfter >= 1 || !controlIncident) break;
      await sleep(250);
    }

    // Every accepted beat counted by its monitor (after the last one was answered).
    await beater.stop();
    const uncounted: string[] = [];
    await pool(N, 20, async (i) => {
      const m = beater.monitors[i] as MonitorBeats;
      let s: MonitorStatus | null = null;
      for (let k = 0; k < 10; k++) {
        s = await statusOf(i).catch(() => null);
        if (s && s.beats >= m.accepted) break;
        await sleep(300);
      }
      if (!s || s.beats !== m.accepted)
        uncounted.push(`${names[i]}: ${m.accepted} accepted, monitor counted ${s ? s.beats : '?'}`);
    });
    const totals = (['warmup', 'window', 'after'] as const).reduce(
      (a, p) => ({
        sent: a.sent + beater.phases[p].sent,
        accepted: a.accepted + beater.phases[p].accepted,
        failed: a.failed + beater.phases[p].failed,
      }),
      { sent: 0, accepted: 0, failed: 0 },
    );

    // The worker's warnings and errors over the whole run (first line of each; the SDK logger prints its
    // metadata on the lines after). Its ledger is off on purpose: that warning is expected.
    const workerProblems = worker
      .output()
      .split('\n')
      .filter(
        (l) => /\b(WARN|ERROR|Error|error)\b/.test(l) && !l.includes('no ledger database on this worker'),
      );

    await cleanup();
    clearTimeout(watchdog);

    const checks: Check[] = [
      {
        name: 'no monitor silent while beaten',
        pass: falseSilent.length === 0,
        detail:
          falseSilent.length === 0
            ? `${N} healthy, 0 silences`
            : `${falseSilent.length} of ${N} (${unanswered} unanswered): ${falseSilent.slice(0, 5).join('; ')}`,
      },
      {
        name: 'no incidentWorkflow on the task queue',
        pass: incidentsBefore === 0,
        detail: `${incidentsBefore} listed`,
      },
      {
        name: `control ${controlName} silent in time`,
        pass: silentLateS !== null && silentLateS <= CONTROL_SLACK_S,
        detail:
          silentLateS === null
            ? `not silent ${CONTROL_WATCH_S} s past its deadline`
            : `${silentLateS.toFixed(1)} s after its deadline (limit ${CONTROL_SLACK_S} s); silentSince ${silentStatus?.silentSince ?? '?'} vs deadline ${cm.lastDeadline ?? '?'}`,
      },
      {
        name: 'control opened its incident',
        pass: controlIncident !== null && incidentRunning,
        detail: controlIncident
          ? `${controlIncident} ${incidentRunning ? 'running' : 'NOT found running'} on the task queue, seen ${incidentLateS?.toFixed(1)} s after the deadline`
          : 'none',
      },
      {
        name: "only the control's incident at the end",
        pass: incidentsAfter === (controlIncident ? 1 : 0),
        detail: `${incidentsAfter} listed`,
      },
      {
        name: 'every accepted beat counted',
        pass: uncounted.length === 0,
        detail: uncounted.length === 0 ? `${totals.accepted} beats` : uncounted.slice(0, 5).join('; '),
      },
    ];

    const lat = stats(w.latencies);
    const wl = stats(windowLag);
    const cl = stats(checkLag);
    const current = (v: number[]) => v.filter((x) => x === 0).length;
    const serverCpuMs = server1 - server0;
    const selfCpuMs = (self1.user + self1.system) / 1000;
    const row = (k: string, v: string) => log(`  ${k.padEnd(42)} ${v}`);
    console.log('');
    log(
      `${new Date().toISOString()}  monitors=${N} period=${PERIOD_S}s grace=${GRACE_S}s window=${windowS.toFixed(1)}s ` +
        `(warm-up ${WARMUP_S}s), ${os.cpus().length} CPUs`,
    );
    row('beats sent / accepted / failed (window)', `${w.sent} / ${w.accepted} / ${w.failed}`);
    row('beats accepted per second (window)', `${(w.accepted / windowS).toFixed(1)}`);
    row('beats sent / accepted / failed (run)', `${totals.sent} / ${totals.accepted} / ${totals.failed}`);
    row('beat HTTP latency p50 / p99 / max', `${lat.p50} / ${lat.p99} / ${lat.max} ms`);
    row('beater schedule lag, max', `${r1(beater.maxScheduleLagMs)} ms`);
    row(
      'worker CPU in the window',
      `${(workerCpuMs / 1000).toFixed(2)} s (${((workerCpuMs / (windowS * 1000)) * 100).toFixed(1)}% of one core)`,
    );
    row(
      'worker CPU per accepted beat',
      `${r2(workerCpuMs / w.accepted)} ms (${r2(workerNetMs / w.accepted)} ms net of idle at ${(idleRate * 100).toFixed(1)}% of a core)`,
    );
    row('worker RSS at the end of the window', `${mb(workerRss.rss)} MB (peak ${mb(workerRss.hwm)} MB)`);
    row(
      'ingress + beater CPU (this process)',
      `${(selfCpuMs / 1000).toFixed(2)} s (${r2(selfCpuMs / w.accepted)} ms per beat)`,
    );
    row(
      'dev server CPU',
      Number.isFinite(serverCpuMs)
        ? `${(serverCpuMs / 1000).toFixed(2)} s (${r2(serverCpuMs / w.accepted)} ms per beat)`
        : 'not measured (a server of TEMPORAL_ADDRESS)',
    );
    row(
      'status lag, window samples',
      `p50 ${wl.p50} / p99 ${wl.p99} / max ${wl.max} ms; ${current(windowLag)} of ${wl.count} caught up`,
    );
    row(
      'status lag, all monitors after window',
      `p50 ${cl.p50} / p99 ${cl.p99} / max ${cl.max} ms; ${current(checkLag)} of ${cl.count} caught up`,
    );
    if (beater.failures.size) for (const [reason, n] of beater.failures) row(`  failed beats (${n})`, reason);
    log('checks:');
    for (const c of checks) log(`  ${c.pass ? 'PASS' : 'FAIL'}  ${c.name.padEnd(42)} ${c.detail}`);
    if (workerProblems.length)
      log(
        `worker warnings/errors: ${workerProblems.length}; last ones:\n${workerProblems.slice(-10).join('\n')}`,
      );
    else log('worker warnings/errors: none');
    const failed = checks.filter((c) => !c.pass);
    log(failed.length === 0 ? 'all checks passed' : `${failed.length} check(s) FAILED`);
    console.log(
      JSON.stringify({
        monitors: N,
        periodSeconds: PERIOD_S,
        graceSeconds: GRACE_S,
        windowSeconds: r1(windowS),
        window: { sent: w.sent, accepted: w.accepted, failed: w.failed },
        run: totals,
        beatLatencyMs: lat,
        workerCpuSeconds: r2(workerCpuMs / 1000),
        workerCpuMsPerBeat: r2(workerCpuMs / w.accepted),
        workerCpuMsPerBeatNetOfIdle: r2(workerNetMs / w.accepted),
        workerIdleCpuPercent: r1(idleRate * 100),
        workerRssMb: mb(workerRss.rss),
        workerRssPeakMb: mb(workerRss.hwm),
        ingressCpuMsPerBeat: r2(selfCpuMs / w.accepted),
        serverCpuMsPerBeat: Number.isFinite(serverCpuMs) ? r2(serverCpuMs / w.accepted) : null,
        statusLagMs: { window: wl, afterWindow: cl },
        control: {
          monitor: controlName,
          silentAfterDeadlineS: silentLateS === null ? null : r1(silentLateS),
          incidentAfterDeadlineS: incidentLateS === null ? null : r1(incidentLateS),
          incident: controlIncident,
        },
        checks: Object.fromEntries(checks.map((c) => [c.name, c.pass])),
        workerProblems: workerProblems.length,
      }),
    );
    if (failed.length) process.exitCode = 1;
  } catch (err) {
    await cleanup();
    clearTimeout(watchdog);
    throw err;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
