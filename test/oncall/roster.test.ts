// The on-call roster on the dev server: an override of oncall-primary makes the next page's 4.1 "On-Call"
// name the covering person, cancelling it restores the rotation, a refused change changes nothing and the
// audit says who changed what through what; a shift-change notice goes to the channel at the handover.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { readOutbox } from '../../src/activities/notify/outbox';
import { parseContactConfig } from '../../src/playbook/contacts';
import { ONCALL_WORKFLOW_ID } from '../../src/playbook/contract/oncall';
import { ensureOncallRoster } from '../../src/temporal/oncall';
import { WORKFLOW_TYPE } from '../../src/workflows/definitions';
import { addOverrideUpdate, cancelOverrideUpdate, rosterQuery } from '../../src/workflows/oncall-definitions';
import { recordHistory } from '../harness/history';
import { startTestWorker, testClient, uniqueTaskQueue, waitFor, type TestWorker } from '../harness/temporal';

// Ana holds oncall-primary every week (a one-person rotation): the name is known at any time.
const contacts = parseContactConfig({
  rotations: { 'oncall-primary': { people: [{ name: 'Ana Ruiz' }], startDate: '2026-01-05' } },
});
const taskQueue = uniqueTaskQueue('oncall');
let client: Client;
let closeClient: () => Promise<void>;
let worker: TestWorker;
let roster: WorkflowHandle;
const incidents: WorkflowHandle[] = [];

async function stopRoster(): Promise<void> {
  await client.workflow
    .getHandle(ONCALL_WORKFLOW_ID)
    .terminate('test')
    .catch(() => undefined);
}

beforeAll(async () => {
  ({ client, close: closeClient } = await testClient());
  await stopRoster();
  worker = await startTestWorker({ taskQueue, deps: { contacts } });
  await ensureOncallRoster(client, taskQueue);
  roster = client.workflow.getHandle(ONCALL_WORKFLOW_ID);
});
afterAll(async () => {
  for (const h of incidents) await h.terminate('test over').catch(() => undefined);
  await recordHistory(roster, 'oncall-roster').catch(() => undefined);
  await stopRoster();
  await worker?.stop();
  await closeClient?.();
}, 120_000);

async function firstPage(name: string): Promise<string> {
  const h = await client.workflow.start(WORKFLOW_TYPE, {
    taskQueue,
    workflowId: `${name}-${Date.now()}`,
    args: [{ title: name, severity: 'P1', timeScale: 1 }],
  });
  incidents.push(h);
  const rows = await waitFor(
    () => readOutbox(worker.outbox.file),
    (r) => r.some((x) => x.incidentId.startsWith(h.workflowId) && x.kind === 'page'),
    { what: `the first page of ${name}` },
  );
  return rows.find((x) => x.incidentId.startsWith(h.workflowId) && x.kind === 'page')!.text;
}

test('an override names the covering person on the next page; cancelling it restores the rotation', async () => {
  expect(await firstPage('oncall-before')).toContain('**On-Call**: @oncall-primary (Ana Ruiz)');
  const now = Date.now();
  const added = await roster.executeUpdate(addOverrideUpdate, {
    args: [
      {
        role: 'oncall-primary',
        person: { name: 'Carla Gómez', slack: '@carla' },
        from: new Date(now - 60_000).toISOString(),
        to: new Date(now + 3_600_000).toISOString(),
        by: 'eng-lead',
        reason: 'Ana is sick',
      },
    ],
  });
  expect(added).toMatchObject({ accepted: true, override: { role: 'oncall-primary', via: 'cli' } });
  const id = added.accepted ? added.override.id : '';
  // The paging activity reads the roster at most every 5 s.
  await new Promise((r) => setTimeout(r, 5_500));
  expect(await firstPage('oncall-covered')).toContain('**On-Call**: @oncall-primary (Carla Gómez)');

  // A payload the validator refuses changes nothing.
  await expect(
    roster.executeUpdate(addOverrideUpdate, {
      args: [{ role: 'nobody', person: { name: 'X' }, from: 'soon', to: 'later', by: 'x' } as never],
    }),
  ).rejects.toThrow(WorkflowUpdateFailedError);

  const cancelled = await roster.executeUpdate(cancelOverrideUpdate, {
    args: [{ id, by: 'ana', reason: 'back at work' }],
  });
  expect(cancelled.accepted).toBe(true);
  const view = await roster.query(rosterQuery);
  expect(view.overrides).toEqual([]);
  expect(view.changes.map((c) => [c.action, c.by, c.via])).toEqual([
    ['add', 'eng-lead', 'cli'],
    ['cancel', 'ana', 'cli'],
  ]);
  await new Promise((r) => setTimeout(r, 5_500));
  expect(await firstPage('oncall-after')).toContain('**On-Call**: @oncall-primary (Ana Ruiz)');
}, 90_000);

test('the channel hears the shift change when an override begins', async () => {
  const from = Date.now() + 4_000;
  const added = await roster.executeUpdate(addOverrideUpdate, {
    args: [
      {
        role: 'oncall-primary',
        person: { name: 'Diego' },
        from: new Date(from).toISOString(),
        to: new Date(from + 3_600_000).toISOString(),
        by: 'eng-lead',
      },
    ],
  });
  expect(added.accepted).toBe(true);
  const notice = await waitFor(
    async () => (await readOutbox(worker.outbox.file)).filter((r) => r.step.startsWith('handover-')),
    (rows) => rows.length > 0,
    { what: 'the shift-change notice', timeoutMs: 20_000 },
  );
  expect(notice[0]!.text).toContain('On-Call Primary (oncall-primary): Ana Ruiz hands over to Diego');
  // Sent at the override's start, not before.
  expect(notice[0]!.createdAt).toBe(new Date(from).toISOString());
  expect(Date.now()).toBeGreaterThanOrEqual(from);
}, 60_000);
