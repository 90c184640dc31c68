// 6.4 MTTD when a long-firing alert opens a new incident: detection is the alert's startsAt, but never more
// than policy.detectionLookbackMinutes (60) before the incident opened; the real start stays on the record
// as "alert firing since". A recent startsAt (a rule's `for:`, a late delivery) still counts in full.
import { decide } from '../../src/playbook/lifecycle/decide';
import { CURRENT_PATCHES, snapshot } from '../../src/playbook/lifecycle/state';
import { fresh, T0 } from './lifecycle-helpers';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const opened = (startsAtMs: number, policy = {}, patches = CURRENT_PATCHES) =>
  decide(fresh({ detectedAt: new Date(startsAtMs).toISOString(), policy }, patches), { type: 'open' }, T0)
    .state;

test('an alert firing for 324 days: MTTD counts from an hour before opening, the real start is recorded', () => {
  const s = opened(T0 - 324 * DAY);
  expect(s.detectedAt).toBe(T0 - 60 * MIN);
  expect(snapshot(s, T0).metrics.mttdSeconds).toBe(3600);
  expect(s.timeline.find((e) => e.type === 'detection')).toMatchObject({
    text: `Alert firing since ${new Date(T0 - 324 * DAY).toISOString()} (324 days before this incident opened): MTTD counts from ${new Date(T0 - 60 * MIN).toISOString()}, 60 minutes before opening at most`,
    data: { firingSince: new Date(T0 - 324 * DAY).toISOString() },
  });
});

test('a start within the hour counts in full (a late delivery is detection delay), and nothing is added', () => {
  const s = opened(T0 - 40 * MIN);
  expect(s.detectedAt).toBe(T0 - 40 * MIN);
  expect(snapshot(s, T0).metrics.mttdSeconds).toBe(2400);
  expect(s.timeline.some((e) => e.type === 'detection')).toBe(false);
  // A start after opening (clock skew) is opening.
  expect(opened(T0 + 5 * MIN).detectedAt).toBe(T0);
});

test('the deployment sets the bound; an incident opened before the patch keeps the start as given', () => {
  expect(opened(T0 - 3 * 60 * MIN, { detectionLookbackMinutes: 240 }).detectedAt).toBe(T0 - 3 * 60 * MIN);
  expect(opened(T0 - 3 * 60 * MIN, { detectionLookbackMinutes: 0 }).detectedAt).toBe(T0);
  expect(opened(T0 - 324 * DAY, {}, { ...CURRENT_PATCHES, detectionBound: false }).detectedAt).toBe(
    T0 - 324 * DAY,
  );
});
