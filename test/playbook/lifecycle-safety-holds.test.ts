// Safety holds in the incident's state (pure lifecycle core, no server): what the procedure reports applied
// and not released is shown in `status` and the current details while the incident is open, and released on
// the record when it is resolved or closed.
import { decide } from '../../src/playbook/lifecycle/decide';
import { currentDetails } from '../../src/playbook/lifecycle/view';
import { LIMITS } from '../../src/playbook/lifecycle/limits';
import { snapshot, type IncidentState } from '../../src/playbook/lifecycle/state';
import { action, min, opened, procedureMessage, runAll, tick } from './lifecycle-helpers';

const activation = {
  activatedAt: '2026-12-01T14:03:00Z',
  activatedBy: 'incident-response (pre-approved) for incident incident-test@x',
  reason: 'Data source down 75 minutes',
};
const report = (safetyHold: Record<string, unknown>, text = 'kill switch activated') =>
  procedureMessage('procedureEvent', {
    procedure: '3.3 data source down',
    step: '3.3 mitigation: kill switch',
    type: 'action',
    outcome: 'ok',
    text,
    data: { safetyHold },
  });
const applied = (actionId = 'kill-switch-2', action: string = 'kill-switch') =>
  report({ change: 'applied', action, actionId, ...activation });

function withKillSwitchHeld(): IncidentState {
  const open = opened({ kind: 'data-source-down' }).state;
  return runAll(open, [
    { input: { type: 'procedure.started', workflowId: 'incident-test-procedure' }, at: min(1) },
    { input: applied(), at: min(3) },
  ]).state;
}

describe('safety holds', () => {
  test('an applied kill switch is held: in status with who, when and why, and in the current details', () => {
    const s = withKillSwitchHeld();
    expect(snapshot(s, min(4)).safetyHolds).toEqual([
      {
        action: 'kill-switch',
        actionId: 'kill-switch-2',
        procedure: '3.3 data source down',
        ...activation,
        since: new Date(min(3)).toISOString(),
      },
    ]);
    expect(currentDetails(s, min(4), (ms) => new Date(ms).toISOString())).toContain(
      '- Safety holds: kill-switch kill-switch-2 (3.3 data source down) since 2026-12-01T14:03:00.000Z',
    );
    expect(currentDetails(opened().state, min(4), String)).not.toContain('Safety holds');
  });

  test('released by the resume that lifted it (its own actionId): the hold is gone', () => {
    const s = decide(
      withKillSwitchHeld(),
      report(
        { change: 'released', action: 'kill-switch', actionId: 'resume-5', ...activation },
        'trading resumed',
      ),
      min(30),
    ).state;
    expect(snapshot(s, min(30)).safetyHolds).toEqual([]);
  });

  test('released under its own actionId; another action held stays', () => {
    const both = decide(withKillSwitchHeld(), applied('pause-1', 'pause'), min(4)).state;
    const s = decide(
      both,
      report({ change: 'released', action: 'kill-switch', actionId: 'kill-switch-2', ...activation }),
      min(5),
    ).state;
    expect(s.safetyHolds.map((h) => h.actionId)).toEqual(['pause-1']);
  });

  test('resolving releases every hold on the record; none is shown after', () => {
    const r = decide(withKillSwitchHeld(), action('resolve', { by: 'carol' }), min(40));
    expect(r.state.safetyHolds).toEqual([]);
    expect(snapshot(r.state, min(40)).safetyHolds).toEqual([]);
    expect(r.state.timeline.filter((e) => e.type === 'safety.released').map((e) => e.text)).toEqual([
      'safety hold released: incident resolved (kill-switch kill-switch-2, applied by 3.3 data source down at 2026-12-01T14:03:00Z)',
    ]);
    // Resolving with nothing held says nothing about holds.
    const none = decide(opened().state, action('resolve', { by: 'carol' }), min(40));
    expect(none.state.timeline.some((e) => e.type === 'safety.released')).toBe(false);
  });

  test('a hold applied after resolution is not kept, and the timeline says so', () => {
    const resolved = decide(withKillSwitchHeld(), action('resolve', { by: 'carol' }), min(40)).state;
    const r = decide(resolved, applied('kill-switch-3'), min(41));
    expect(r.state.safetyHolds).toEqual([]);
    expect(r.state.timeline.at(-1)).toMatchObject({ type: 'safety.not-held' });
    // ...nor after the close, and a reopen does not bring back the released ones.
    const closed = runAll(resolved, [{ input: tick, at: min(80) }]).state;
    expect(closed.status).toBe('closed');
    expect(closed.safetyHolds).toEqual([]);
  });

  test('bounded like the rest of the state; a malformed report changes nothing and is recorded', () => {
    let s = withKillSwitchHeld();
    for (let i = 0; i < 50; i++) s = decide(s, applied(`rollback-${i}`, 'rollback'), min(5)).state;
    expect(s.safetyHolds).toHaveLength(LIMITS.safetyHolds);
    expect(s.safetyHolds.at(-1)?.actionId).toBe('rollback-49');
    const bad = decide(s, report({ change: 'applied', action: 'reboot', actionId: 'x' }), min(6));
    expect(bad.state.safetyHolds).toEqual(s.safetyHolds);
    expect(bad.state.timeline.at(-1)?.type).toBe('safety.ignored');
  });
});
