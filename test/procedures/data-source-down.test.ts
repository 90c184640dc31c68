// 3.3 Data Source Down end to end on the dev server: every row of the mitigation table against the
// simulator's real stale OHLCV data, the recovery verification and the resume request.
import { uniqueTaskQueue, waitFor } from '../harness/temporal';
import type { WorkflowHandle } from '@temporalio/client';
import { timelineQuery } from '../../src/workflows/definitions';
import { decide, platformConfig, procState, procedureSuite, resultOf, waitForApproval } from './helpers';

const taskQueue = uniqueTaskQueue('proc-3-3');
/** A deployment whose OHLCV table name is wrong: every freshness query fails. */
const misconfiguredQueue = uniqueTaskQueue('proc-3-3-bad-table');
const suite = procedureSuite({
  database: 'usdcop_proc_3_3',
  workers: {
    [taskQueue]: (p) => p.platform,
    [misconfiguredQueue]: (p) =>
      platformConfig('playbook', p.sim, p.docker, { tables: { ohlcv: { table: 'no_such_ohlcv_table' } } }),
  },
});

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

test('a freshness query that fails is no outage: with the kill switch pre-approved and data 75 min old, no kill switch, a human step', async () => {
  await suite.p.sim.injectFault({ staleDataMinutes: 75 });
  const h = await suite.start(misconfiguredQueue, 'dataSourceDownProcedure', 'bad-table', {
    kind: 'data-source-down',
    preApprovedActions: ['kill-switch:data-outage-60m'],
  });
  const s = await waitFor(
    () => procState(h),
    (x) => x.events.some((e) => e.text.includes('human step: could not verify the data freshness')),
    { what: 'the unverified-freshness human step' },
  );
  // Several polls later (timeScale 60: a poll a second), still nothing was asked of the platform.
  await new Promise((r) => setTimeout(r, 3000));
  expect(s.approvals).toEqual([]);
  expect((await procState(h)).approvals).toEqual([]);
  expect((await suite.p.sim.state()).calls.killSwitch).toBe(0);
  // The incident (the parent) shows the human step in its timeline.
  const parent = suite.client().workflow.getHandle((await procState(h)).incidentWorkflowId);
  const t = await parent.query(timelineQuery);
  expect(t.some((e) => e.text.includes('could not verify the data freshness'))).toBe(true);
  await h.terminate('test done');
});

test('an approval answered after the gate gave up is recorded as too late, and nothing is done', async () => {
  await suite.p.sim.injectFault({ staleDataMinutes: 30 });
  // approvalTimeoutMinutes 1 at timeScale 60: three unanswered escalations in about 3 s, then given up.
  const h = await start('too-late', { approvalTimeoutMinutes: 1 });
  const actionId = await waitForApproval(h, 'pause');
  await waitFor(
    () => procState(h),
    (x) => x.approvals.some((a) => a.actionId === actionId && a.outcome === 'needs-human'),
    { what: 'the gate giving up' },
  );
  await decide(h, actionId, 'approved', 'late-larry');
  const parent = suite.client().workflow.getHandle((await procState(h)).incidentWorkflowId);
  const t = await waitFor(
    () => parent.query(timelineQuery),
    (x) => x.some((e) => e.type === 'approval.too-late'),
    { what: 'too late in the incident timeline' },
  );
  expect(t.find((e) => e.type === 'approval.too-late')?.text).toMatch(
    new RegExp(`too late: ${actionId} expired at .*approval by late-larry was not applied`),
  );
  expect(t.some((e) => e.type === 'approval.approved')).toBe(false);
  expect((await suite.p.sim.state()).calls.pause).toBe(0);
  await h.terminate('test done');
});

test('a feed 5 minutes old that keeps aging is not "recovered": the row follows the age past 10 and 60, and the kill switch does not wait behind the unanswered pause request', async () => {
  await suite.p.sim.injectFault({ staleDataMinutes: 5 });
  const h = await start('aging');
  await waitFor(
    () => texts(h),
    (t) => t.some((x) => x.includes('Wait for recovery, trading auto-paused')),
    { what: 'the < 10 minutes row' },
  );
  // Several polls (a playbook minute a second) with the same old bar: watched, never "recovered".
  await new Promise((r) => setTimeout(r, 3000));
  expect((await texts(h)).some((x) => x.includes('data source recovered'))).toBe(false);
  expect((await procState(h)).status).toBe('running');

  await suite.p.sim.injectFault({ staleDataMinutes: 12 });
  const pauseId = await waitForApproval(h, 'pause');
  // The pause request stays unanswered while the data ages past 60 minutes.
  await suite.p.sim.injectFault({ staleDataMinutes: 65 });
  const crossed = Date.now();
  const killId = await waitForApproval(h, 'kill-switch');
  // Within one polling interval (1 s at timeScale 60) plus the time to read and report.
  expect(Date.now() - crossed).toBeLessThan(5_000);
  const s = await procState(h);
  expect(s.approvals).toContainEqual(expect.objectContaining({ actionId: pauseId, outcome: 'superseded' }));
  expect(
    s.events.some((e) => e.text.includes(`${pauseId} withdrawn undecided: the > 60 minutes row applies now`)),
  ).toBe(true);
  expect(killId).not.toBe(pauseId);
  expect((await suite.p.sim.state()).calls).toMatchObject({ pause: 0, killSwitch: 0 });
  await h.terminate('test done');
});
