// The last active alert clearing is said in the channel (a heartbeat's beats resuming, any alert resolving),
// once, without resolving the incident; an incident opened before the patch only notes it in its timeline.
import { CURRENT_PATCHES } from '../../src/playbook/lifecycle/state';
import { action, min, notifications, opened, runAll } from './lifecycle-helpers';

const alert = (fingerprint: string, status: 'firing' | 'resolved' = 'firing') => ({
  alert: { fingerprint, name: 'HeartbeatMissing', status, summary: `monitor ${fingerprint}` },
});
const cleared = (effects: Parameters<typeof notifications>[0]) =>
  notifications(effects).filter((n) => n.step.startsWith('alerts-cleared-'));

test('the last of two alerts clearing tells the channel once; the incident stays open', () => {
  const { state, effects } = runAll(opened({ severity: 'P2' }).state, [
    { input: action('alertFired', alert('a')), at: min(1) },
    { input: action('alertFired', alert('b')), at: min(2) },
    { input: action('alertResolved', alert('a', 'resolved')), at: min(3) },
    { input: action('alertResolved', alert('b', 'resolved')), at: min(4) },
    // A repeat of a resolution changes nothing.
    { input: action('alertResolved', alert('b', 'resolved')), at: min(5) },
  ]);
  expect(cleared(effects)).toEqual([
    expect.objectContaining({
      kind: 'info',
      target: 'channel',
      text: expect.stringContaining('HeartbeatMissing: monitor b'),
    }),
  ]);
  expect(state.status).toBe('triggered');
});

test('an incident opened before the patch records the clearing in its timeline only', () => {
  const { state, effects } = runAll(
    opened({ severity: 'P2' }, { ...CURRENT_PATCHES, alertsClearedNotice: false }).state,
    [
      { input: action('alertFired', alert('a')), at: min(1) },
      { input: action('alertResolved', alert('a', 'resolved')), at: min(3) },
    ],
  );
  expect(cleared(effects)).toEqual([]);
  expect(state.timeline.map((e) => e.type)).toContain('alerts.cleared');
});
