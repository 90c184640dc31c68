// What one workflow costs the worker, an incident beside a bare Temporal workflow of the same shape
// (scripts/bench-workflow.ts `barePagerWorkflow`: page, then re-page on a timer until acknowledged), in the
// same process against the same server. Part of `npm run bench:scale`.
//
// - Memory per cached workflow: the worker runs in debug mode (workflows in this thread's reusable V8
//   context instead of a worker thread), so a forced GC and `heapUsed` measure it exactly; the cache size is
//   the worker's own count (`numCachedWorkflows`).
// - CPU per workflow task round: the worker runs as in production (workflows in one worker thread); the CPU
//   time of that thread is read from /proc (utime + stime) around a round: the first (start, first page,
//   the task after it) and a re-page (timer, page, the task after it).
// - Eviction: the incidents of the memory pass are resolved (at a time scale where the 30-minute reopen
//   window is seconds) and the cache is counted again once they closed.
import { Client, type Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { readFileSync, readdirSync } from 'node:fs';
import { createActivities } from '../src/activities';
import type { DeliveryResult, NotificationChannel } from '../src/activities/notify/port';
import type { IncidentInput } from '../src/playbook/contract/incident';
import type { Notification } from '../src/playbook/contract/notification';
import { WORKFLOW_PRELOAD_MODULES } from '../src/temporal/bundle';
import { parseIncidentId } from '../src/playbook/contract/incident-id';
import {
  IncidentKindKey,
  IncidentSeverityKey,
  IncidentStatusKey,
  resolveSignal,
  WORKFLOW_TYPE,
} from '../src/workflows/definitions';

type Kind = 'bare' | 'incident';
export interface FootprintResult {
  workflows: number;
  /** Heap per cached workflow, KB. */
  heapPerCachedKb: Record<Kind, number>;
  heapRatio: number;
  /** CPU time of the workflow thread per round, ms. */
  firstRoundCpuMs: Record<Kind, number>;
  repageRoundCpuMs: Record<Kind, number>;
  firstRoundRatio: number;
  repageRoundRatio: number;
  /** Cached workflows with P3 incidents open, after they were resolved and closed, after P1s were terminated. */
  cachedBeforeClose: number;
  cachedAfterClose: number;
  cachedAfterTerminate: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const r1 = (v: number) => Math.round(v * 10) / 10;
const r2 = (v: number) => Math.round(v * 100) / 100;
const TICK_MS = 1000 / 100; // USER_HZ: /proc reports CPU time in clock ticks of 10 ms

/** CPU time (ms) of each thread of this process, by thread id. */
function threadCpu(): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // Fields after the command name (which may hold spaces) start at ") ": utime and stime are 14 and 15.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(fields[11]) + Number(fields[12])) * TICK_MS);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** Counts deliveries per workflow id, so a pass knows when every workflow finished a round. */
class Counter {
  /** First pages and re-pages delivered, per workflow id. */
  readonly pages = new Map<string, number>();
  readonly repages = new Map<string, number>();
  totalRepages = 0;
  add(id: string, repage: boolean) {
    const m = repage ? this.repages : this.pages;
    m.set(id, (m.get(id) ?? 0) + 1);
    if (repage) this.totalRepages += 1;
  }
  paged = (ids: string[]) => ids.every((id) => this.pages.has(id));
  repaged = (ids: string[]) => ids.every((id) => this.repages.has(id));
}

class CountingChannel implements NotificationChannel {
  readonly name = 'outbox';
  constructor(private readonly counter: Counter) {}
  async deliver(n: Notification): Promise<DeliveryResult> {
    if (n.kind === 'page' || n.kind === 'repage')
      this.counter.add(parseIncidentId(n.incidentId)?.workflowId ?? n.incidentId, n.kind === 'repage');
    const idempotencyKey = `${n.incidentId}:${n.step}:${n.target}`;
    return { channel: this.name, idempotencyKey, outcome: 'delivered', ref: idempotencyKey };
  }
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end)
      throw new Error(`bench:footprint: ${what} not reached within ${timeoutMs / 1000} s`);
    await sleep(50);
  }
}

async function quiet(worker: Worker): Promise<void> {
  // No activation in flight for half a second: the task after the last delivery has run.
  let still = 0;
  while (still < 10) {
    still = worker.getStatus().numInFlightWorkflowActivations === 0 ? still + 1 : 0;
    await sleep(50);
  }
}

interface Pass {
  kind: Kind;
  bundle: WorkflowBundle;
  start: (client: Client, taskQueue: string, id: string, scale: number) => Promise<unknown>;
}

export async function measureFootprint(opts: {
  address: string;
  connection: Connection;
  workflows: number;
  log: (line: string) => void;
}): Promise<FootprintResult> {
  const { workflows: n, log } = opts;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('bench:footprint needs node --expose-gc (npm run bench:scale passes it)');
  const silent = {
    trace() {},
    debug() {},
    info() {},
    warn: console.warn,
    error: console.error,
    log() {},
  } as never;
  const [bareBundle, incidentBundle] = await Promise.all([
    bundleWorkflowCode({ workflowsPath: require.resolve('./bench-workflow'), logger: silent }),
    bundleWorkflowCode({
      workflowsPath: require.resolve('../src/workflows'),
      preloadModules: WORKFLOW_PRELOAD_MODULES,
      logger: silent,
    }),
  ]);
  // The time scale makes the P1 re-page cadence (5 playbook minutes) 15 s and the next matrix step 45 s
  // away, so the first rounds are done before the re-pages start and the first re-page round is alone; the
  // bare workflow re-pages on the same 15 s.
  const timeScale = 20;
  const incidentInput = (title: string, scale = timeScale, severity: 'P1' | 'P3' = 'P1'): IncidentInput => ({
    title,
    severity,
    kind: 'generic',
    timeScale: scale,
    policyComplete: true,
    policy: { channels: ['outbox'] },
  });
  const passes: Pass[] = [
    {
      kind: 'bare',
      bundle: bareBundle,
      start: (client, taskQueue, id, scale) =>
        client.workflow.start('barePagerWorkflow', {
          taskQueue,
          workflowId: id,
          args: [{ id, repageMs: (5 * 60_000) / scale }],
        }),
    },
    {
      kind: 'incident',
      bundle: incidentBundle,
      start: (client, taskQueue, id, scale) =>
        client.workflow.start(WORKFLOW_TYPE, {
          taskQueue,
          workflowId: id,
          args: [incidentInput(`bench footprint ${id}`, scale)],
          typedSearchAttributes: [
            { key: IncidentSeverityKey, value: 'P1' },
            { key: IncidentStatusKey, value: 'triggered' },
            { key: IncidentKindKey, value: 'generic' },
          ],
        }),
    },
  ];
  const client = new Client({ connection: opts.connection, namespace: 'default' });
  const nc = await NativeConnection.connect({ address: opts.address });
  const heap: Record<Kind, number> = { bare: 0, incident: 0 };
  const first: Record<Kind, number> = { bare: 0, incident: 0 };
  const repage: Record<Kind, number> = { bare: 0, incident: 0 };
  let cachedBeforeClose = 0;
  let cachedAfterClose = 0;
  let cachedAfterTerminate = 0;
  const run = Date.now().toString(36);
  try {
    for (const pass of passes) {
      for (const mode of ['memory', 'cpu'] as const) {
        const counter = new Counter();
        // Memory is measured with nothing due for minutes (time scale 1); CPU at the fast scale.
        const scale = mode === 'memory' ? 1 : timeScale;
        const taskQueue = `bench-footprint-${run}-${pass.kind}-${mode}`;
        const activities = {
          ...createActivities({
            channels: { outbox: new CountingChannel(counter) },
            policyOverrides: {},
            logLine: () => undefined,
          }),
          benchPage: async (id: string) => counter.add(id, counter.pages.has(id)),
        };
        gc();
        const heapBefore = process.memoryUsage().heapUsed;
        const threadsBefore = new Set(threadCpu().keys());
        const worker = await Worker.create({
          connection: nc,
          taskQueue,
          workflowBundle: pass.bundle,
          activities,
          maxCachedWorkflows: 2 * n + 10,
          debugMode: mode === 'memory',
        });
        const running = worker.run();
        try {
          // One warm-up workflow loads the bundle before anything is measured.
          const warm = `${taskQueue}-warm`;
          await pass.start(client, taskQueue, warm, scale);
          await until('the warm-up page', () => counter.paged([warm]), 60_000);
          await quiet(worker);
          const ids = Array.from({ length: n }, (_, i) => `${taskQueue}-${i}`);
          const cpu0 = threadCpu();
          for (let i = 0; i < n; i += 20)
            await Promise.all(ids.slice(i, i + 20).map((id) => pass.start(client, taskQueue, id, scale)));
          await until(`${n} first pages`, () => counter.paged(ids), 120_000);
          await quiet(worker);
          const cpu1 = threadCpu();
          if (counter.totalRepages > 0)
            log(`${pass.kind}: ${counter.totalRepages} re-pages fell in the first round`);
          if (mode === 'memory') {
            gc();
            gc();
            const cached = worker.getStatus().numCachedWorkflows;
            heap[pass.kind] = (process.memoryUsage().heapUsed - heapBefore) / cached / 1024;
            log(
              `${pass.kind}: ${cached} cached, heap ${r1((process.memoryUsage().heapUsed - heapBefore) / 1048576)} MB, ${r1(heap[pass.kind])} KB each`,
            );
            if (pass.kind === 'incident')
              [cachedBeforeClose, cachedAfterClose, cachedAfterTerminate] = await closeAndCount(
                client,
                worker,
                taskQueue,
                ids,
                log,
              );
          } else {
            const tid = workflowThread(threadsBefore, cpu0, cpu1);
            first[pass.kind] = ((cpu1.get(tid) ?? 0) - (cpu0.get(tid) ?? 0)) / n;
            // The first re-page round: every workflow re-pages once, 3 s after its first page.
            const beforeRepages = counter.totalRepages;
            await until(`${n} re-pages`, () => counter.repaged(ids), 120_000);
            await quiet(worker);
            const cpu2 = threadCpu();
            const rounds = counter.totalRepages - beforeRepages;
            repage[pass.kind] = ((cpu2.get(tid) ?? 0) - (cpu1.get(tid) ?? 0)) / rounds;
            log(
              `${pass.kind}: workflow thread CPU ${r2(first[pass.kind])} ms per first round, ${r2(repage[pass.kind])} ms per re-page round (${rounds} rounds)`,
            );
          }
          await Promise.all(
            [warm, ...ids].map((id) =>
              client.workflow
                .getHandle(id)
                .terminate('bench pass done')
                .catch(() => undefined),
            ),
          );
        } finally {
          worker.shutdown();
          await running;
        }
      }
    }
  } finally {
    await nc.close();
  }
  return {
    workflows: n,
    heapPerCachedKb: { bare: r1(heap.bare), incident: r1(heap.incident) },
    heapRatio: r2(heap.incident / heap.bare),
    firstRoundCpuMs: { bare: r2(first.bare), incident: r2(first.incident) },
    repageRoundCpuMs: { bare: r2(repage.bare), incident: r2(repage.incident) },
    firstRoundRatio: r2(first.incident / first.bare),
    repageRoundRatio: r2(repage.incident / repage.bare),
    cachedBeforeClose,
    cachedAfterClose,
    cachedAfterTerminate,
  };
}

/** The workflow thread: of the threads the worker created, the one that spent the most CPU in the round. */
function workflowThread(before: Set<string>, cpu0: Map<string, number>, cpu1: Map<string, number>): string {
  let best = '';
  let most = -1;
  for (const [tid, ms] of cpu1) {
    if (before.has(tid)) continue;
    const spent = ms - (cpu0.get(tid) ?? 0);
    if (spent > most) [best, most] = [tid, spent];
  }
  if (!best) throw new Error('bench:footprint: no thread was created for the workflows');
  return best;
}

/**
 * Does a closed incident leave the cache? P3 incidents (no re-page, no post-mortem) at a time scale where the
 * reopen window is under 2 s are opened, resolved and left to close; then the memory pass's P1 incidents
 * are terminated, of which the worker hears nothing (the server sends no task for a terminated run).
 */
async function closeAndCount(
  client: Client,
  worker: Worker,
  taskQueue: string,
  p1: string[],
  log: (line: string) => void,
): Promise<[number, number, number]> {
  const ids = p1.map((id) => `${id}-p3`);
  const base = worker.getStatus().numCachedWorkflows;
  for (let i = 0; i < ids.length; i += 20)
    await Promise.all(
      ids.slice(i, i + 20).map((id) =>
        client.workflow.start(WORKFLOW_TYPE, {
          taskQueue,
          workflowId: id,
          args: [
            {
              title: `bench footprint ${id}`,
              severity: 'P3',
              kind: 'generic',
              timeScale: 1000,
              policyComplete: true,
              policy: { channels: ['outbox'] },
            } satisfies IncidentInput,
          ],
        }),
      ),
    );
  await until(
    'the P3 incidents cached',
    () => worker.getStatus().numCachedWorkflows >= base + ids.length,
    120_000,
  );
  const open = worker.getStatus().numCachedWorkflows;
  await Promise.all(ids.map((id) => client.workflow.getHandle(id).signal(resolveSignal, { by: 'bench' })));
  for (const id of ids)
    await client.workflow
      .getHandle(id)
      .result()
      .catch(() => undefined);
  await quiet(worker);
  const closed = worker.getStatus().numCachedWorkflows;
  log(
    `incident: ${ids.length} P3 incidents: cache ${base} -> ${open} open -> ${closed} once resolved and closed`,
  );
  await Promise.all(p1.map((id) => client.workflow.getHandle(id).terminate('bench pass done')));
  await sleep(2000);
  const terminated = worker.getStatus().numCachedWorkflows;
  log(`incident: ${p1.length} P1 incidents terminated: cache ${closed} -> ${terminated}`);
  return [open, closed, terminated];
}
