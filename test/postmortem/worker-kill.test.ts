// A real worker process killed with SIGKILL in the middle of a post-mortem, right after writing a reminder
// and before reporting it done, and one stopped (SIGSTOP) until its workflow task times out: a new worker
// process takes over. Every reminder and overdue notice goes out once, at its time, and the history replays
// (the first task on the new worker is where a decision on the task's time would not have: postmortem.ts).
import type { Client, WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { readOutbox, type OutboxRecord } from '../../src/activities/notify/outbox';
import {
  POSTMORTEM_WORKFLOW_TYPE,
  postmortemWorkflowId,
  type CompletePostmortemInput,
} from '../../src/playbook/contract/postmortem';
import {
  actionItemDoneSignal,
  completePostmortemUpdate,
  postmortemStatusQuery,
} from '../../src/workflows/postmortem-definitions';
import { recordHistory } from '../harness/history';
import { replayTaskQueue, testClient, tmpFile, uniqueTaskQueue, waitFor } from '../harness/temporal';
import { startWorkerProcess, stopAll, type WorkerProcess } from '../harness/worker-processes';

const taskQueue = uniqueTaskQueue('pm-kill');
const outboxFile = tmpFile('pm-kill-outbox.jsonl');
const HOUR = 3_600_000;
let client: Client;
let closeClient: () => Promise<void>;
const workers: WorkerProcess[] = [];

const worker = (env: Record<string, string> = {}) => {
  const w = startWorkerProcess({ taskQueue, outboxFile, env });
  workers.push(w);
  return w;
};
/**
 * A call a stopped worker can hold (a query or an Update handed to a poll it had open when it stopped) is
 * bounded: past the deadline it fails, and the caller asks again, instead of the test waiting on it for good.
 */
const bounded = <T>(fn: () => Promise<T>, ms = 10_000): Promise<T> =>
  client.connection.withDeadline(Date.now() + ms, fn);
/** The post-mortem's status, or null when the query did not answer in time (asked again by waitFor). */
const pmStatus = (h: WorkflowHandle) => bounded(() => h.query(postmortemStatusQuery)).catch(() => null);
/** The Update, asked again under the same id until it answers (Temporal applies it once). */
async function completeBounded(h: WorkflowHandle, args: CompletePostmortemInput) {
  let last: unknown;
  for (let i = 0; i < 6; i++) {
    try {
      return await bounded(
        () =>
          h.executeUpdate(completePostmortemUpdate, { args: [args], updateId: `complete-${h.workflowId}` }),
        20_000,
      );
    } catch (err) {
      last = err;
    }
  }
  throw last;
}
/** Resolves with `p`, or fails naming `what` after `ms`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
const outboxOf = async (incidentId: string): Promise<OutboxRecord[]> =>
  (await readOutbox(outboxFile)).filter((r) => r.incidentId === incidentId);

beforeAll(async () => {
  ({ client, close: closeClient } = await testClient());
});
afterAll(async () => {
  stopAll(workers);
  await closeClient();
  // The crash histories (a task lost with its worker) are the ones most worth replaying.
  await replayTaskQueue(taskQueue, process.env.WORKFLOW_BUNDLE_PATH!);
});

/** A P0 post-mortem (48 h) compressed into `windowMs`, owned by alice. */
async function startPostmortem(name: string, windowMs: number) {
  const incidentId = `incident-${name}-${Date.now()}`;
  const resolvedAt = Date.now();
  const h = await client.workflow.start(POSTMORTEM_WORKFLOW_TYPE, {
    taskQueue,
    workflowId: postmortemWorkflowId(incidentId),
    args: [
      {
        incidentId,
        title: name,
        severity: 'P0',
        resolvedAt: new Date(resolvedAt).toISOString(),
        timeScale: (48 * HOUR) / windowMs,
        owner: 'alice',
      },
    ],
  });
  return { h, incidentId, resolvedAt };
}

const NOTICES: [step: string, target: string][] = [
  ['postmortem-reminder-50', 'channel'],
  ['postmortem-reminder-90', 'channel'],
  ['postmortem-overdue', 'eng-lead'],
  ['postmortem-overdue', 'channel'],
  ['postmortem-overdue-1', 'eng-lead'],
  ['postmortem-overdue-1', 'channel'],
];
/**
 * The notices up to the first overdue repeat, once each has been written: an activity that went to the
 * stopped or killed worker is retried elsewhere only after its start-to-close timeout (15 s).
 */
async function delivered(incidentId: string): Promise<OutboxRecord[]> {
  const missing = (r: OutboxRecord[]) =>
    NOTICES.filter(([step, target]) => !r.some((x) => x.step === step && x.target === target));
  const { records } = await waitFor(
    async () => {
      const r = await outboxOf(incidentId);
      return { missing: missing(r).map((n) => n.join(':')), records: r };
    },
    (x) => x.missing.length === 0,
    { timeoutMs: 60_000, what: 'the reminders and overdue notices delivered' },
  );
  return records;
}

/**
 * Each notice of the post-mortem written once, at the decision clock's time for it: the reminders at 50%
 * and 90% of the window, the overdue escalation at the deadline (eng lead and owner), its first repeat a
 * 24 h (half the window) later.
 */
function expectEachOnceOnTime(records: OutboxRecord[], resolvedAt: number, windowMs: number): void {
  const keys = records.map((r) => r.idempotencyKey);
  expect(new Set(keys).size).toBe(keys.length);
  const at = (step: string, target = 'channel') =>
    records
      .filter((r) => r.step === step && r.target === target)
      .map((r) => Date.parse(r.createdAt) - resolvedAt);
  expect(at('postmortem-reminder-50')).toEqual([windowMs / 2]);
  expect(at('postmortem-reminder-90')).toEqual([Math.round(windowMs * 0.9)]);
  expect(at('postmortem-overdue', 'eng-lead')).toEqual([windowMs]);
  expect(at('postmortem-overdue')).toEqual([windowMs]);
  expect(at('postmortem-overdue-1', 'eng-lead')).toEqual([windowMs * 1.5]);
}

test('reminders and the overdue escalation go on on a new worker after a SIGKILL, each once and on time', async () => {
  const windowMs = 12_000; // reminders at 6 s and 10.8 s, overdue at 12 s, again every 6 s
  const first = worker({ CRASH_AFTER_WRITE_STEP: 'postmortem-reminder-50' });
  await first.running();
  const { h, incidentId, resolvedAt } = await startPostmortem('pm-kill', windowMs);
  // The first worker writes the 50% reminder, then dies by SIGKILL before the activity completes.
  expect(await first.exited).toBe('SIGKILL');
  expect(first.output()).toContain(`crashing after writing ${incidentId}:postmortem-reminder-50:channel`);

  const second = worker();
  await second.running();
  const s = (await waitFor(
    () => pmStatus(h),
    (x) => (x?.overdueRepeats ?? 0) >= 1,
    { timeoutMs: 60_000, what: 'overdue escalation and a repeat on the second worker' },
  ))!;
  // Decided on the decision clock: the escalation at the deadline itself, however late the worker was.
  expect(s.overdueEscalatedAt).toBe(s.dueAt);
  expect(s.reminders.map((r) => [r.step, r.sentAt === r.at, r.skipped])).toEqual([
    ['postmortem-reminder-50', true, false],
    ['postmortem-reminder-90', true, false],
  ]);
  // The reminder's activity is retried on the new worker (start-to-close 15 s) and finds its record.
  await waitFor(
    async () => second.output(),
    (o) =>
      o.includes(
        `notification duplicate channel=outbox incident=${incidentId} step=postmortem-reminder-50 target=channel`,
      ),
    { timeoutMs: 40_000, what: 'retried reminder to find its record' },
  );
  const records = await delivered(incidentId);
  expectEachOnceOnTime(records, resolvedAt, windowMs);

  const done = await h.executeUpdate(completePostmortemUpdate, {
    args: [{ by: 'alice', documentUrl: 'https://wiki.example.com/pm/kill', actionItems: [] }],
  });
  expect(done).toMatchObject({ accepted: true, status: 'done' });
  expect((await h.result()).status).toBe('done');
  await recordHistory(h, 'postmortem-worker-kill');
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
});

// The worker holding the post-mortem stops (SIGSTOP) while a signal is on its sticky queue; the task times
// out and another worker takes it, then the reminders, the deadline and a repeat that fell due meanwhile.
// Its own bound (240 s): two worker processes start, a task times out and activities are retried after their
// 15 s start-to-close, which on a loaded machine takes more than the suite's 120 s; each wait has its limit.
test('after a workflow task timed out on a stopped worker, the post-mortem goes on and its history replays', async () => {
  const windowMs = 8_000; // reminders at 4 s and 7.2 s, overdue at 8 s, again every 4 s
  const first = worker();
  await first.running();
  const { h, incidentId, resolvedAt } = await startPostmortem('pm-task-timeout', windowMs);
  await waitFor(
    () => pmStatus(h),
    (x) => x?.events.some((e) => e.type === 'postmortem.scheduled') ?? false,
    { what: 'the post-mortem announced' },
  );
  first.child.kill('SIGSTOP');
  await h.signal(actionItemDoneSignal, { by: 'bob', index: 0 });
  const second = worker();
  try {
    await second.running();
    const s = (await waitFor(
      () => pmStatus(h),
      (x) => (x?.overdueRepeats ?? 0) >= 1,
      { timeoutMs: 60_000, what: 'overdue escalation and a repeat on the second worker' },
    ))!;
    expect(s.overdueEscalatedAt).toBe(s.dueAt);
    expect(s.events.filter((e) => e.type === 'signal.rejected').map((e) => e.text)).toEqual([
      'actionItemDone rejected: the post-mortem is not completed yet: it has no action items',
    ]);
    // The stopped worker's task timed out (it held a poll when it stopped) or its sticky queue was given
    // up on; either way the second worker took the post-mortem over.
    const events = (await h.fetchHistory()).events ?? [];
    const { EventType, TaskQueueKind } = temporal.api.enums.v1;
    const startedBy = events.flatMap((e) => e.workflowTaskStartedEventAttributes?.identity ?? []);
    expect(startedBy[0]).toMatch(new RegExp(`^${first.child.pid}@`));
    expect(startedBy.at(-1)).toMatch(new RegExp(`^${second.child.pid}@`));
    const movedOff = events
      .slice(2)
      .some(
        (e) =>
          e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT ||
          e.workflowTaskScheduledEventAttributes?.taskQueue?.kind === TaskQueueKind.TASK_QUEUE_KIND_NORMAL,
      );
    expect(movedOff).toBe(true);
    const records = await delivered(incidentId);
    expectEachOnceOnTime(records, resolvedAt, windowMs);
    await completeBounded(h, {
      by: 'alice',
      documentUrl: 'https://wiki.example.com/pm/stop',
      actionItems: [],
    });
    expect((await within(h.result(), 60_000, 'the post-mortem result')).status).toBe('done');
    await recordHistory(h, 'postmortem-task-timeout');
  } finally {
    first.child.kill('SIGKILL');
    second.child.kill('SIGTERM');
    // A graceful stop that does not end in 30 s is ended.
    await within(second.exited, 30_000, 'the second worker to stop').catch(() => {
      second.child.kill('SIGKILL');
      return second.exited;
    });
  }
}, 240_000);
