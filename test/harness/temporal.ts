// Test helpers: a client and in-process workers on the dev server started by global-setup, each test
// file on its own task queue, all sharing the one prebuilt workflow bundle.
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { statusQuery } from '../../src/workflows/definitions';
import type { HistoryAndWorkflowId } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createActivities, type ActivityDeps } from '../../src/activities';
import { OutboxChannel } from '../../src/activities/notify/outbox';

let runtimeInstalled = false;
function quietRuntime() {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('WARN') });
  } catch {
    // already installed by another helper in this process
  }
}

export function uniqueTaskQueue(name: string): string {
  return `test-${name}-${randomUUID().slice(0, 8)}`;
}

export function tmpFile(name: string): string {
  return path.join(process.env.TEST_TMP_DIR ?? '/tmp', `${randomUUID().slice(0, 8)}-${name}`);
}

export async function testClient(): Promise<{ client: Client; close: () => Promise<void> }> {
  const connection = await Connection.connect({
    address: process.env.TEMPORAL_ADDRESS,
    // Histories of flooded incidents (test/incident/limits.test.ts) are larger than gRPC's 4 MB default.
    channelArgs: { 'grpc.max_receive_message_length': 128 * 1024 * 1024 },
  });
  return {
    client: new Client({ connection, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default' }),
    close: () => connection.close(),
  };
}

export interface TestWorker {
  worker: Worker;
  outbox: OutboxChannel;
  stop(): Promise<void>;
}

export async function startTestWorker(opts: {
  taskQueue: string;
  outboxFile?: string;
  deps?: Partial<ActivityDeps>;
  /** 0: no workflow cache, every workflow task replays the whole history first. */
  maxCachedWorkflows?: number;
}): Promise<TestWorker> {
  quietRuntime();
  const bundle = process.env.WORKFLOW_BUNDLE_PATH;
  if (!bundle)
    throw new Error(
      'WORKFLOW_BUNDLE_PATH is not set: run the tests through jest (global-setup bundles the workflows)',
    );
  const outbox = new OutboxChannel(opts.outboxFile ?? tmpFile('outbox.jsonl'), () => undefined);
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: opts.taskQueue,
    workflowBundle: { codePath: bundle },
    // TEST_MAX_CACHED_WORKFLOWS=0 replays the whole history on every workflow task: a determinism stress run.
    ...(opts.maxCachedWorkflows !== undefined
      ? { maxCachedWorkflows: opts.maxCachedWorkflows }
      : process.env.TEST_MAX_CACHED_WORKFLOWS
        ? { maxCachedWorkflows: Number(process.env.TEST_MAX_CACHED_WORKFLOWS) }
        : {}),
    activities: createActivities({
      ...opts.deps,
      channels: { outbox, ...(opts.deps?.channels ?? {}) },
      policyOverrides: opts.deps?.policyOverrides ?? {},
    }),
  });
  const running = worker.run();
  return {
    worker,
    outbox,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await connection.close();
      await replayTaskQueue(opts.taskQueue, bundle);
    },
  };
}

/**
 * Replays, from the server's recorded history, every workflow run that ran on the task queue, against the
 * same bundle: a live run whose code would not replay (a worker restart, a cache eviction, a query of an
 * evicted incident) fails the test file here instead of failing an incident in production.
 * The failing history is kept in TEST_TMP_DIR for `Worker.runReplayHistory` debugging.
 */
let replaying: Promise<unknown> = Promise.resolve();
export function replayTaskQueue(taskQueue: string, bundle: string): Promise<void> {
  // One replay worker at a time in this process (workers are often stopped in parallel).
  const run = replaying.then(() => replayOnce(taskQueue, bundle));
  replaying = run.catch(() => undefined);
  return run;
}

async function replayOnce(taskQueue: string, bundle: string): Promise<void> {
  const { client, close } = await testClient();
  // Holds the SDK runtime up: a replay worker keeps no reference to it, and a runtime shut down under it
  // (the last native connection of the process closed meanwhile) fails inside the native bridge.
  const keepRuntime = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const failures: string[] = [];
  try {
    const histories: HistoryAndWorkflowId[] = [];
    for await (const h of client.workflow.list({ query: `TaskQueue = '${taskQueue}'` }).intoHistories())
      histories.push(h);
    let i = 0;
    for await (const result of Worker.runReplayHistories(
      { workflowBundle: { codePath: bundle } },
      histories,
    )) {
      const { history } = histories[i++]!; // results come in the order given
      if (!result.error) continue;
      const kept = tmpFile(`${result.workflowId}.history.json`);
      writeFileSync(kept, historyToJSON(history as temporal.api.history.v1.IHistory));
      failures.push(`${result.workflowId}: ${result.error.message} (history: ${kept})`);
    }
  } finally {
    await close();
    await keepRuntime.close();
  }
  if (failures.length > 0)
    throw new Error(`workflow histories on ${taskQueue} do not replay:\n${failures.join('\n')}`);
}

export async function waitFor<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  { timeoutMs = 30_000, intervalMs = 100, what = 'condition' } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (done(last)) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(
    `timed out after ${timeoutMs} ms waiting for ${what}; last value: ${JSON.stringify(last)?.slice(0, 2000)}`,
  );
}

export const status = (h: WorkflowHandle) => h.query(statusQuery);
