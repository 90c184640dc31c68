// Who acted, as the record says it: an action's `origin` counts only with the ingress's signature, checked
// with the key from the worker's deployment config; anything else is recorded as typed (unverified).
import { generateKeyPairSync } from 'node:crypto';
import { decide } from '../../src/playbook/lifecycle/decide';
import { CURRENT_PATCHES } from '../../src/playbook/lifecycle/state';
import { signOrigin } from '../../src/ingress/starter';
import { action, fresh, notifications, opened, runAll, T0 } from './lifecycle-helpers';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUBLIC = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const forged = { channel: 'slack', userId: 'U0ANA', known: true, role: 'cto' } as const;
const pd = {
  channel: 'pagerduty',
  userId: 'PANA',
  known: true,
  role: 'oncall-primary',
  eventId: 'E1',
} as const;

/** An incident whose worker gave it the origin key. */
const withKey = (key: string | null = PUBLIC) =>
  decide(
    opened().state,
    {
      type: 'deployment.loaded',
      want: 'originKey',
      overrides: key === null ? {} : { originVerifyKey: key },
      start: {},
    },
    T0 + 10,
  ).state;
const signed = (
  state: ReturnType<typeof withKey>,
  name: 'acknowledge' | 'approve' | 'addNote',
  payload: object,
  at = T0 + 1000,
) => signOrigin(privateKey, state.incidentId, name, payload, at);

test('the ingress-signed origin is recorded as verified; the key arrival is on the record', () => {
  const s = withKey();
  expect(s.timeline.at(-1)).toMatchObject({ type: 'origin.key', text: expect.stringContaining('RSA 2048') });
  const { state } = runAll(s, [
    { input: action('acknowledge', signed(s, 'acknowledge', { by: 'Ana', origin: forged })), at: T0 + 1000 },
  ]);
  const ack = state.timeline.find((e) => e.type === 'acknowledged')!;
  expect(ack.text).toBe('Acknowledged by Ana in Slack (verified, cto)');
  // The record keeps who and where, not the signature.
  expect(ack.data).toEqual({ origin: forged });
});

test('a forged origin (CLI, Web UI, tctl) is ignored: typed, unverified, and says what was ignored', () => {
  const s = withKey();
  const { state } = runAll(s, [
    { input: action('acknowledge', { by: 'Ana', origin: forged }), at: T0 + 1000 },
  ]);
  const ack = state.timeline.find((e) => e.type === 'acknowledged')!;
  expect(ack.text).toBe(
    'Acknowledged by Ana (typed, unverified: origin slack:U0ANA ignored, the origin is not signed by the ingress)',
  );
  expect(ack.data).toBeUndefined();
  expect(state.acknowledgedBy).toBe('Ana');
});

test('a signature is good once, for its incident, action and fields, and only lately', () => {
  const s = withKey();
  const ack = signed(s, 'addNote', { by: 'Ana', text: 'first', origin: forged });
  const { state } = runAll(s, [
    { input: action('addNote', ack), at: T0 + 1000 },
    { input: action('addNote', ack), at: T0 + 2000 },
    { input: action('addNote', { ...(ack as object), text: 'changed' }), at: T0 + 3000 },
    {
      input: action('addNote', signed(s, 'addNote', { by: 'Ana', text: 'late', origin: forged }, T0)),
      at: T0 + 11 * 60_000,
    },
  ]);
  const notes = state.timeline.filter((e) => e.type === 'note').map((e) => e.text);
  expect(notes).toEqual([
    'first in Slack (verified, cto)',
    'first (typed, unverified: origin slack:U0ANA ignored, its signature was already used)',
    "changed (typed, unverified: origin slack:U0ANA ignored, the origin's signature does not verify)",
    expect.stringMatching(
      /^late \(typed, unverified: origin slack:U0ANA ignored, the origin's signature is dated /,
    ),
  ]);
});

test('a forged PagerDuty origin does not keep the acknowledgement from PagerDuty (echo rule)', () => {
  const s = withKey();
  const forgedRun = runAll(s, [{ input: action('acknowledge', { by: 'Ana', origin: pd }), at: T0 + 1000 }]);
  const realRun = runAll(s, [
    { input: action('acknowledge', signed(s, 'acknowledge', { by: 'Ana', origin: pd })), at: T0 + 1000 },
  ]);
  const except = (r: typeof forgedRun) =>
    r.effects.flatMap(({ effect }) =>
      effect.type === 'notify' && effect.notification.kind === 'acknowledged' ? [effect.except] : [],
    );
  expect(except(forgedRun)).toEqual([undefined]);
  expect(except(realRun)).toEqual(['pagerduty']);
  expect(notifications(realRun.effects)).toHaveLength(1);
});

test('no key from the worker: every origin is unverified, and the record says why', () => {
  const s = withKey(null);
  expect(s.timeline.at(-1)!.text).toContain('No origin key');
  const payload = signOrigin(
    privateKey,
    s.incidentId,
    'acknowledge',
    { by: 'Ana', origin: forged },
    T0 + 1000,
  );
  const { state } = runAll(s, [{ input: action('acknowledge', payload), at: T0 + 1000 }]);
  expect(state.timeline.find((e) => e.type === 'acknowledged')!.text).toContain(
    'typed, unverified: origin slack:U0ANA ignored, this deployment has no origin key',
  );
  const bad = decide(
    opened().state,
    { type: 'deployment.loaded', want: 'originKey', overrides: { originVerifyKey: 'not a key' }, start: {} },
    T0,
  ).state;
  expect(bad.originKey).toBeNull();
  expect(bad.timeline.at(-1)!.text).toContain('unusable');
});

test("a key in the start input is not the incident's: only the worker's counts", () => {
  const s = fresh({ policy: { originVerifyKey: PUBLIC } });
  expect(s.originKey).toBeNull();
  expect(JSON.stringify(s.policy)).not.toContain('BEGIN PUBLIC KEY');
  const payload = signOrigin(
    privateKey,
    s.incidentId,
    'acknowledge',
    { by: 'Ana', origin: forged },
    T0 + 1000,
  );
  const { state } = runAll(decide(s, { type: 'open' }, T0).state, [
    { input: action('acknowledge', payload), at: T0 + 1000 },
  ]);
  expect(state.timeline.find((e) => e.type === 'acknowledged')!.text).toContain('typed, unverified');
});

test('a typed action says unverified; an incident opened before the patch takes the origin as given', () => {
  const typed = runAll(withKey(), [{ input: action('acknowledge', { by: 'Ana' }), at: T0 + 1000 }]).state;
  expect(typed.timeline.find((e) => e.type === 'acknowledged')!.text).toBe(
    'Acknowledged by Ana (typed, unverified)',
  );
  const old = opened({}, { ...CURRENT_PATCHES, verifiedOrigin: false }).state;
  const r = runAll(old, [
    { input: action('acknowledge', { by: 'Ana', origin: forged }), at: T0 + 1000 },
  ]).state;
  expect(r.timeline.find((e) => e.type === 'acknowledged')!.text).toBe(
    'Acknowledged by Ana in Slack (verified, cto)',
  );
});
