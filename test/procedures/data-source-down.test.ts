// 3.3 Data Source Down end to end on the dev server: every row of the mitigation table against the
// simulator's real stale OHLCV data, the recovery verification and the resume request.
import { uniqueTaskQueue, waitFor } from '../harness/temporal';
import { decide, procState, procedureSuite, resultOf, waitForApproval } from './helpers';
import type { WorkflowHandle } from '@temporalio/client';

const taskQueue = uniqueTaskQueue('proc-3-3');
const suite = procedureSuite({ database: 'usdcop_proc_3_3', workers: { [taskQueue]: (p) => p.platform } });

const start = (name: string, extra: Record<string, unknown> = {}) =>
  suite.start(taskQueue, 'dataSourceDownProcedure', name, { kind: 'data-source-down', ...extra });
const texts = async (h: WorkflowHandle) => (await procState(h)).events.map((e) => `${e.step} | ${e.text}`);

test('< 10 minutes: wait for recovery and verify trading auto-paused; no platform call', async () => {
  await suite.p.sim.injectFault({
    staleDataMinutes: 8,
    tradingPaused: { reason: 'Data source stale: auto-pause' },
  });
  const h = await start('wait');
  await waitFor(
    () => texts(h),
    (t) => t.some((x) => x.includes('Wait for recovery, trading auto-paused')),
    { what: 'wait decision' },
  );
  const s = await procState(h);
  expect(s.events.find((e) => e.step === '3.3 immediate: verify trading auto-paused')?.text).toContain(
    'trading paused',
  );
  await suite.p.sim.injectFault({ staleDataMinutes: 0 });
  const r = await resultOf(h);
  expect(r.outcome).toBe('completed');
  const t = await texts(h);
  expect(t.some((x) => x.includes('data source recovered'))).toBe(true);
  expect(t.some((x) => x.includes('human step: trading is paused, not killed'))).toBe(true);
  const st = await suite.p.sim.state();
  expect(st.calls).toEqual({ killSwitch: 0, resume: 0, pause: 0, rollback: 0, reload: 0 });
});

test('10-60 minutes: manual pause confirmation (approved) pauses trading once, then recovery', async () => {
  await suite.p.sim.injectFault({ staleDataMinutes: 30 });
  const h = await start('pause');
  const actionId = await waitForApproval(h, 'pause');
  expect((await procState(h)).pendingApproval?.description).toContain('POST /operations/pause');
  await decide(h, actionId, 'approved', 'carol');
  await waitFor(
    () => suite.p.sim.state(),
    (s) => s.applied.pause === 1,
    { what: 'pause applied' },
  );
  await suite.p.sim.injectFault({ staleDataMinutes: 0 });
  const r = await resultOf(h);
  expect(r.outcome).toBe('completed');
  const s = await procState(h);
  expect(s.approvals).toEqual([
    expect.objectContaining({ actionId, action: 'pause', outcome: 'approved', by: 'carol' }),
  ]);
  expect((await suite.p.sim.state()).calls.pause).toBe(1);
});

test('> 60 minutes: kill switch pre-approved by policy (kill-switch:data-outage-60m), notify team; recovery -> resume request with CONFIRM_RESUME', async () => {
  await suite.p.sim.injectFault({ staleDataMinutes: 75, tradingPaused: {} });
  const h = await start('kill', { preApprovedActions: ['kill-switch:data-outage-60m'] });
  await waitFor(
    () => suite.p.sim.state(),
    (s) => s.applied.killSwitch === 1,
    { what: 'kill switch applied' },
  );
  let s = await procState(h);
  expect(s.approvals[0]).toMatchObject({ action: 'kill-switch', outcome: 'pre-approved', by: 'policy' });
  expect(s.events.some((e) => e.step === '3.3 mitigation: notify team' && e.data?.notify === 'team')).toBe(
    true,
  );
  // TwelveData recovers: freshness restored, consistency passed -> resume request.
  await suite.p.sim.injectFault({ staleDataMinutes: 0 });
  const actionId = await waitForApproval(h, 'resume');
  s = await procState(h);
  expect(s.pendingApproval).toMatchObject({ requiresConfirmationCode: true });
  expect(s.events.some((e) => e.step === '3.3 recovery verification' && e.outcome === 'ok')).toBe(true);
  await decide(h, actionId, 'approved', 'dave', undefined, 'CONFIRM_RESUME');
  const r = await resultOf(h);
  expect(r.outcome).toBe('completed');
  const st = await suite.p.sim.state();
  expect(st.applied.killSwitch).toBe(1);
  expect(st.applied.resume).toBe(1);
  expect(st.operations.kill_switch_active).toBe(false);
  expect(st.callLog.find((c) => c.call === 'resume')?.body).toMatchObject({
    confirmation_code: 'CONFIRM_RESUME',
  });
});

test('> 60 minutes without pre-approval: the kill switch waits for a human; rejected -> not activated', async () => {
  await suite.p.sim.injectFault({ staleDataMinutes: 90 });
  const h = await start('kill-rejected');
  const actionId = await waitForApproval(h, 'kill-switch');
  await decide(h, actionId, 'rejected', 'erin', 'positions are flat already');
  await waitFor(
    () => procState(h),
    (s) => s.approvals.length === 1,
    { what: 'decision recorded' },
  );
  await suite.p.sim.injectFault({ staleDataMinutes: 0 });
  const r = await resultOf(h);
  expect(r.outcome).toBe('needs-human');
  expect((await suite.p.sim.state()).calls.killSwitch).toBe(0);
  expect((await procState(h)).approvals[0]).toMatchObject({ outcome: 'rejected', by: 'erin' });
});
