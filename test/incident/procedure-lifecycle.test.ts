// The procedure child through the real incident and procedure workflows on the simulator: what the server
// shows beyond the pure suite (test/playbook/lifecycle-procedure.test.ts). A CLI-style start (no policy in
// the input) runs its procedure on the worker's deployment policy.
import type { WorkflowHandle } from '@temporalio/client';
import type { IncidentStatus } from '../../src/playbook/contract/incident';
import type { ProcedureInput } from '../../src/playbook/contract/procedure';
import {
  alertFiredSignal,
  approveUpdate,
  resolveUpdate,
  timelineQuery,
} from '../../src/workflows/definitions';
import { status, waitFor } from '../harness/temporal';
import { incidentSuite } from '../harness/incident-suite';
import { startPlatform, terminateParents, type Platform } from '../procedures/helpers';

/** The deployment's policy, as the worker loads it from INCIDENT_CONFIG. */
const DEPLOYMENT = { preApprovedActions: ['kill-switch:data-outage-60m'], approvalTimeoutMinutes: 20 };
let p: Platform;
const handles: WorkflowHandle[] = [];

// Declared before the suite, so it runs before the suite's own afterAll closes the client.
afterAll(() => terminateParents(handles));
const suite = incidentSuite({
  name: 'incident-procedure',
  deps: async () => {
    p = await startPlatform('playbook', 'usdcop_incident_procedure');
    return { platform: p.platform, policyOverrides: DEPLOYMENT };
  },
});
// After the suite's afterAll: the worker is stopped before the platform it calls.
afterAll(() => p?.sim.stop());
beforeEach(() => p.sim.reset());

/** The input the child was started with, from its history. */
async function childInput(workflowId: string): Promise<ProcedureInput> {
  const history = await suite.client.workflow.getHandle(workflowId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  return JSON.parse(Buffer.from(payload!.data!).toString('utf8')) as ProcedureInput;
}

test('a start without the policy (CLI, client, demo): the procedure runs on the deployment policy and applies the pre-approved kill switch', async () => {
  await p.sim.injectFault({ staleDataMinutes: 75, tradingPaused: { reason: 'auto-pause' } });
  const h = await suite.client.workflow.start('incidentWorkflow', {
    taskQueue: suite.taskQueue,
    workflowId: `cli-start-data-outage-${Date.now()}`,
    // What `temporal workflow start` or `npm run demo` sends: no policy, no policyComplete.
    args: [{ title: 'TwelveData down 75 minutes', severity: 'P1', kind: 'data-source-down', timeScale: 60 }],
  });
  handles.push(h);
  const s = await suite.waitFor(h, (x: IncidentStatus) => x.procedure !== null, {
    what: 'the procedure to start',
  });
  expect(await childInput(s.procedure!.workflowId)).toMatchObject(DEPLOYMENT);
  await waitFor(
    () => p.sim.state(),
    (st) => st.applied.killSwitch === 1,
    { what: 'the pre-approved kill switch' },
  );
  // The procedure's report of it reaches the incident a moment after the platform call.
  const t = await waitFor(
    () => h.query(timelineQuery),
    (events) => events.some((e) => e.text.includes('pre-approved by policy')),
    { what: 'the pre-approval in the incident timeline' },
  );
  // The policy was in force before the procedure started, and nothing was asked of a human.
  const types = t.map((e) => e.type);
  expect(types.indexOf('policy')).toBeGreaterThanOrEqual(0);
  expect(types.indexOf('policy')).toBeLessThan(types.indexOf('procedure.started'));
  expect(types).not.toContain('approval.requested');
});

test('a reopen runs the procedure again: the resume withdrawn at resolution is asked again by a new child, and approving it resumes', async () => {
  await p.sim.injectFault({ killSwitch: { reason: 'Triggered unexpectedly', activated_by: 'risk_monitor' } });
  const h = await suite.client.workflow.start('incidentWorkflow', {
    taskQueue: suite.taskQueue,
    workflowId: `reopen-reruns-${Date.now()}`,
    args: [
      {
        title: 'Trading stopped: kill switch',
        severity: 'P0',
        kind: 'trading-system-down',
        timeScale: 60,
        policyComplete: true,
      },
    ],
  });
  handles.push(h);
  const first = await suite.waitFor(
    h,
    (x: IncidentStatus) => x.pendingApprovals.some((a) => a.action === 'resume'),
    { what: 'the first resume request' },
  );
  const firstChild = first.procedure!.workflowId;
  await h.executeUpdate(resolveUpdate, { args: [{ by: 'carol', resolution: 'looked fine' }] });
  const resolved = await status(h);
  expect(resolved.pendingApprovals).toEqual([]);
  expect(resolved.procedure?.status).toBe('cancelled');
  const withdrawn = (await h.query(timelineQuery)).filter((e) => e.type === 'approval.withdrawn');
  expect(withdrawn.map((e) => e.text)).toEqual([
    expect.stringMatching(/^resume-\S+ \(resume\) withdrawn: incident resolved$/),
  ]);
  await waitFor(
    async () => (await suite.client.workflow.getHandle(firstChild).describe()).status.name,
    (st) => st !== 'RUNNING',
    { what: 'the first run to end' },
  );

  // The alert fires again inside the reopen window (30 playbook minutes: 30 s).
  await h.signal(alertFiredSignal, { alert: { fingerprint: 'fp-again', name: 'TradingAPIDown' } });
  const again = await suite.waitFor(
    h,
    (x: IncidentStatus) => x.status === 'triggered' && x.pendingApprovals.some((a) => a.action === 'resume'),
    { what: 'the resume asked again after the reopen' },
  );
  expect(again.procedure).toMatchObject({ status: 'running', workflowId: `${h.workflowId}-procedure-2` });
  const resume = again.pendingApprovals.find((a) => a.action === 'resume')!;
  await h.executeUpdate(approveUpdate, {
    args: [{ by: 'alice', actionId: resume.actionId, confirmationCode: 'CONFIRM_RESUME' }],
  });
  await waitFor(
    () => p.sim.state(),
    (st) => st.applied.resume === 1,
    { what: 'the resume applied by the second run' },
  );
  expect((await p.sim.state()).operations.kill_switch_active).toBe(false);
});
