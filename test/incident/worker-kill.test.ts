// A real worker process killed with SIGKILL mid-incident, right after writing a page and before reporting
// it done; a new worker process takes over. Escalation stays on time and the outbox holds every page once.
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { readOutbox } from '../../src/activities/notify/outbox';
import { recordHistory } from '../harness/history';
import { replayTaskQueue, status, testClient, tmpFile, uniqueTaskQueue, waitFor } from '../harness/temporal';
import { addNoteSignal, resolveSignal, timelineQuery } from '../../src/workflows/definitions';

const ROOT = path.resolve(__dirname, '..', '..');
const taskQueue = uniqueTaskQueue('kill');
const outboxFile = tmpFile('kill-outbox.jsonl');
let client: Client;
let closeClient: () => Promise<void>;
const children: ChildProcess[] = [];

function startWorkerProcess(env: Record<string, string>): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<NodeJS.Signals | number | null>;
} {
  let out = '';
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'test', 'harness', 'worker-process.ts')],
    {
      cwd: ROOT,
      env: { ...process.env, INCIDENT_TASK_QUEUE: taskQueue, OUTBOX_FILE: outboxFile, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  children.push(child);
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  return { child, output: () => out, exited };
}

beforeAll(async () => {
  ({ client, close: closeClient } = await testClient());
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await closeClient();
  // The crash histories (a task lost with its worker) are the ones most worth replaying.
  await replayTaskQueue(taskQueue, process.env.WORKFLOW_BUNDLE_PATH!);
});

test('escalation continues on time on a new worker and no page is written twice', async () => {
  const timeScale = 120; // P0: eng lead at 7.5 s, CTO at 15 s
  const first = startWorkerProcess({ CRASH_AFTER_WRITE_STEP: 'escalate-P0-15m' });
  await waitFor(
    async () => first.output(),
    (o) => o.includes('[worker-process] running'),
    { timeoutMs: 60_000, what: 'first worker' },
  );

  const h = await client.workflow.start('incidentWorkflow', {
    taskQueue,
    workflowId: `worker-kill-${Date.now()}`,
    args: [{ title: 'Worker killed mid-incident', severity: 'P0', timeScale }],
  });
  const { incidentId } = await waitFor(
    () => status(h),
    (x) => x.engagedRoles.length > 0,
    { what: 'first page' },
  );
  // The first worker writes the eng lead page at 15 playbook minutes, then dies by SIGKILL.
  expect(await first.exited).toBe('SIGKILL');
  expect(first.output()).toContain(`crashing after writing ${incidentId}:escalate-P0-15m:eng-lead`);

  const second = startWorkerProcess({});
  // Queried only once it polls: with no worker on the queue a query fails at once ("no poller seen").
  await waitFor(
    async () => second.output(),
    (o) => o.includes('[worker-process] running'),
    { timeoutMs: 60_000, what: 'second worker' },
  );
  const s = await waitFor(
    () => status(h),
    (x) => x.engagedRoles.includes('cto'),
    { timeoutMs: 60_000, what: 'CTO at 30 min' },
  );
  const ctoAt =
    ((Date.parse(s.engagements.find((e) => e.role === 'cto')!.at) - Date.parse(s.openedAt)) * timeScale) /
    60_000;
  expect(ctoAt).toBeGreaterThanOrEqual(30);
  // On time: at most 4 real seconds (8 playbook minutes) late despite the crash.
  expect(ctoAt).toBeLessThan(30 + (4 * timeScale) / 60);

  // The eng lead page activity is retried on the new worker (start-to-close 15 s) and finds its record.
  await waitFor(
    async () => second.output(),
    (o) =>
      o.includes(
        `notification duplicate channel=outbox incident=${incidentId} step=escalate-P0-15m target=eng-lead`,
      ),
    { timeoutMs: 40_000, what: 'retried page to find its record' },
  );
  const records = (await readOutbox(outboxFile)).filter((r) => r.incidentId.startsWith(`${h.workflowId}@`));
  const keys = records.map((r) => r.idempotencyKey);
  expect(new Set(keys).size).toBe(keys.length);
  expect(
    records.filter((r) => r.kind === 'page' && r.target === 'eng-lead').map((r) => r.idempotencyKey),
  ).toEqual([`${incidentId}:escalate-P0-15m:eng-lead`]);
  expect(keys).toContain(`${incidentId}:escalate-P0-30m:cto`);

  await h.signal(resolveSignal, { by: 'oncall-primary' });
  await waitFor(
    () => status(h),
    (x) => x.status === 'resolved',
  );
  await recordHistory(h, 'worker-kill');
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
});

// A workflow task that times out: the worker holding the incident stops (SIGSTOP) while a signal is on its
// sticky queue, the task times out after 2 s and another worker takes it. That first task on the new worker
// is where the live run read a stale Date.now() (the reason decisions take the decision clock): the history
// must replay (afterAll replays every run of this task queue; test/replay.test.ts the recorded fixture).
test('after a workflow task timed out on a stopped worker, the incident goes on and its history replays', async () => {
  const timeScale = 120; // P0: eng lead at 7.5 s, CTO at 15 s, re-page every 2.5 s
  const first = startWorkerProcess({});
  await waitFor(
    async () => first.output(),
    (o) => o.includes('[worker-process] running'),
    { timeoutMs: 60_000, what: 'first worker' },
  );
  const h = await client.workflow.start('incidentWorkflow', {
    taskQueue,
    workflowId: `task-timeout-${Date.now()}`,
    args: [{ title: 'Worker stopped mid-incident', severity: 'P0', timeScale }],
  });
  await waitFor(
    () => status(h),
    (x) => x.engagedRoles.length > 0,
    { what: 'first page' },
  );
  first.child.kill('SIGSTOP');
  await h.signal(addNoteSignal, { by: 'oncall-primary', text: 'sent while the worker is stopped' });
  const second = startWorkerProcess({});
  try {
    // Queried only once it polls: with no worker on the queue a query fails at once ("no poller seen").
    await waitFor(
      async () => second.output(),
      (o) => o.includes('[worker-process] running'),
      { timeoutMs: 60_000, what: 'second worker' },
    );
    const s = await waitFor(
      () => status(h),
      (x) => x.engagedRoles.includes('cto'),
      { timeoutMs: 60_000, what: 'CTO at 30 min on the second worker' },
    );
    expect(s.engagedRoles).toEqual(['oncall-primary', 'eng-lead', 'cto']);
    const timeline = await h.query(timelineQuery);
    expect(timeline.some((e) => e.type === 'note' && e.text === 'sent while the worker is stopped')).toBe(
      true,
    );
    const history = await h.fetchHistory();
    expect(
      history.events?.some(
        (e) => e.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
      ),
    ).toBe(true);
    await h.signal(resolveSignal, { by: 'oncall-primary' });
    await waitFor(
      () => status(h),
      (x) => x.status === 'resolved',
    );
    await recordHistory(h, 'task-timeout');
  } finally {
    first.child.kill('SIGKILL');
    second.child.kill('SIGTERM');
    await second.exited;
  }
});
