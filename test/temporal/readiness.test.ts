// Start-up readiness on a real server (the tests' dev server): a namespace that does not exist is created,
// the incident search attributes are registered on it, and the ingress then opens an incident there with
// no manual step. A second check finds everything in place and changes nothing.
import { Client, type Connection } from '@temporalio/client';
import { TemporalIncidentStarter } from '../../src/ingress/starter';
import {
  ensureTemporalReady,
  searchAttributeCommands,
  TemporalNotReadyError,
} from '../../src/temporal/readiness';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/definitions';
import { testClient } from '../harness/temporal';

let client: Client;
let close: () => Promise<void>;
beforeAll(async () => {
  ({ client, close } = await testClient());
});
afterAll(() => close());

test('a missing namespace is created and the search attributes registered, once', async () => {
  const namespace = `readiness-${Date.now().toString(36)}`;
  const lines: string[] = [];
  const first = await ensureTemporalReady(client.connection, namespace, (l) => lines.push(l));
  expect(first).toEqual({ namespace, namespaceCreated: true, registered: Object.keys(SEARCH_ATTRIBUTES) });
  const listed = await client.connection.operatorService.listSearchAttributes({ namespace });
  for (const name of Object.keys(SEARCH_ATTRIBUTES)) expect(listed.customAttributes).toHaveProperty(name);
  expect(lines.join('\n')).toContain(`registered namespace ${namespace}`);

  const again = await ensureTemporalReady(client.connection, namespace);
  expect(again).toEqual({ namespace, namespaceCreated: false, registered: [] });
}, 60_000);

test('the ingress readies a fresh namespace before its first start and opens the incident there', async () => {
  const namespace = `readiness-ingress-${Date.now().toString(36)}`;
  const starter = new TemporalIncidentStarter({
    taskQueue: 'readiness-no-worker',
    timeoutMs: 30_000,
    namespace,
    connection: client.connection as Connection,
  });
  const workflowId = `readiness-${Date.now()}`;
  const run = await starter.openIncident({
    workflowId,
    severity: 'P2',
    kind: 'generic',
    details: 'readiness test',
    input: { title: 'readiness', severity: 'P2' },
  } as never);
  expect(run.workflowId).toBe(workflowId);
  const d = await new Client({ connection: client.connection as Connection, namespace }).workflow
    .getHandle(workflowId)
    .describe();
  expect(
    d.typedSearchAttributes
      .getAll()
      .map((p) => p.key.name)
      .sort(),
  ).toEqual(expect.arrayContaining(['IncidentKind', 'IncidentSeverity', 'IncidentStatus']));
  await new Client({ connection: client.connection as Connection, namespace }).workflow
    .getHandle(workflowId)
    .terminate('test done');
}, 60_000);

test('what cannot be registered comes with the exact commands', () => {
  const err = new TemporalNotReadyError('not ready', searchAttributeCommands('prod', ['IncidentSeverity']));
  expect(err.message).toBe(
    'not ready\nRun:\n  temporal operator search-attribute create --namespace prod --name IncidentSeverity --type Keyword',
  );
});
