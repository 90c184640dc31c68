// The procedure child as the lifecycle core drives it (pure, no server): when it starts, what the policy
// hands it, and how its approvals are closed.
import { decide, type Effect } from '../../src/playbook/lifecycle/decide';
import type { Patches } from '../../src/playbook/lifecycle/state';
import {
  action,
  effectsOf,
  fresh,
  min,
  notifications,
  ofType,
  opened,
  procedureMessage,
  runAll,
  T0,
  tick,
} from './lifecycle-helpers';

const DEPLOYMENT = { preApprovedActions: ['kill-switch:data-outage-60m'], approvalTimeoutMinutes: 5 };

describe('the procedure starts once the deployment policy is in force', () => {
  test('a start without the policy (CLI, client, demo): no procedure at open, started when the policy arrives', () => {
    const open = opened({ kind: 'data-source-down', policyComplete: undefined });
    expect(ofType(effectsOf(open.effects), 'procedure.start')).toEqual([]);
    expect(open.state.procedure).toBeNull();
    // ...while the first page went out at once.
    expect(ofType(effectsOf(open.effects), 'notify').length).toBeGreaterThan(0);
    const arrived = decide(
      open.state,
      { type: 'deployment.loaded', want: 'policy', overrides: DEPLOYMENT, start: {} },
      T0 + 40,
    );
    const starts = ofType(effectsOf(arrived.effects), 'procedure.start');
    expect(starts).toHaveLength(1);
    expect(starts[0]!.input).toMatchObject({
      preApprovedActions: ['kill-switch:data-outage-60m'],
      approvalTimeoutMinutes: 5,
    });
    expect(arrived.state.procedure).toMatchObject({ status: 'running', type: 'dataSourceDownProcedure' });
  });

  test('a policy that failed to load: the start keeps the defaults, says so, then starts the procedure', () => {
    const open = opened({ kind: 'data-source-down', policyComplete: undefined });
    const arrived = decide(
      open.state,
      { type: 'deployment.failed', want: 'policy', error: 'database down', start: {} },
      T0 + 40,
    );
    expect(ofType(effectsOf(arrived.effects), 'procedure.start')[0]?.input.preApprovedActions).toEqual([]);
    expect(arrived.state.timeline.map((e) => e.type)).toEqual(
      expect.arrayContaining(['policy.failed', 'policy']),
    );
  });

  test('with the policy in the start (the ingress), the procedure starts at open on it', () => {
    const open = opened({ kind: 'data-source-down', policyComplete: true, policy: DEPLOYMENT });
    expect(ofType(effectsOf(open.effects), 'procedure.start')[0]?.input.preApprovedActions).toEqual([
      'kill-switch:data-outage-60m',
    ]);
  });

  test('resolved before the policy arrived: no procedure starts', () => {
    const open = opened({ kind: 'data-source-down', policyComplete: undefined });
    const resolved = decide(
      open.state,
      { type: 'action', name: 'resolve', payload: { by: 'a' }, via: 'signal' },
      T0 + 10,
    );
    const arrived = decide(
      resolved.state,
      { type: 'deployment.loaded', want: 'policy', overrides: DEPLOYMENT, start: {} },
      T0 + 40,
    );
    expect(ofType(effectsOf(arrived.effects), 'procedure.start')).toEqual([]);
  });

  test('an incident opened before the patch (its history has no marker) starts at open, as it did', () => {
    const s = fresh({ kind: 'data-source-down', policyComplete: undefined }, {});
    const open = decide(s, { type: 'open' }, T0);
    expect(ofType(effectsOf(open.effects), 'procedure.start')[0]?.input.preApprovedActions).toEqual([]);
    const arrived = decide(
      open.state,
      { type: 'deployment.loaded', want: 'policy', overrides: DEPLOYMENT, start: {} },
      T0 + 40,
    );
    expect(ofType(effectsOf(arrived.effects), 'procedure.start')).toEqual([]);
  });
});

/** A P0 trading-system-down whose procedure asks to resume, as the gate does. */
function withResumePending(patches?: Patches) {
  const open = opened({ severity: 'P0', kind: 'trading-system-down' }, patches);
  return runAll(open.state, [
    { input: { type: 'procedure.started', workflowId: 'incident-test-procedure' }, at: min(1) },
    {
      input: procedureMessage('approvalRequested', {
        actionId: 'resume-1',
        action: 'resume',
        description: 'Resume trading',
        evidence: [],
        requestedAt: new Date(min(2)).toISOString(),
        expiresAt: new Date(min(17)).toISOString(),
        requiresConfirmationCode: true,
      }),
      at: min(2),
    },
  ]).state;
}
const alert = { fingerprint: 'fp-1', name: 'TradingAPIDown' };

describe('resolve closes open approvals; a reopen runs the playbook again', () => {
  test('resolving closes each pending approval on the record: withdrawn by system, incident resolved', () => {
    const r = runAll(withResumePending(), [{ input: action('resolve', { by: 'carol' }), at: min(5) }]);
    expect(r.state.pendingApprovals).toEqual([]);
    expect(ofType(r.effects, 'procedure.cancel')).toHaveLength(1);
    expect(ofType(r.effects, 'ledger.approval').map((e) => e.approval)).toEqual([
      {
        actionId: 'resume-1',
        outcome: 'withdrawn',
        decidedBy: 'system',
        decidedAt: new Date(min(5)).toISOString(),
        reason: 'incident resolved',
      },
    ]);
    expect(r.state.timeline.find((e) => e.type === 'approval.withdrawn')?.text).toBe(
      'resume-1 (resume) withdrawn: incident resolved',
    );
  });

  test('a reopen starts the procedure again as a new child, which can ask again', () => {
    const r = runAll(withResumePending(), [
      { input: action('resolve', { by: 'carol' }), at: min(5) },
      { input: action('alertFired', { alert }), at: min(8) },
    ]);
    const starts = ofType(r.effects, 'procedure.start');
    expect(starts).toHaveLength(1);
    expect(starts[0]).toMatchObject({
      workflowType: 'tradingSystemDownProcedure',
      workflowId: 'incident-test-procedure-2',
      input: { severity: 'P0', kind: 'trading-system-down' },
    });
    expect(r.state.procedure).toMatchObject({ workflowId: 'incident-test-procedure-2', status: 'running' });
    // The new run's request is taken (approval traffic needs a running procedure).
    const asked = decide(
      r.state,
      procedureMessage('approvalRequested', {
        actionId: 'resume-1',
        action: 'resume',
        description: 'Resume trading',
        evidence: [],
        requestedAt: new Date(min(9)).toISOString(),
        expiresAt: null,
        requiresConfirmationCode: true,
      }),
      min(9),
    );
    expect(asked.state.pendingApprovals.map((p) => p.actionId)).toEqual(['resume-1']);
    // The cancelled run ending later changes nothing of the new one.
    const late = decide(
      asked.state,
      {
        type: 'procedure.error',
        error: 'Workflow cancelled',
        started: true,
        workflowId: 'incident-test-procedure',
      },
      min(10),
    );
    expect(late.state.procedure).toMatchObject({
      workflowId: 'incident-test-procedure-2',
      status: 'running',
    });
  });

  test('a second reopen gets a third id', () => {
    const r = runAll(withResumePending(), [
      { input: action('resolve', { by: 'carol' }), at: min(5) },
      { input: action('alertFired', { alert }), at: min(8) },
      { input: action('resolve', { by: 'carol' }), at: min(10) },
      { input: action('alertResolved', { alert }), at: min(10) },
      { input: action('alertFired', { alert }), at: min(12) },
    ]);
    expect(ofType(r.effects, 'procedure.start').map((e) => e.workflowId)).toEqual([
      'incident-test-procedure-2',
      'incident-test-procedure-3',
    ]);
  });

  test('a decision on its way to the gate at resolution: the gate answer is recorded; unanswered, withdrawn at close', () => {
    const asked = withResumePending();
    const r = runAll(asked, [
      {
        input: action('approve', { by: 'alice', actionId: 'resume-1', confirmationCode: 'CONFIRM_RESUME' }),
        at: min(4),
      },
      { input: action('resolve', { by: 'carol' }), at: min(5) },
    ]);
    expect(ofType(r.effects, 'ledger.approval').filter((e) => e.approval.outcome)).toEqual([]);
    const answered = decide(
      r.state,
      procedureMessage('approvalClosed', { actionId: 'resume-1', outcome: 'approved', by: 'alice' }),
      min(6),
    );
    expect(ofType(effectsOf(answered.effects), 'ledger.approval')[0]?.approval).toMatchObject({
      outcome: 'approved',
      decidedBy: 'alice',
    });
    // Never answered: at close, withdrawn.
    const closed = runAll(r.state, [{ input: tick, at: min(40) }]);
    expect(closed.state.status).toBe('closed');
    expect(ofType(closed.effects, 'ledger.approval')[0]?.approval).toMatchObject({
      actionId: 'resume-1',
      outcome: 'withdrawn',
      reason: 'incident resolved before the procedure took the decision',
    });
  });

  test('an incident opened before the patch keeps the old way: approvals dropped, no second run', () => {
    const r = runAll(withResumePending({}), [
      { input: action('resolve', { by: 'carol' }), at: min(5) },
      { input: action('alertFired', { alert }), at: min(8) },
    ]);
    expect(ofType(r.effects, 'ledger.approval')).toEqual([]);
    expect(ofType(r.effects, 'procedure.start')).toEqual([]);
    expect(r.state.procedure?.status).toBe('cancelled');
  });
});

describe('an answered approval never escalates as unanswered', () => {
  const expired = procedureMessage('approvalExpired', { actionId: 'resume-1', escalation: 1 });
  const approve = action('approve', {
    by: 'alice',
    actionId: 'resume-1',
    confirmationCode: 'CONFIRM_RESUME',
  });
  const pages = (effects: { effect: Effect }[]) =>
    notifications(effects)
      .filter((n) => n.kind === 'page')
      .map((n) => n.target);

  test('a decision handed to the gate before the expiry reached the incident: no escalation, the decision stands', () => {
    // The worker was down past the request's expiry (minute 17): on restart the approval is applied first,
    // then the gate's timer, which fired before the forwarded decision reached it, reports the expiry.
    const r = runAll(withResumePending(), [
      { input: approve, at: min(20) },
      { input: expired, at: min(20) },
      {
        input: procedureMessage('approvalClosed', { actionId: 'resume-1', outcome: 'approved', by: 'alice' }),
        at: min(20),
      },
    ]);
    expect(pages(r.effects)).toEqual([]);
    expect(r.state.engagements.map((e) => e.role)).toEqual(['oncall-primary']);
    const t = r.state.timeline;
    expect(t.find((e) => e.type === 'approval.expired')?.text).toMatch(
      /^resume-1 timed out \(1\) after the approval by alice at .* was handed to the procedure: not escalated$/,
    );
    expect(t.some((e) => e.type === 'approval.approved')).toBe(true);
    const forwarded = ofType(r.effects, 'procedure.decision')[0]!.decision;
    expect(forwarded).toMatchObject({
      actionId: 'resume-1',
      decision: 'approved',
      decidedAt: new Date(min(20)).toISOString(),
    });
  });

  test('an expiry with no decision escalates to the next role of the matrix', () => {
    const r = runAll(withResumePending(), [{ input: expired, at: min(17) }]);
    expect(pages(r.effects)).toEqual(['eng-lead']);
  });

  test('an expiry that arrived before the decision still escalated (it was unanswered then)', () => {
    const r = runAll(withResumePending(), [
      { input: expired, at: min(17) },
      { input: approve, at: min(18) },
    ]);
    expect(pages(r.effects)).toEqual(['eng-lead']);
  });

  test('an incident opened before the patch escalates as it did', () => {
    const r = runAll(withResumePending({}), [
      { input: approve, at: min(20) },
      { input: expired, at: min(20) },
    ]);
    expect(pages(r.effects)).toEqual(['eng-lead']);
  });
});
