// Through the parent: an incidentWorkflow of kind trading-system-down starts its 3.1 procedure child; the
// resume request appears in the incident's pendingApprovals; a wrong confirmation code is refused by the
// parent with a reason and never reaches the platform; CONFIRM_RESUME resumes; findings land in `status`.
import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { IncidentStatus } from '../../src/playbook/contract/incident';
import { approveUpdate, resolveUpdate } from '../../src/workflows/definitions';
import { recordHistory } from '../harness/history';
import { status, testClient, uniqueTaskQueue, waitFor } from '../harness/temporal';
import {
  startPlatform,
  startProcedureWorker,
  terminateParents,
  type Platform,
  type ProcedureWorker,
} from './helpers';

const taskQueue = uniqueTaskQueue('proc-parent');
let p: Platform;
let worker: ProcedureWorker;
let client: Client;
let closeClient: () => Promise<void>;
const handles: WorkflowHandle[] = [];

beforeAll(async () => {
  p = await startPlatform('playbook', 'usdcop_proc_parent');
  worker = await startProcedureWorker(taskQueue, p.platform);
  ({ client, close: closeClient } = await testClient());
});
afterAll(async () => {
  await terminateParents(handles);
  await closeClient();
  await worker.stop();
  await p.sim.stop();
});

test('kill switch active: resume needs CONFIRM_RESUME; a wrong code is rejected with a reason, the right one resumes', async () => {
  await p.sim.injectFault({ killSwitch: { reason: 'Daily loss limit', activated_by: 'risk_monitor' } });
  const h = await client.workflow.start('incidentWorkflow', {
    taskQueue,
    workflowId: `proc-parent-resume-${Date.now()}`,
    args: [
      { title: 'Trading stopped: kill switch', severity: 'P0', kind: 'trading-system-down', timeScale: 60 },
    ],
  });
  handles.push(h);
  const s = await waitFor(
    () => status(h),
    (x: IncidentStatus) => x.pendingApprovals.some((a) => a.action === 'resume'),
    { what: 'resume request in the incident' },
  );
  const pending = s.pendingApprovals.find((a) => a.action === 'resume')!;
  expect(pending.requiresConfirmationCode).toBe(true);
  expect(s.procedure).toMatchObject({ type: 'tradingSystemDownProcedure', status: 'running' });
  expect(
    s.findings.some((f) => f.step === '3.1 immediate: check kill switch status' && f.outcome === 'failed'),
  ).toBe(true);

  const wrong = await h
    .executeUpdate(approveUpdate, {
      args: [{ by: 'alice', actionId: pending.actionId, confirmationCode: 'confirm' }],
    })
    .catch((e: unknown) => e);
  expect(wrong).toBeInstanceOf(WorkflowUpdateFailedError);
  expect(String((wrong as WorkflowUpdateFailedError).cause?.message)).toContain('CONFIRM_RESUME');
  expect((await p.sim.state()).calls.resume).toBe(0);
  expect((await status(h)).pendingApprovals.map((a) => a.actionId)).toContain(pending.actionId);

  await h.executeUpdate(approveUpdate, {
    args: [{ by: 'alice', actionId: pending.actionId, confirmationCode: 'CONFIRM_RESUME' }],
  });
  const done = await waitFor(
    () => status(h),
    (x: IncidentStatus) => x.procedure?.status !== 'running',
    { what: 'procedure finished' },
  );
  expect(done.procedure?.status).toBe('completed');
  const st = await p.sim.state();
  expect(st.applied.resume).toBe(1);
  expect(st.operations.kill_switch_active).toBe(false);
  expect(done.findings.some((f) => f.text.includes('trading resumed'))).toBe(true);
  await recordHistory(h, 'procedure-3.1-resume-parent');
  await recordHistory(client.workflow.getHandle(done.procedure!.workflowId), 'procedure-3.1-resume-child');
});

test('resolving while a remediation is under way: the call finishes and is recorded, never applied unseen', async () => {
  await p.sim.clearFaults();
  // 3.3 over 60 minutes: the kill switch is pre-approved by policy and runs at once; the platform takes
  // 1.5 s to answer it, and the incident is resolved meanwhile (which cancels the procedure).
  await p.sim.injectFault({
    staleDataMinutes: 75,
    tradingPaused: { reason: 'auto-pause' },
    slowResponses: [
      { service: 'trading', method: 'POST', path: '/api/v1/operations/kill-switch', delayMs: 1500 },
    ],
  });
  const h = await client.workflow.start('incidentWorkflow', {
    taskQueue,
    workflowId: `proc-parent-cancel-${Date.now()}`,
    args: [
      {
        title: 'TwelveData down 75 minutes',
        severity: 'P1',
        kind: 'data-source-down',
        timeScale: 60,
        policy: { preApprovedActions: ['kill-switch:data-outage-60m'] },
      },
    ],
  });
  handles.push(h);
  await waitFor(
    () => status(h),
    (x: IncidentStatus) => x.findings.some((f) => f.text.includes('pre-approved by policy')),
    { what: 'the pre-approved kill switch' },
  );
  await h.executeUpdate(resolveUpdate, { args: [{ by: 'oncall', resolution: 'provider back' }] });
  const child = client.workflow.getHandle(`${h.workflowId}-procedure`);
  await waitFor(
    async () => (await child.describe()).status.name,
    (st) => st !== 'RUNNING',
    { what: 'the procedure to end' },
  );
  expect((await p.sim.state()).applied.killSwitch).toBe(1);
  const history = await child.fetchHistory();
  const completed = history.events!.filter((e) => e.activityTaskCompletedEventAttributes);
  const scheduled = history.events!.filter(
    (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'activateKillSwitch',
  );
  expect(scheduled).toHaveLength(1);
  const killSwitchDone = completed.some(
    (e) =>
      e.activityTaskCompletedEventAttributes!.scheduledEventId?.toString() ===
      scheduled[0].eventId?.toString(),
  );
  expect(killSwitchDone).toBe(true);
});
