// A real worker process killed with SIGKILL right after the procedure's kill switch call reached the
// platform and before the activity reported it; a new worker process finishes the procedure. The kill
// switch is applied once (simulator counters), the retried activity sees it active and does not call again.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { replayTaskQueue, testClient, tmpFile, uniqueTaskQueue, waitFor } from '../harness/temporal';
import {
  decide,
  procState,
  resultOf,
  startPlatform,
  startProcedure,
  terminateParents,
  waitForApproval,
  type Platform,
} from './helpers';

const ROOT = path.resolve(__dirname, '..', '..');
const taskQueue = uniqueTaskQueue('proc-kill');
let p: Platform;
let client: Client;
let closeClient: () => Promise<void>;
const children: ChildProcess[] = [];
const parents: WorkflowHandle[] = [];

function startWorkerProcess(env: Record<string, string>) {
  let out = '';
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'test', 'procedures', 'worker-process.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        INCIDENT_TASK_QUEUE: taskQueue,
        OUTBOX_FILE: tmpFile('kill-outbox.jsonl'),
        PLATFORM_JSON: JSON.stringify(p.platform),
        ...env,
      },
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
  p = await startPlatform('playbook', 'usdcop_proc_kill');
  ({ client, close: closeClient } = await testClient());
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  await terminateParents(parents);
  await closeClient();
  await p.sim.stop();
  await replayTaskQueue(taskQueue, process.env.WORKFLOW_BUNDLE_PATH!);
});

test('3.3 kill switch: worker killed after the call, before the ack; the new worker does not call again and finishes', async () => {
  await p.sim.injectFault({ staleDataMinutes: 75 });
  const first = startWorkerProcess({ CRASH_AFTER_ACTIVITY: 'activateKillSwitch' });
  await waitFor(
    async () => first.output(),
    (o) => o.includes('[worker-process] running'),
    { timeoutMs: 60_000, what: 'first worker' },
  );

  const { parent, child } = await startProcedure(
    client,
    taskQueue,
    'dataSourceDownProcedure',
    'worker-kill',
    { kind: 'data-source-down', preApprovedActions: ['kill-switch:data-outage-60m'] },
  );
  parents.push(parent);
  expect(await first.exited).toBe('SIGKILL');
  expect(first.output()).toContain('crashing after activateKillSwitch: {"applied":true');
  expect((await p.sim.state()).applied.killSwitch).toBe(1);

  const second = startWorkerProcess({});
  // Queried only once it polls: with no worker on the queue a query fails at once ("no poller seen").
  await waitFor(
    async () => second.output(),
    (o) => o.includes('[worker-process] running'),
    { timeoutMs: 60_000, what: 'second worker' },
  );
  // The activity's heartbeat timeout (10 s) expires; the retry runs on the new worker and finds the switch active.
  await waitFor(
    () => procState(child),
    (s) => s.events.some((e) => e.step === '3.3 mitigation: activate kill switch'),
    { timeoutMs: 60_000, what: 'kill switch step done on the new worker' },
  );
  const ks = (await procState(child)).events.find((e) => e.step === '3.3 mitigation: activate kill switch')!;
  expect(ks).toMatchObject({ outcome: 'ok', data: expect.objectContaining({ applied: false }) });
  expect(ks.text).toContain('kill switch already active');

  await p.sim.injectFault({ staleDataMinutes: 0 });
  const actionId = await waitForApproval(child, 'resume', 60_000);
  await decide(child, actionId, 'approved', 'oncall', undefined, 'CONFIRM_RESUME');
  expect((await resultOf(child)).outcome).toBe('completed');
  const st = await p.sim.state();
  expect(st.calls.killSwitch).toBe(1);
  expect(st.applied.killSwitch).toBe(1);
  expect(st.applied.resume).toBe(1);
  second.child.kill('SIGTERM');
  expect(await second.exited).toBe(0);
});
