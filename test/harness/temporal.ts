// Test helpers: a client and in-process workers on the dev server started by global-setup, each test
// file on its own task queue, all sharing the one prebuilt workflow bundle.
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { createActivities, type ActivityDeps } from '../../src/activities';
import { OutboxChannel } from '../../src/activities/notify/outbox';
import type { IncidentStatus } from '../../src/workflows/definitions';

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
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS });
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
    },
  };
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

export const status = (h: WorkflowHandle) => h.query<IncidentStatus>('status');
