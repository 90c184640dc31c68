// On-call at runtime through the real ingress (HTTP over loopback) and the dev server, with a worker on this
// file's own task queue: an override POSTed for oncall-primary makes GET /v1/oncall name the cover, and the next
// incident's first page names them in the 4.1 "On-Call" line; once the override is DELETEd, the next incident's
// page names the rotation's person again. The roster's id is one per namespace: it is ended (and deleted) before
// and after this file, so no other file sees it.
import type { Client } from '@temporalio/client';
import { request } from 'undici';
import { readOutbox } from '../../src/activities/notify/outbox';
import { startIngress, type RunningIngress } from '../../src/ingress/start';
import { TemporalIncidentStarter } from '../../src/ingress/starter';
import { parseContactConfig } from '../../src/playbook/contacts';
import { ONCALL_WORKFLOW_ID } from '../../src/playbook/contract/oncall';
import { WORKFLOW_TYPE } from '../../src/workflows/definitions';
import { startTestWorker, testClient, uniqueTaskQueue, waitFor, type TestWorker } from '../harness/temporal';
import { closeAllApps, defaultRules, testConfig } from '../ingress/helpers';

const TOKEN = 'oncall-token-7c31e0';
// One person holds oncall-primary every week (a one-person rotation): the name is known at any time.
const contacts = parseContactConfig({
  rotations: { 'oncall-primary': { people: [{ name: 'Rota Ruiz' }], startDate: '2026-01-05' } },
});

let client: Client;
let closeClient: () => Promise<void>;
let worker: TestWorker;
let ingress: RunningIngress;
const taskQueue = uniqueTaskQueue('oncall');

/** The roster of another file (or an earlier run) ended and gone, so a query finds none. */
async function removeRoster(): Promise<void> {
  await client.workflow
    .getHandle(ONCALL_WORKFLOW_ID)
    .terminate('oncall integration test')
    .catch(() => undefined);
  await client.workflowService
    .deleteWorkflowExecution({
      namespace: client.options.namespace,
      workflowExecution: { workflowId: ONCALL_WORKFLOW_ID },
    })
    .catch(() => undefined);
}

beforeAll(async () => {
  ({ client, close: closeClient } = await testClient());
  await removeRoster();
  worker = await startTestWorker({ taskQueue, deps: { contacts } });
  const starter = new TemporalIncidentStarter({ taskQueue, timeoutMs: 10_000, client });
  ingress = await startIngress(testConfig({ taskQueue, bearerTokens: TOKEN, port: 0 }), {
    starter,
    rules: defaultRules(),
    contacts,
  });
});

afterAll(async () => {
  await client.workflow
    .getHandle(ONCALL_WORKFLOW_ID)
    .terminate('test over')
    .catch(() => undefined);
  await ingress?.close();
  await closeAllApps();
  // Stopping replays every history of the task queue, the roster's too: deleted only after that.
  await worker?.stop();
  await removeRoster();
  await closeClient?.();
}, 120_000);

async function http(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) {
  const res = await request(`${ingress.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${TOKEN}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.statusCode, body: (await res.body.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any -- test reads
}

/** A P1 incident's first page as the outbox recorded it. */
async function firstPage(name: string): Promise<string> {
  const h = await client.workflow.start(WORKFLOW_TYPE, {
    taskQueue,
    workflowId: `${name}-${Date.now()}`,
    args: [{ title: name, severity: 'P1', timeScale: 1 }],
  });
  const pages = await waitFor(
    () => readOutbox(worker.outbox.file),
    (r) => r.some((x) => x.incidentId.startsWith(h.workflowId) && x.kind === 'page'),
    { what: `the first page of ${name}` },
  );
  await h.terminate('test over');
  return pages.find((x) => x.incidentId.startsWith(h.workflowId) && x.kind === 'page')!.text;
}

test('an override POSTed names the cover in GET /v1/oncall and in the next page; DELETEd, the rotation again', async () => {
  // No roster yet: the rotation's person, and no overrides.
  const before = await http('GET', '/v1/oncall');
  expect(before.status).toBe(200);
  expect(before.body.roles[0]).toMatchObject({
    role: 'oncall-primary',
    now: { name: 'Rota Ruiz', source: 'rotation' },
  });
  expect(before.body.overrides).toEqual([]);

  const now = Date.now();
  const added = await http('POST', '/v1/oncall/overrides', {
    role: 'oncall-primary',
    person: { name: 'Cora Cover', timeZone: 'America/New_York' },
    from: new Date(now - 60_000).toISOString(),
    to: new Date(now + 3_600_000).toISOString(),
    by: 'Rota Ruiz',
    reason: 'dentist',
    via: 'cli',
  });
  expect(added.status).toBe(201);
  expect(added.body.override).toMatchObject({ role: 'oncall-primary', by: 'Rota Ruiz', via: 'http' });
  const id = added.body.override.id as string;

  const view = await http('GET', '/v1/oncall');
  expect(view.body.roles[0]).toMatchObject({
    role: 'oncall-primary',
    now: { name: 'Cora Cover', source: 'override' },
    until: new Date(now + 3_600_000).toISOString(),
    untilText: expect.stringContaining('America/New_York'),
    next: { name: 'Rota Ruiz', source: 'rotation' },
  });
  expect(view.body.overrides).toEqual([
    expect.objectContaining({ id, person: expect.objectContaining({ name: 'Cora Cover' }) }),
  ]);

  // The paging activity reads the roster (its first read: no cache yet).
  expect(await firstPage('oncall-covered')).toContain('**On-Call**: @oncall-primary (Cora Cover)');

  const cancelled = await http('DELETE', `/v1/oncall/overrides/${id}`, {
    by: 'Rota Ruiz',
    reason: 'back early',
  });
  expect(cancelled.status).toBe(200);
  expect(cancelled.body.override.cancelled).toMatchObject({
    by: 'Rota Ruiz',
    via: 'http',
    reason: 'back early',
  });
  expect((await http('DELETE', `/v1/oncall/overrides/${id}`, { by: 'Rota Ruiz' })).status).toBe(409);
  expect((await http('GET', '/v1/oncall')).body.roles[0].now).toEqual({
    name: 'Rota Ruiz',
    source: 'rotation',
  });

  // What the route would refuse first, sent to the roster as it is: its validator's refusal comes back as the
  // reason, not as an outage.
  const refused = await ingress.starter.addOverride({
    role: 'oncall-primary',
    person: { name: 'Cora Cover' },
    from: new Date(now + 7_200_000).toISOString(),
    to: new Date(now + 3_600_000).toISOString(),
    by: 'Rota Ruiz',
    via: 'cli',
  });
  expect(refused).toMatchObject({
    accepted: false,
    message: expect.stringContaining('from must be before to'),
  });

  // The worker reuses what it read for 5 s.
  await new Promise((r) => setTimeout(r, 5_500));
  expect(await firstPage('oncall-rotation')).toContain('**On-Call**: @oncall-primary (Rota Ruiz)');
}, 90_000);
