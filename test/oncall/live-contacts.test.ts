// Who a role is at send time (src/activities/oncall.ts LiveContacts): the roster's overrides in front, read at
// most every 5 s, and never holding a page up: a roster that does not answer within 1 s, or fails, leaves the
// last overrides read (or the config's contacts alone).
import { LiveContacts } from '../../src/activities/oncall';
import { parseContactConfig, resolveContact } from '../../src/playbook/contacts';
import type { RuntimeOverride } from '../../src/playbook/contract/oncall';

const contacts = parseContactConfig({
  rotations: { 'oncall-primary': { people: [{ name: 'Ana' }], startDate: '2026-01-05' } },
});
const T = Date.parse('2026-12-08T15:00:00Z');
const carla: RuntimeOverride = {
  id: 'ovr-1',
  role: 'oncall-primary',
  person: { name: 'Carla' },
  from: '2026-12-08T00:00:00.000Z',
  to: '2026-12-09T00:00:00.000Z',
  by: 'lead',
  via: 'http',
  createdAt: '2026-12-08T00:00:00.000Z',
};
const primary = (l: LiveContacts) => resolveContact('oncall-primary', T, l.current()).name;

test('reads the overrides, keeps them 5 s, and reads again after', async () => {
  let now = 0;
  let reads = 0;
  let answer: RuntimeOverride[] | null = [carla];
  const live = new LiveContacts(
    contacts,
    async () => (reads++, answer),
    () => now,
  );
  expect(primary(live)).toBe('Ana');
  await live.refresh();
  expect(primary(live)).toBe('Carla');
  answer = [];
  now = 4_000;
  await live.refresh();
  expect(reads).toBe(1);
  expect(primary(live)).toBe('Carla');
  now = 5_000;
  await live.refresh();
  expect(reads).toBe(2);
  expect(primary(live)).toBe('Ana');
});

test('a roster that hangs or fails never holds the page up: the last overrides read are used', async () => {
  let now = 0;
  let mode: 'ok' | 'hang' | 'fail' = 'ok';
  const live = new LiveContacts(
    contacts,
    () =>
      mode === 'ok'
        ? Promise.resolve([carla])
        : mode === 'hang'
          ? new Promise<never>(() => undefined)
          : Promise.reject(new Error('boom')),
    () => now,
  );
  await live.refresh();
  const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined);
  mode = 'hang';
  now = 10_000;
  const started = Date.now();
  await live.refresh();
  expect(Date.now() - started).toBeLessThan(1_500);
  expect(primary(live)).toBe('Carla');
  mode = 'fail';
  now = 20_000;
  await live.refresh();
  expect(primary(live)).toBe('Carla');
  // Said once for the outage, not once per page.
  expect(warn).toHaveBeenCalledTimes(1);
  expect(String(warn.mock.calls[0]![0])).toContain('no answer within 1000 ms');
  warn.mockRestore();
});
