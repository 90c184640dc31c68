// The operator path from the README, through the project's Temporal CLI build (what an on-call engineer
// types): start, query, signal, Update and list, with the exact commands and JSON inputs documented there.
// Only the task queue differs (each test file has its own). tctl is not available here (see README).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { IncidentStatus, TimelineEvent } from '../../src/playbook/contract/incident';
import { startTestWorker, uniqueTaskQueue, waitFor, type TestWorker } from '../harness/temporal';

const run = promisify(execFile);
const taskQueue = uniqueTaskQueue('operator-cli');
let worker: TestWorker;

beforeAll(async () => {
  worker = await startTestWorker({ taskQueue });
});
afterAll(async () => {
  await worker.stop();
});

/** `temporal <args>` against the test server; resolves with stdout, rejects with the CLI's exit and stderr. */
async function temporal(...args: string[]): Promise<string> {
  const cli = process.env.TEMPORAL_CLI_PATH;
  if (!cli) throw new Error('TEMPORAL_CLI_PATH is not set: run through jest (global-setup finds the CLI)');
  const { stdout } = await run(cli, [...args, '--address', process.env.TEMPORAL_ADDRESS!], {
    env: { ...process.env, TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE ?? 'default' },
  });
  return stdout;
}

/** The CLI's JSON output, as printed: it shows an empty list as null (e.g. `"engagedRoles": null`). */
async function query<T>(workflowId: string, name: 'status' | 'timeline'): Promise<T> {
  const out = JSON.parse(
    await temporal('workflow', 'query', '--workflow-id', workflowId, '--name', name, '--output', 'json'),
  ) as { queryResult: [T] };
  return out.queryResult[0];
}

/** `temporal workflow signal --workflow-id ID --name NAME --input JSON`, as in the README. */
const signal = (workflowId: string, name: string, input: string) =>
  temporal('workflow', 'signal', '--workflow-id', workflowId, '--name', name, '--input', input);

const listOpenP0 = async () =>
  (
    await temporal(
      'workflow',
      'list',
      '--query',
      "ExecutionStatus='Running' AND IncidentSeverity='P0' AND IncidentStatus!='resolved'",
      '--output',
      'json',
    )
  ).trim();

test('README commands: start, query, acknowledge, a rejected Update, a rejected signal, resolve, list', async () => {
  const id = `cli-${Date.now()}`;
  await temporal(
    'workflow',
    'start',
    '--type',
    'incidentWorkflow',
    '--task-queue',
    taskQueue,
    '--workflow-id',
    id,
    '--static-summary',
    'P0: API down',
    '--input',
    '{"title":"API down","severity":"P0","timeScale":600}',
  );
  const paged = await waitFor(
    () => query<IncidentStatus>(id, 'status'),
    (s) => (s.engagedRoles ?? []).length > 0,
    { what: 'first page' },
  );
  expect(paged).toMatchObject({ workflowId: id, severity: 'P0', status: 'triggered', title: 'API down' });
  await waitFor(listOpenP0, (out) => out.includes(id), { what: 'the incident in the open-P0 list' });

  await signal(id, 'acknowledge', '{"by":"oncall-primary"}');
  await waitFor(
    () => query<IncidentStatus>(id, 'status'),
    (s) => s.status === 'acknowledged' && s.acknowledgedBy === 'oncall-primary',
    { what: 'acknowledged' },
  );

  // An Update with a bad payload is refused at once, with the reason, and changes nothing.
  const refused = await temporal(
    'workflow',
    'update',
    'execute',
    '--workflow-id',
    id,
    '--name',
    'resolve',
    '--input',
    '{"by":""}',
  ).catch((e: { code: number; stderr: string; stdout: string }) => e);
  expect(refused).toMatchObject({ code: 1 });
  expect((refused as { stderr: string }).stderr).toContain('invalid resolve payload: by:');
  expect((await query<IncidentStatus>(id, 'status')).status).toBe('acknowledged');

  // A signal with a bad payload is recorded as rejected; the incident carries on.
  await signal(id, 'setSeverity', '{"severity":"P9"}');
  const timeline = await waitFor(
    () => query<TimelineEvent[]>(id, 'timeline'),
    (t) => t.some((e) => e.type === 'signal.rejected'),
    { what: 'the rejected signal in the timeline' },
  );
  expect(timeline.find((e) => e.type === 'signal.rejected')?.text).toMatch(/setSeverity/);

  await signal(
    id,
    'resolve',
    '{"by":"oncall-primary","rootCause":"OOM in inference-api","resolution":"restarted containers","missedTrades":3}',
  );
  const resolved = await waitFor(
    () => query<IncidentStatus>(id, 'status'),
    (s) => s.status === 'resolved',
    { what: 'resolved' },
  );
  expect(resolved.resolvedBy).toBe('oncall-primary');
  expect(resolved.resolution).toMatchObject({
    rootCause: 'OOM in inference-api',
    resolution: 'restarted containers',
  });
  await waitFor(listOpenP0, (out) => !out.includes(id), { what: 'the incident gone from the open-P0 list' });
});
