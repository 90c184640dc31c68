// A new incident opens at its start event, when the alert reached Temporal, not when a worker first gets to
// it (1.1, `opened-at-start-event-v1`): started while no worker polls, it still counts its targets and its
// matrix from the start, and the steps already due go out together on the first task.
import type { Client } from '@temporalio/client';
import {
  startTestWorker,
  status,
  testClient,
  uniqueTaskQueue,
  waitFor,
  type TestWorker,
} from '../harness/temporal';
import { resolveSignal } from '../../src/workflows/definitions';

const taskQueue = uniqueTaskQueue('opening-time');
let client: Client;
let close: () => Promise<void>;
let worker: TestWorker | null = null;
beforeAll(async () => {
  ({ client, close } = await testClient());
});
afterAll(async () => {
  await worker?.stop();
  await close();
});

test('an incident whose first task waits 3 s still opens at its start event', async () => {
  // P1 at 600x: the 15-minute step is due 1.5 s after the start, before any worker runs it.
  const h = await client.workflow.start('incidentWorkflow', {
    taskQueue,
    workflowId: `opening-time-${Date.now()}`,
    args: [{ title: 'late first task', severity: 'P1', timeScale: 600 }],
  });
  const startedAt = (await h.describe()).startTime.getTime();
  await new Promise((r) => setTimeout(r, 3000));
  worker = await startTestWorker({ taskQueue });
  const s = await waitFor(
    () => status(h),
    (x) => x.engagedRoles.includes('eng-lead'),
    { what: 'the 15-minute step, overdue when the first task ran' },
  );
  expect(Date.parse(s.openedAt)).toBe(startedAt);
  // The response target (15 playbook minutes, 1.5 s here) counts from the start: it passed before any task.
  expect(Date.parse(s.sla.responseDeadline)).toBe(startedAt + 1500);
  await h.signal(resolveSignal, { by: 'tester' });
}, 60_000);
