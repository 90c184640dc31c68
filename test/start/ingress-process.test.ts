// `npm run ingress` on its own: a separate process against the tests' Temporal server, opening incidents on
// the workers' task queue (INCIDENT_TASK_QUEUE), and closing cleanly on SIGTERM.
import type { Client } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { request } from 'undici';
import { freePort } from '../../scripts/lib/dev-server';
import { PROJECT_ROOT } from '../../scripts/lib/temporal-cli';
import { testClient } from '../harness/temporal';
import { alertmanagerPayload } from '../ingress/helpers';

const taskQueue = `ingress-process-${randomUUID().slice(0, 8)}`;
let child: ChildProcess;
let output = '';
let client: Client;
let close: () => Promise<void>;

beforeAll(async () => {
  ({ client, close } = await testClient());
});
afterAll(async () => {
  if (child?.exitCode === null) child.kill('SIGKILL');
  await close();
});

test('runs alone, opens an incident on the workers task queue, and stops on SIGTERM', async () => {
  const port = await freePort();
  child = spawn(
    process.execPath,
    [path.join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'src/ingress/main.ts'],
    {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        INGRESS_PORT: String(port),
        INGRESS_BEARER_TOKENS: 'ingress-process-token',
        INCIDENT_TASK_QUEUE: taskQueue,
        INGRESS_TASK_QUEUE: '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const until = Date.now() + 60_000;
  while (!output.includes('[ingress] listening on')) {
    if (child.exitCode !== null || Date.now() > until)
      throw new Error(`the ingress did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  expect(output).toContain(`for task queue ${taskQueue}`);

  const res = await request(`http://127.0.0.1:${port}/v1/alerts/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer ingress-process-token' },
    body: JSON.stringify(
      alertmanagerPayload([{ alertname: 'IngressProcessProbe', fingerprint: `fp-${taskQueue}` }]),
    ),
  });
  const body = (await res.body.json()) as { incidents: { workflowId: string }[] };
  expect(res.statusCode).toBe(200);
  const workflowId = body.incidents[0]!.workflowId;
  const d = await client.workflow.getHandle(workflowId).describe();
  expect(d.taskQueue).toBe(taskQueue);
  await client.workflow.getHandle(workflowId).terminate('test done');

  child.kill('SIGTERM');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  expect(code).toBe(0);
  expect(output).toContain('[ingress] SIGTERM: closing');
}, 90_000);
