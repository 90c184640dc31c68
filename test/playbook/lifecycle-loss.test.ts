// 3.1 "Financial losses >$1000: Immediate CTO notification", whenever the loss is reported while the
// incident can still act on it: open, or resolved within the reopen window (a loss is often counted after
// the fix). Closed: the action is refused, as every action is.
import { CURRENT_PATCHES } from '../../src/playbook/lifecycle/state';
import { action, min, notifications, opened, runAll } from './lifecycle-helpers';

const ctoPages = (effects: Parameters<typeof notifications>[0]) =>
  notifications(effects).filter((n) => n.kind === 'page' && n.target === 'cto');

test('a loss over $1000 reported in the reopen window pages the CTO at once', () => {
  const { state, effects } = runAll(opened({ severity: 'P1' }).state, [
    { input: action('resolve', { by: 'ana', resolution: 'restarted' }), at: min(20) },
    { input: action('reportLoss', { by: 'trader', amountUsd: 1500 }), at: min(25) },
  ]);
  expect(state.status).toBe('resolved');
  expect(ctoPages(effects)).toHaveLength(1);
  expect(ctoPages(effects)[0]).toMatchObject({ step: 'loss-cto', incidentStatus: 'resolved' });
  expect(state.engagements.map((e) => e.role)).toContain('cto');
  expect(state.timeline.at(-1)).toMatchObject({
    type: 'escalation',
    text: expect.stringContaining('financial loss $1500'),
  });
});

test('$1000 or less in the window, a report after close, or an incident opened before the patch: no CTO page', () => {
  const small = runAll(opened().state, [
    { input: action('resolve', { by: 'ana' }), at: min(20) },
    { input: action('reportLoss', { by: 'trader', amountUsd: 1000 }), at: min(25) },
  ]);
  expect(ctoPages(small.effects)).toEqual([]);
  const closed = runAll(opened({ policy: { reopenWindowMinutes: 5 } }).state, [
    { input: action('resolve', { by: 'ana' }), at: min(20) },
    { input: { type: 'tick' }, at: min(26) },
    { input: action('reportLoss', { by: 'trader', amountUsd: 5000 }), at: min(27) },
  ]);
  expect(closed.state.status).toBe('closed');
  expect(ctoPages(closed.effects)).toEqual([]);
  const old = runAll(opened({}, { ...CURRENT_PATCHES, lossPagesAfterResolve: false }).state, [
    { input: action('resolve', { by: 'ana' }), at: min(20) },
    { input: action('reportLoss', { by: 'trader', amountUsd: 5000 }), at: min(25) },
  ]);
  expect(ctoPages(old.effects)).toEqual([]);
});

test('a resolve that reports financialImpactUsd over $1000 engages the CTO; $800 does not', () => {
  const big = runAll(opened({ severity: 'P2' }).state, [
    { input: action('resolve', { by: 'carol', financialImpactUsd: 5000 }), at: min(5) },
  ]);
  expect(big.state.engagements.map((e) => e.role)).toContain('cto');
  expect(ctoPages(big.effects)).toHaveLength(1);
  const small = runAll(opened({ severity: 'P2' }).state, [
    { input: action('resolve', { by: 'carol', financialImpactUsd: 800 }), at: min(5) },
  ]);
  expect(small.state.engagements.map((e) => e.role)).not.toContain('cto');
  expect(ctoPages(small.effects)).toEqual([]);
});
