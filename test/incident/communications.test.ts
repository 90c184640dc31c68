// Section 4 templates as the channels receive them, on a real dev server: 4.1 "On-Call" names the paged role
// and the person the rotation gives it now; 4.3 lists the follow-ups known at resolution and the post-mortem.
import type { Client } from '@temporalio/client';
import { readOutbox } from '../../src/activities/notify/outbox';
import { parseContactConfig } from '../../src/playbook/contacts';
import { startTestWorker, testClient, uniqueTaskQueue, waitFor, type TestWorker } from '../harness/temporal';

const taskQueue = uniqueTaskQueue('communications');
let worker: TestWorker;
let client: Client;
let closeClient: () => Promise<void>;

// One person holds oncall-primary for every week (a one-person rotation), so the name is known at any time.
const contacts = parseContactConfig({
  rotations: { 'oncall-primary': { people: [{ name: 'Ana Ruiz' }], startDate: '2026-01-05' } },
});

beforeAll(async () => {
  worker = await startTestWorker({ taskQueue, deps: { contacts } });
  ({ client, close: closeClient } = await testClient());
});
afterAll(async () => {
  await closeClient();
  await worker.stop();
});

const open = (name: string, input: Record<string, unknown>) =>
  client.workflow.start('incidentWorkflow', {
    taskQueue,
    workflowId: `${name}-${Date.now()}`,
    args: [{ title: name, ...input }],
  });

test('4.1 On-Call: the role this page is for, with the rota person; a P3 names team-lead, not oncall-primary', async () => {
  const p1 = await open('on-call-p1', { severity: 'P1', timeScale: 1 });
  const p3 = await open('on-call-p3', { severity: 'P3', timeScale: 1 });
  const pages = await waitFor(
    () => readOutbox(worker.outbox.file),
    (r) =>
      r.some((x) => x.incidentId.startsWith(p1.workflowId) && x.kind === 'page') &&
      r.some((x) => x.incidentId.startsWith(p3.workflowId) && x.kind === 'page'),
    { what: 'the first pages' },
  );
  const p1Page = pages.find((x) => x.incidentId.startsWith(p1.workflowId) && x.kind === 'page')!;
  expect(p1Page.text).toContain('**On-Call**: @oncall-primary (Ana Ruiz)');
  const p3Page = pages.find((x) => x.incidentId.startsWith(p3.workflowId) && x.kind === 'page')!;
  expect(p3Page.text).toContain('**On-Call**: @team-lead');
  expect(p3Page.text).not.toContain('@oncall-primary');
  await Promise.all([p1.terminate(), p3.terminate()]);
});

test('4.3 lists the human steps a procedure left, and the post-mortem it opens', async () => {
  const h = await open('follow-ups', { severity: 'P1', timeScale: 1 });
  // What a procedure child reports (procedureEvent): a step the playbook leaves to a person.
  await h.signal('procedureEvent', {
    procedure: '3.1 trading-system-down',
    step: '3.1 resolution: Network partition',
    type: 'decision',
    outcome: 'unknown',
    text: 'human step: Check Docker network (`docker network inspect`), recreate if needed',
  });
  await h.executeUpdate('resolve', { args: [{ by: 'ana', resolution: 'network recreated' }] });
  const out = await waitFor(
    () => readOutbox(worker.outbox.file),
    (r) => r.some((x) => x.incidentId.startsWith(h.workflowId) && x.kind === 'resolved'),
    { what: 'the 4.3 message' },
  );
  const text = out.find((x) => x.incidentId.startsWith(h.workflowId) && x.kind === 'resolved')!.text;
  expect(text).toContain(
    '- [ ] 3.1 resolution: Network partition: Check Docker network (`docker network inspect`), recreate if needed',
  );
  expect(text).toMatch(
    /\*\*Post-mortem\*\*: workflow postmortem-follow-ups-\d+@\S+ \(opens when the reopen window closes\)/,
  );
  await h.terminate();
});
