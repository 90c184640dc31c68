// 6.4 MTTD and MTTA count from delivery, the moment a human could know: `firstPagedAt` is the time the
// delivery activity reported for the first batch holding a page that a channel took, not the time the page
// was composed (composed 16:01:14.033, delivered 16:01:19.223).
import { decide, type Input } from '../../src/playbook/lifecycle/decide';
import { CURRENT_PATCHES, snapshot } from '../../src/playbook/lifecycle/state';
import { action, opened, runAll, T0 } from './lifecycle-helpers';

const delivered = (channel: string, at: number, pages = true): Input => ({
  type: 'delivered',
  channel,
  pages,
  taken: 2,
  at,
});
const both = { policy: { channels: ['outbox', 'slack'] } };

test('the first page delivered on a channel people are paged through starts MTTA, and ends MTTD', () => {
  const open = opened({ ...both, detectedAt: new Date(T0 - 60_000).toISOString() });
  expect(open.state.firstPagedAt).toBeNull();
  // Until a delivery is reported the metrics count from composition (a channel may still be retrying).
  expect(snapshot(open.state, T0).metrics.mttdSeconds).toBe(60);
  const { state } = runAll(open.state, [
    { input: delivered('outbox', T0 + 40), at: T0 + 40 }, // a local file: nobody is paged through it
    { input: delivered('slack', T0 + 1000, false), at: T0 + 1000 }, // the start message alone: no page
    { input: delivered('slack', T0 + 5190), at: T0 + 5190 },
    { input: delivered('slack', T0 + 9000), at: T0 + 9000 }, // a later page changes nothing
    { input: action('acknowledge', { by: 'ana' }), at: T0 + 65_190 },
  ]);
  expect(state.firstPagedAt).toBe(T0 + 5190);
  expect(state.firstPageComposedAt).toBe(T0);
  expect(snapshot(state, T0 + 70_000)).toMatchObject({
    firstPagedAt: new Date(T0 + 5190).toISOString(),
    metrics: { mttdSeconds: 65, mttaSeconds: 60 },
  });
  expect(state.timeline.filter((e) => e.type === 'paged').map((e) => e.text)).toEqual([
    'First page delivered (slack)',
  ]);
});

test('an incident paged only through the outbox counts the outbox', () => {
  const s = decide(opened().state, delivered('outbox', T0 + 30), T0 + 30).state;
  expect(s.firstPagedAt).toBe(T0 + 30);
});

test('an incident opened before the patch keeps the composition time', () => {
  const old = opened(both, { ...CURRENT_PATCHES, pagedAtDelivery: false }).state;
  expect(old.firstPagedAt).toBe(T0);
  expect(decide(old, delivered('slack', T0 + 5190), T0 + 5190).state.firstPagedAt).toBe(T0);
});
