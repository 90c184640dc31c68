// Remediations that cannot be wrong, through the real procedure workflows against the simulator: a resume is
// bound to the activation the approver saw (A), an engine kill switch held for an open incident is not undone
// by another (B), a resume on data that went stale again is withdrawn (C), and 3.3 recovery means fresh data
// with a quiet timeline. Each asserts the platform calls the simulator recorded.
import type { WorkflowHandle } from '@temporalio/client';
import fc from 'fast-check';
import { setTimeout as sleep } from 'node:timers/promises';
import { createProcedureActivities } from '../../src/activities/platform';
import { engineActor, holderOf } from '../../src/playbook/safety';
import { statusQuery, resolveSignal } from '../../src/workflows/definitions';
import { incidentTag } from '../../src/workflows/procedures/approval-gate';
import { recordHistory } from '../harness/history';
import { uniqueTaskQueue, waitFor } from '../harness/temporal';
import { post } from '../simulator/helpers';
import { decide, procState, procedureSuite, resultOf, waitForApproval } from './helpers';

const taskQueue = uniqueTaskQueue('remediation-safety');
const suite = procedureSuite({
  database: 'usdcop_remediation_safety',
  workers: { [taskQueue]: (p) => p.platform },
});

const trading = () => suite.p.sim.tradingUrl;
const killSwitch = (reason: string, activatedBy: string) =>
  post(`${trading()}/api/v1/operations/kill-switch`, { reason, activated_by: activatedBy });
const operations = async () => (await suite.p.sim.state()).operations;
const texts = async (h: WorkflowHandle) => (await procState(h)).events.map((e) => `${e.step} | ${e.text}`);

test('A: an approval for one kill switch never lifts a different one; the approver is told and asked again', async () => {
  await suite.p.sim.injectFault({
    killSwitch: { reason: 'spurious drawdown trigger', activated_by: 'risk_monitor' },
  });
  const h = await suite.start(taskQueue, 'tradingSystemDownProcedure', 'bound-resume', {
    kind: 'trading-system-down',
    severity: 'P0',
  });
  const first = await waitForApproval(h, 'resume');
  expect((await procState(h)).pendingApproval?.description).toContain('spurious drawdown trigger');
  // Action ids name their incident: another incident's "resume-1" (an old button) decides nothing here.
  expect(first).toBe(`resume-1-${incidentTag(`${(await procState(h)).incidentId}/${h.workflowId}`)}`);
  await decide(h, 'resume-1', 'approved', 'tlead', undefined, 'CONFIRM_RESUME');
  await waitFor(
    () => procState(h),
    (x) => x.events.some((e) => e.text.includes('ignored a decision for resume-1:')),
    { what: 'the foreign id ignored' },
  );
  // An operator lifts it from the dashboard; the risk monitor then sets a new, legitimate one.
  expect(
    (await post(`${trading()}/api/v1/operations/resume`, { confirmation_code: 'CONFIRM_RESUME' })).status,
  ).toBe(200);
  expect((await killSwitch('Daily loss limit breached: -$12,400', 'risk_monitor')).status).toBe(200);
  const resumesBefore = (await suite.p.sim.state()).applied.resume;

  await decide(h, first, 'approved', 'tlead', undefined, 'CONFIRM_RESUME');
  const s = await waitFor(
    () => procState(h),
    (x) => x.pendingApproval?.action === 'resume' && x.pendingApproval.actionId !== first,
    { what: 'a new resume request naming the new kill switch' },
  );
  expect(s.pendingApproval!.description).toContain('Daily loss limit breached: -$12,400');
  expect(
    s.events.some((e) => e.text.includes(`${first} withdrawn`) && e.text.includes('was replaced by another')),
  ).toBe(true);
  // Nothing reached the platform: the new kill switch is still on.
  expect((await suite.p.sim.state()).applied.resume).toBe(resumesBefore);
  expect(await operations()).toMatchObject({
    kill_switch_active: true,
    reason: 'Daily loss limit breached: -$12,400',
  });
  await decide(h, s.pendingApproval!.actionId, 'rejected', 'tlead', 'the loss limit is real');
  expect((await resultOf(h)).outcome).toBe('needs-human');
  await recordHistory(h, 'procedure-3.1-resume-replaced-activation-child');
  expect((await suite.p.sim.state()).applied.resume).toBe(resumesBefore);
  expect((await operations()).kill_switch_active).toBe(true);
});

test('A: a kill switch lifted before the approval is not resumed again, and nothing is asked', async () => {
  await suite.p.sim.injectFault({ killSwitch: { reason: 'manual test', activated_by: 'dashboard' } });
  const h = await suite.start(taskQueue, 'tradingSystemDownProcedure', 'lifted', {
    kind: 'trading-system-down',
    severity: 'P0',
  });
  const id = await waitForApproval(h, 'resume');
  await post(`${trading()}/api/v1/operations/resume`, { confirmation_code: 'CONFIRM_RESUME' });
  const resumes = (await suite.p.sim.state()).calls.resume;
  await decide(h, id, 'approved', 'tlead', undefined, 'CONFIRM_RESUME');
  const r = await resultOf(h);
  expect((await suite.p.sim.state()).calls.resume).toBe(resumes);
  expect((await procState(h)).approvals.map((a) => a.actionId)).toEqual([id]);
  expect(r.outcome).toBe('completed');
});

test("B: a kill switch the engine holds for another open incident is shown as that incident's hold, never asked to be undone", async () => {
  const client = suite.client();
  const holder = await client.workflow.start('incidentWorkflow', {
    taskQueue,
    workflowId: `holder-${Date.now()}`,
    args: [{ title: 'MarketDataVeryStaleCritical', severity: 'P3', kind: 'generic', timeScale: 1 }],
  });
  try {
    const holderId = (await holder.query(statusQuery)).incidentId;
    await suite.p.sim.injectFault({
      killSwitch: {
        reason: 'Data source down 75 minutes (playbook 3.3)',
        activated_by: engineActor('policy', holderId),
      },
    });
    const h = await suite.start(taskQueue, 'tradingSystemDownProcedure', 'held', {
      kind: 'trading-system-down',
      severity: 'P1',
    });
    expect((await resultOf(h)).outcome).toBe('needs-human');
    const s = await procState(h);
    expect(s.approvals).toEqual([]);
    const hold = s.events.find((e) => e.step === '3.1 safety hold');
    expect(hold).toMatchObject({
      outcome: 'failed',
      data: expect.objectContaining({ holder: holderId, held: true }),
    });
    expect(
      s.events.some(
        (e) => e.text.includes(`safety hold of incident ${holderId}`) && e.text.startsWith('human step'),
      ),
    ).toBe(true);
    expect((await suite.p.sim.state()).calls.resume).toBe(0);

    // Once the holding incident is resolved its hold ends: a resume may be requested again, and names it.
    await holder.signal(resolveSignal, { by: 'oncall-primary', resolution: 'feed back' });
    await waitFor(
      () => holder.query(statusQuery),
      (x) => x.status === 'resolved',
      { what: 'holder resolved' },
    );
    const again = await suite.start(taskQueue, 'tradingSystemDownProcedure', 'held-after', {
      kind: 'trading-system-down',
      severity: 'P1',
    });
    await waitForApproval(again, 'resume');
    expect((await procState(again)).pendingApproval?.description).toContain(`for incident ${holderId}`);
    await again.terminate('test done');
  } finally {
    await holder.terminate('test done').catch(() => undefined);
  }
});

test('C + 3.3: the engine kill switch is its hold; recovery is fresh data despite a failed consistency check; a resume on data stale again is withdrawn', async () => {
  await suite.p.sim.injectFault({ staleDataMinutes: 75, model: 'stub' });
  const h = await suite.start(taskQueue, 'dataSourceDownProcedure', 'stale-again', {
    kind: 'data-source-down',
    preApprovedActions: ['kill-switch:data-outage-60m'],
  });
  await waitFor(
    () => suite.p.sim.state(),
    (x) => x.applied.killSwitch === 1,
    { what: 'kill switch applied' },
  );
  const ops = await operations();
  expect(ops.activated_by).toBe(engineActor('policy', (await procState(h)).incidentId));
  expect((await procState(h)).events.find((e) => e.data?.safetyHold)?.data?.safetyHold).toMatchObject({
    change: 'applied',
    action: 'kill-switch',
    reason: 'Data source down 75 minutes (playbook 3.3)',
  });

  // Fresh bars arrive while the consistency check still fails (a builder mismatch): recovery all the same.
  await suite.p.sim.injectFault({ staleDataMinutes: 0 });
  const id = await waitForApproval(h, 'resume', 60_000);
  const t = await texts(h);
  expect(
    t.some((x) => x.startsWith('3.3 recovery verification') && x.includes('data source recovered')),
  ).toBe(true);
  expect(t.filter((x) => x.includes('not recovered yet')).length).toBe(0);
  const pending = (await procState(h)).pendingApproval!;
  expect(pending.evidence.some((e) => e.startsWith('against:'))).toBe(true);

  // The feed goes stale again before the approval: the approval is not acted on.
  await suite.p.sim.injectFault({ staleDataMinutes: 75 });
  await decide(h, id, 'approved', 'tlead', undefined, 'CONFIRM_RESUME');
  const r = await resultOf(h);
  expect(r.outcome).toBe('needs-human');
  const st = await suite.p.sim.state();
  expect(st.calls.resume).toBe(0);
  expect(st.operations.kill_switch_active).toBe(true);
  const after = await texts(h);
  expect(after.some((x) => x.includes(`${id} withdrawn`) && x.includes('stale again'))).toBe(true);
  await recordHistory(h, 'procedure-3.3-resume-stale-again-child');
});

test('3.3: polls record what changed, not every repeat (no flood while trading is not auto-paused)', async () => {
  await suite.p.sim.injectFault({ staleDataMinutes: 2 });
  const h = await suite.start(taskQueue, 'dataSourceDownProcedure', 'quiet', { kind: 'data-source-down' });
  // 2 minutes old: the "< 10 minutes" row with trading running, read again every poll (a playbook minute).
  await waitFor(
    () => texts(h),
    (x) => x.some((e) => e.includes('(20 polls)')),
    { what: '20 polls', timeoutMs: 60_000 },
  );
  const t = await texts(h);
  expect(t.filter((x) => x.includes('NOT verified auto-paused')).length).toBe(1);
  // 3.3 immediate 4 / "Check rate limits": a human is prompted (the engine holds no provider key).
  expect(t.some((x) => x.startsWith('3.3 immediate: check API key validity | human step'))).toBe(true);
  await h.terminate('test done');
});

describe('the resume guard at the moment of the call, over generated platform histories (real HTTP and SQL)', () => {
  const ME = 'incident-trading-system-down-prop@2026-12-07T12:00:00.000Z';
  const OTHER = 'incident-data-source-down-prop@2026-12-07T11:00:00.000Z';
  type Step = { op: 'set'; by: string; reason: string } | { op: 'lift' } | { op: 'stale'; minutes: number };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      op: fc.constant('set' as const),
      by: fc.constantFrom('risk_monitor', 'dashboard', engineActor('policy', OTHER)),
      reason: fc.constantFrom('spurious drawdown trigger', 'Daily loss limit breached: -$12,400'),
    }),
    fc.constant({ op: 'lift' as const }),
    fc.record({ op: fc.constant('stale' as const), minutes: fc.constantFrom(0, 3, 30, 75) }),
  );

  test('no resume reaches the platform unless the named activation is still active, unheld, and the data fresh', async () => {
    let otherOpen = true;
    const pb = createProcedureActivities({
      platform: suite.p.platform,
      lookupHolder: (id) => Promise.resolve(id === OTHER ? { incidentId: id, open: otherOpen } : null),
    });
    const sim = suite.p.sim;
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { maxLength: 5 }),
        fc.boolean(),
        fc.boolean(),
        async (steps, fresh, open) => {
          await sim.reset();
          otherOpen = open;
          await sleep(2); // activations are told apart by their time, as on the platform
          await killSwitch('spurious drawdown trigger', 'risk_monitor');
          const named = (await pb.checkOperationsStatus()).data;
          let id: number | null = 1;
          let n = 1;
          let heldByOther = false;
          let staleness = 0;
          for (const s of steps) {
            if (s.op === 'set') {
              await sleep(2);
              await killSwitch(s.reason, s.by);
              id = ++n;
              heldByOther = holderOf(s.by) === OTHER;
            } else if (s.op === 'lift') {
              await post(`${trading()}/api/v1/operations/resume`, { confirmation_code: 'CONFIRM_RESUME' });
              id = null;
              heldByOther = false;
            } else {
              await sim.injectFault({ staleDataMinutes: s.minutes });
              staleness = s.minutes;
            }
          }
          const before = (await sim.state()).applied.resume;
          const r = await pb.resumeTrading({
            resumedBy: engineActor('ana', ME),
            confirmationCode: 'CONFIRM_RESUME',
            incidentId: ME,
            preconditions: [
              { kind: 'kill-switch-is', activation: named },
              { kind: 'no-foreign-hold', incidentId: ME },
              ...(fresh ? [{ kind: 'data-fresh' as const, maxMinutes: 6 }] : []),
            ],
          });
          const resumed = (await sim.state()).applied.resume - before;
          const expected = id === 1 && !(heldByOther && open) && (!fresh || staleness <= 6);
          expect(resumed).toBe(expected ? 1 : 0);
          expect(r.applied).toBe(expected);
          if (id !== null && !expected) expect(r.refused?.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 40 },
    );
  });
});

test('3.2 rollback step 1: with no rollback target, no rollback is requested (a human step says why)', async () => {
  await suite.p.sim.injectFault({ model: 'stub', rollback: 'no_target' });
  const h = await suite.start(taskQueue, 'tradingSystemDownProcedure', 'no-target', {
    kind: 'trading-system-down',
    severity: 'P0',
  });
  expect((await resultOf(h)).outcome).toBe('needs-human');
  const s = await procState(h);
  expect(s.approvals.filter((a) => a.action === 'rollback')).toEqual([]);
  expect(s.events.some((e) => e.text.startsWith('human step: no rollback target available'))).toBe(true);
  expect((await suite.p.sim.state()).calls.rollback).toBe(0);
});
