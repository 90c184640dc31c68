// 3.2 Model Performance Degradation end to end on the dev server, and the approval gate's approve, reject
// and timeout (escalation) paths on its rollback step; the signals the parent incident receives.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { testClient, uniqueTaskQueue, waitFor } from '../harness/temporal';
import {
  decide,
  procState,
  resultOf,
  startPlatform,
  startProcedure,
  startProcedureWorker,
  terminateParents,
  waitForApproval,
  type Platform,
  type ProcedureWorker,
} from './helpers';
import { platformConfig } from './helpers';

const taskQueue = uniqueTaskQueue('proc-3-2');
const deployedQueue = uniqueTaskQueue('proc-3-2-deployed');
let p: Platform;
let d: Platform;
let worker: ProcedureWorker;
let deployedWorker: ProcedureWorker;
let client: Client;
let closeClient: () => Promise<void>;
const parents: WorkflowHandle[] = [];
// 300x: the 30-minute monitoring takes 6 s, one reading every 5 playbook minutes (1 s).
const timeScale = 300;

beforeAll(async () => {
  [p, d] = await Promise.all([
    startPlatform('playbook', 'usdcop_proc_3_2'),
    startPlatform('deployed', 'usdcop_proc_3_2_deployed'),
  ]);
  [worker, deployedWorker] = await Promise.all([
    startProcedureWorker(taskQueue, p.platform),
    startProcedureWorker(deployedQueue, platformConfig('deployed', d.sim, d.docker)),
  ]);
  ({ client, close: closeClient } = await testClient());
});
afterAll(async () => {
  await terminateParents(parents);
  await closeClient();
  await Promise.all([worker.stop(), deployedWorker.stop()]);
  await Promise.all([p.sim.stop(), d.sim.stop()]);
});
beforeEach(async () => {
  await Promise.all([p.sim.reset(), d.sim.reset()]);
});

async function start(name: string, extra: Record<string, unknown> = {}, queue = taskQueue) {
  const { parent, child } = await startProcedure(client, queue, 'modelDegradationProcedure', name, {
    kind: 'model-degradation',
    timeScale,
    ...extra,
  });
  parents.push(parent);
  return { parent, child };
}

async function parentSignals(parent: WorkflowHandle): Promise<{ name: string; input: unknown }[]> {
  const history = await parent.fetchHistory();
  const { defaultPayloadConverter } = await import('@temporalio/common');
  return (history.events ?? [])
    .filter((e) => e.workflowExecutionSignaledEventAttributes)
    .map((e) => {
      const a = e.workflowExecutionSignaledEventAttributes!;
      const payload = a.input?.payloads?.[0];
      return {
        name: a.signalName ?? '',
        input: payload ? defaultPayloadConverter.fromPayload(payload) : undefined,
      };
    });
}

test('Sharpe 0.5-0.8: monitor closely, no immediate action, no platform call', async () => {
  await p.sim.injectFault({ sharpeRatio: 0.65 });
  const { child } = await start('minor');
  const r = await resultOf(child);
  expect(r).toMatchObject({ outcome: 'completed', summary: expect.stringContaining('minor degradation') });
  const s = await procState(child);
  expect(s.events.find((e) => e.step === '3.2 resolution options')?.text).toContain(
    'Monitor closely, no immediate action',
  );
  expect((await p.sim.state()).calls.rollback).toBe(0);
});

test('Sharpe 0.3-0.5: activate shadow mode comparison is a human step (no platform call turns it on), never reported done', async () => {
  await p.sim.injectFault({ sharpeRatio: 0.4 });
  const { child } = await start('significant');
  const r = await resultOf(child);
  expect(r.outcome).toBe('needs-human');
  const s = await procState(child);
  const step = s.events.find((e) => e.step === '3.2 resolution: activate shadow mode comparison')?.text;
  expect(step).toMatch(/^human step: enable the shadow model .*Sharpe 0.4 vs shadow .*Sharpe 1.31/);
  expect(s.events.some((e) => e.text.includes('shadow mode comparison active'))).toBe(false);
  expect((await p.sim.state()).calls.rollback).toBe(0);
});

test('Sharpe < 0.3, gate approved: rollback, verify with the router status, 30 minutes monitored; the parent got every signal', async () => {
  await p.sim.injectFault({ sharpeRatio: 0.25 });
  const { parent, child } = await start('rollback-approved');
  const actionId = await waitForApproval(child, 'rollback');
  const pending = (await procState(child)).pendingApproval!;
  expect(pending.description).toContain('POST /models/rollback');
  expect(pending.evidence.join(' ')).toContain('Sharpe 0.25');
  await decide(child, actionId, 'approved', 'mlead');
  const r = await resultOf(child);
  expect(r.outcome).toBe('completed');
  const st = await p.sim.state();
  expect(st.applied.rollback).toBe(1);
  expect(st.callLog.find((c) => c.call === 'rollback')?.body).toMatchObject({
    reason: 'Performance degradation - Sharpe (7d) dropped to 0.25',
    initiated_by: expect.stringMatching(/^mlead via incident-response for incident proc-parent-/),
  });
  const s = await procState(child);
  expect(s.events.some((e) => e.text.startsWith('rollback verified: router champion ppo_primary_v2'))).toBe(
    true,
  );
  expect(s.events.some((e) => e.text === 'no further degradation in 30 minutes')).toBe(true);
  expect(s.approvals[0]).toMatchObject({ actionId, outcome: 'approved', by: 'mlead' });
  // The parent incident received the contract's signals, in order.
  const sig = await parentSignals(parent);
  const names = sig.map((x) => x.name);
  expect(names).toContain('procedureEvent');
  expect(names.indexOf('approvalRequested')).toBeLessThan(names.indexOf('approvalClosed'));
  expect(sig.find((x) => x.name === 'approvalRequested')?.input).toMatchObject({
    actionId,
    action: 'rollback',
    requiresConfirmationCode: false,
    evidence: expect.any(Array),
  });
  expect(sig.find((x) => x.name === 'approvalClosed')?.input).toEqual({
    actionId,
    outcome: 'approved',
    by: 'mlead',
  });
});

test('gate rejected: no rollback, the decision recorded with who and why', async () => {
  await p.sim.injectFault({ sharpeRatio: 0.2 });
  const { parent, child } = await start('rollback-rejected');
  const actionId = await waitForApproval(child, 'rollback');
  await decide(child, actionId, 'rejected', 'mlead', 'shadow is worse');
  const r = await resultOf(child);
  expect(r).toMatchObject({ outcome: 'needs-human', summary: expect.stringContaining('rollback rejected') });
  expect((await p.sim.state()).calls.rollback).toBe(0);
  const s = await procState(child);
  expect(
    s.events.some(
      (e) => e.text.includes(`${actionId} rejected by mlead`) && e.text.includes('shadow is worse'),
    ),
  ).toBe(true);
  expect((await parentSignals(parent)).find((x) => x.name === 'approvalClosed')?.input).toEqual({
    actionId,
    outcome: 'rejected',
    by: 'mlead',
  });
});

test('gate unanswered: escalated after each timeout (approvalExpired), then given up as needs-human', async () => {
  await p.sim.injectFault({ sharpeRatio: 0.2 });
  // approvalTimeoutMinutes 5 at 300x: one escalation per second, three of them.
  const { parent, child } = await start('rollback-timeout', { approvalTimeoutMinutes: 5 });
  const actionId = await waitForApproval(child, 'rollback');
  const r = await resultOf(child);
  expect(r.outcome).toBe('needs-human');
  const s = await procState(child);
  expect(
    s.events
      .filter((e) => e.text.includes(`${actionId} unanswered after`) && e.text.includes('escalated'))
      .map((e) => e.data?.escalation),
  ).toEqual([1, 2]);
  expect(s.approvals[0]).toMatchObject({ outcome: 'needs-human', escalations: 3, by: null });
  const sig = await parentSignals(parent);
  expect(sig.filter((x) => x.name === 'approvalExpired').map((x) => x.input)).toEqual([
    { actionId, escalation: 1 },
    { actionId, escalation: 2 },
    { actionId, escalation: 3 },
  ]);
  expect(sig.find((x) => x.name === 'approvalClosed')?.input).toEqual({
    actionId,
    outcome: 'withdrawn',
    by: 'system',
  });
  expect((await p.sim.state()).calls.rollback).toBe(0);
});

test('post-rollback monitoring: degrading again re-escalates (decision with reescalate: true)', async () => {
  await p.sim.injectFault({ sharpeRatio: 0.25 });
  const { parent, child } = await start('reescalate');
  const actionId = await waitForApproval(child, 'rollback');
  await decide(child, actionId, 'approved', 'mlead');
  await waitFor(
    () => procState(child),
    (s) => s.events.some((e) => e.step.startsWith('3.2 monitor (post-rollback)')),
    { what: 'monitoring started' },
  );
  await p.sim.injectFault({ sharpeRatio: 0.22 });
  const r = await resultOf(child);
  expect(r).toMatchObject({ outcome: 'needs-human', summary: expect.stringContaining('degraded again') });
  const re = (await procState(child)).events.find(
    (e) => e.type === 'decision' && e.data?.reescalate === true,
  );
  expect(re?.data).toMatchObject({ sharpe: 0.22, reescalate: true });
  expect(
    (await parentSignals(parent)).some(
      (x) =>
        x.name === 'procedureEvent' &&
        (x.input as { data?: { reescalate?: boolean } }).data?.reescalate === true,
    ),
  ).toBe(true);
});

test('deployed profile: metrics and shadow comparison not available -> Sharpe unknown, a human judges; nothing crashes', async () => {
  await d.sim.injectFault({ sharpeRatio: 0.2, driftScore: 0.35 });
  const { child } = await start('deployed', {}, deployedQueue);
  const r = await resultOf(child);
  expect(r.outcome).toBe('needs-human');
  const s = await procState(child);
  const byStep = (step: string) => s.events.find((e) => e.step === step);
  expect(byStep('3.2 diagnosis: compare to historical metrics')?.outcome).toBe('unavailable');
  expect(byStep('3.2 immediate: recent predictions')?.outcome).toBe('unavailable');
  expect(byStep('3.2 immediate: drift metrics')).toMatchObject({
    outcome: 'failed',
    data: expect.objectContaining({ source: '/api/v1/monitoring/drift' }),
  });
  expect(byStep('3.2 diagnosis: data source freshness (SQL)')?.outcome).toBe('ok');
  expect(byStep('3.2 diagnosis: feature quality')?.text).toContain('warning');
});

test('degraded further while monitored: the rollback request and the platform call cite the 24h reading that triggered it', async () => {
  await p.sim.injectFault({ sharpeRatio: 0.6 });
  const { child } = await start('minor-then-severe');
  await waitFor(
    () => procState(child),
    (s) => s.events.some((e) => e.step === '3.2 monitor (minor degradation)'),
    { what: 'monitoring the minor degradation' },
  );
  await p.sim.injectFault({ sharpeRatio: 0.2 });
  const actionId = await waitForApproval(child, 'rollback');
  const pending = (await procState(child)).pendingApproval!;
  expect(pending.evidence[0]).toMatch(/^\[model-metrics, [^\]]+\] ppo_primary\S* 24h: Sharpe 0.2,/);
  // The 7-day reading of the diagnosis is shown as well, as the reading that did not trigger it.
  expect(
    pending.evidence.some((e) => e.startsWith('against: [model-metrics') && e.includes('7d: Sharpe 0.6')),
  ).toBe(true);
  await decide(child, actionId, 'approved', 'mlead');
  await resultOf(child);
  expect((await p.sim.state()).callLog.find((c) => c.call === 'rollback')?.body).toMatchObject({
    reason: 'Performance degradation - Sharpe (24h) dropped to 0.2',
  });
});
