// One incident test file's set-up, in the shape of the SDK's own helpers-integration.ts: a task queue of
// its own, a Worker on the shared dev server with the prebuilt bundle and the activities under test, and a
// client, started before the file's first test and stopped after its last (stopping replays every history
// of the task queue). The file then states only what it proves.
import type { Client, WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { statusQuery, timelineQuery, WORKFLOW_TYPE } from '../../src/workflows/definitions';
import type { IncidentStatus, TimelineEvent } from '../../src/playbook/contract/incident';
import type { ActivityDeps } from '../../src/activities';
import { startTestWorker, testClient, uniqueTaskQueue, waitFor, type TestWorker } from './temporal';

type Deps = Partial<ActivityDeps>;

export interface IncidentSuiteOptions {
  /** Names the task queue (made unique per run). */
  name: string;
  /** The activities' dependencies; a function when they are built in a beforeAll (fake servers, a database). */
  deps?: Deps | (() => Deps | Promise<Deps>);
  /** 0: no workflow cache, every workflow task replays the whole history first. */
  maxCachedWorkflows?: number;
  /** How long stopping may take: it replays every history of the task queue (jest's default otherwise). */
  stopTimeoutMs?: number;
}

export interface WaitOptions {
  what?: string;
  timeoutMs?: number;
  intervalMs?: number;
}

export interface IncidentSuite {
  readonly taskQueue: string;
  /** Set before the first test runs. */
  readonly client: Client;
  readonly worker: TestWorker;
  /** Starts incidentWorkflow as `<name>-<now>` with input `{ title: name, ...input }`. */
  startIncident(
    name: string,
    input?: Record<string, unknown>,
  ): Promise<WorkflowHandleWithFirstExecutionRunId>;
  status(h: WorkflowHandle): Promise<IncidentStatus>;
  timeline(h: WorkflowHandle): Promise<TimelineEvent[]>;
  /** Polls `status` until `done` holds; past the timeout (30 s), fails with the last status. */
  waitFor(
    h: WorkflowHandle,
    done: (s: IncidentStatus) => boolean,
    opts?: WaitOptions,
  ): Promise<IncidentStatus>;
}

/** Call at the top of a test file (or of a describe): registers its beforeAll and afterAll. */
export function incidentSuite(opts: IncidentSuiteOptions): IncidentSuite {
  const taskQueue = uniqueTaskQueue(opts.name);
  let worker: TestWorker | undefined;
  let client: Client | undefined;
  let closeClient: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    const deps = typeof opts.deps === 'function' ? await opts.deps() : opts.deps;
    worker = await startTestWorker({
      taskQueue,
      ...(deps ? { deps } : {}),
      ...(opts.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: opts.maxCachedWorkflows } : {}),
    });
    ({ client, close: closeClient } = await testClient());
  });
  afterAll(async () => {
    await closeClient?.();
    await worker?.stop();
  }, opts.stopTimeoutMs);

  const started = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`incidentSuite(${opts.name}): no ${what} before beforeAll ran`);
    return value;
  };
  const status = (h: WorkflowHandle) => h.query(statusQuery);
  return {
    taskQueue,
    get client() {
      return started(client, 'client');
    },
    get worker() {
      return started(worker, 'worker');
    },
    startIncident: (name, input = {}) =>
      started(client, 'client').workflow.start(WORKFLOW_TYPE, {
        taskQueue,
        workflowId: `${name}-${Date.now()}`,
        args: [{ title: name, ...input }],
      }),
    status,
    timeline: (h) => h.query(timelineQuery),
    waitFor: (h, done, { what = 'the incident status', ...rest } = {}) =>
      waitFor(() => status(h), done, { what, ...rest }),
  };
}
