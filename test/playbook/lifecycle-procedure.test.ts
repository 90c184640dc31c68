// The procedure child as the lifecycle core drives it (pure, no server): when it starts, what the policy
// hands it, and how its approvals are closed.
import { decide } from '../../src/playbook/lifecycle/decide';
import { effectsOf, fresh, ofType, opened } from './lifecycle-helpers';
import { T0 } from './lifecycle-helpers';

const DEPLOYMENT = { preApprovedActions: ['kill-switch:data-outage-60m'], approvalTimeoutMinutes: 5 };

describe('the procedure starts once the deployment policy is in force', () => {
  test('a start without the policy (CLI, client, demo): no procedure at open, started when the policy arrives', () => {
    const open = opened({ kind: 'data-source-down', policyComplete: undefined });
    expect(ofType(effectsOf(open.effects), 'procedure.start')).toEqual([]);
    expect(open.state.procedure).toBeNull();
    // ...while the first page went out at once.
    expect(ofType(effectsOf(open.effects), 'notify').length).toBeGreaterThan(0);
    const arrived = decide(open.state, { type: 'policy', overrides: DEPLOYMENT }, T0 + 40);
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
    const failed = decide(
      open.state,
      {
        type: 'failed',
        eventType: 'policy.failed',
        text: 'deployment policy not loaded, playbook defaults kept',
      },
      T0 + 40,
    );
    const arrived = decide(failed.state, { type: 'policy', overrides: {} }, T0 + 40);
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
    const arrived = decide(resolved.state, { type: 'policy', overrides: DEPLOYMENT }, T0 + 40);
    expect(ofType(effectsOf(arrived.effects), 'procedure.start')).toEqual([]);
  });

  test('an incident opened before the patch (its history has no marker) starts at open, as it did', () => {
    const s = fresh({ kind: 'data-source-down', policyComplete: undefined }, {});
    const open = decide(s, { type: 'open' }, T0);
    expect(ofType(effectsOf(open.effects), 'procedure.start')[0]?.input.preApprovedActions).toEqual([]);
    const arrived = decide(open.state, { type: 'policy', overrides: DEPLOYMENT }, T0 + 40);
    expect(ofType(effectsOf(arrived.effects), 'procedure.start')).toEqual([]);
  });
});
