// A real-time floor on paging one role, whatever the timeScale (pure lifecycle core, no server). The
// decision clock is real time; only the playbook's durations are scaled, so the floor is not.
import { decide, type Effect } from '../../src/playbook/lifecycle/decide';
import { nextWakeup } from '../../src/playbook/lifecycle/due';
import type { IncidentState, Patches } from '../../src/playbook/lifecycle/state';
import type { IncidentInput } from '../../src/playbook/contract/incident';
import { action, notifications, opened, T0, tick } from './lifecycle-helpers';

/**
 * The shell's loop for `ms` of real time: a tick at each wake-up the core asks for, no sooner than 1 ms apart
 * (a timer's least duration), as fast as the worker can go.
 */
function drive(
  s0: IncidentState,
  ms: number,
  inputs: { at: number; input: Parameters<typeof decide>[1] }[] = [],
) {
  let s = s0;
  let now = T0;
  const effects: Effect[] = [];
  const queue = [...inputs];
  while (now < T0 + ms) {
    while (queue[0] && queue[0].at <= now) s = apply(queue.shift()!.input);
    s = apply(tick);
    const wake = nextWakeup(s, now);
    now = Math.max(now + 1, wake ?? T0 + ms);
  }
  return { state: s, effects };
  function apply(input: Parameters<typeof decide>[1]) {
    const r = decide(s, input, now);
    effects.push(...r.effects);
    return r.state;
  }
}
const sent = (effects: Effect[]) => notifications(effects.map((effect) => ({ effect })));
const open = (input: Partial<IncidentInput>, patches?: Patches) => opened(input, patches).state;

describe('a real-time floor on paging one role', () => {
  test('an unacknowledged P1 at timeScale 100,000: at most one page a second to each role over 5 s', () => {
    const { effects } = drive(open({ severity: 'P1', timeScale: 100_000 }), 5_000);
    const repages = sent(effects).filter((n) => n.kind === 'repage');
    const perRole = new Map<string, number>();
    for (const n of repages) perRole.set(n.target, (perRole.get(n.target) ?? 0) + 1);
    // Every role of the matrix was reached (the floor does not hold back escalation)...
    expect([...perRole.keys()].sort()).toEqual([
      'eng-lead',
      'oncall-primary',
      'oncall-secondary',
      'trading-lead',
    ]);
    // ...and none more than once a second: 5 s of rounds, the first a second after its first page.
    for (const count of perRole.values()) expect(count).toBeLessThanOrEqual(5);
    // Each role's pages at least a second apart.
    for (const role of perRole.keys()) {
      const times = sent(effects)
        .filter((n) => n.target === role && (n.kind === 'repage' || n.kind === 'page'))
        .map((n) => Date.parse(n.createdAt));
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(1000);
    }
    // Everything sent in 5 s: 4 first pages, the start message, 2 breach notices, at most 20 re-pages.
    expect(sent(effects).length).toBeLessThanOrEqual(4 + 1 + 2 + 20);
  });

  test('4.2 reminders to an acknowledged P0 at timeScale 100,000: at most one a second', () => {
    const { effects } = drive(open({ severity: 'P0', timeScale: 100_000 }), 5_000, [
      { at: T0 + 1, input: action('acknowledge', { by: 'alice' }) },
    ]);
    const reminders = sent(effects).filter((n) => n.step.startsWith('update-reminder-'));
    expect(reminders.length).toBeGreaterThanOrEqual(1);
    expect(reminders.length).toBeLessThanOrEqual(5);
  });

  test('configurable: minPageIntervalSeconds 2 halves the rounds of the default 1; 0 turns the floor off', () => {
    const rounds = (minPageIntervalSeconds: number) =>
      sent(
        drive(open({ severity: 'P1', timeScale: 100_000, policy: { minPageIntervalSeconds } }), 4_500)
          .effects,
      ).filter((n) => n.kind === 'repage' && n.target === 'oncall-primary').length;
    expect(rounds(1)).toBe(4);
    expect(rounds(2)).toBe(2);
    expect(rounds(0)).toBeGreaterThan(100);
  });

  test('drills keep their cadence: at timeScale 60 a P1 is re-paged every 5 s', () => {
    const { effects } = drive(open({ severity: 'P1', timeScale: 60 }), 12_000);
    const times = sent(effects)
      .filter((n) => n.kind === 'repage' && n.target === 'oncall-primary')
      .map((n) => Date.parse(n.createdAt) - T0);
    expect(times).toEqual([5_000, 10_000]);
  });

  test('an incident opened before the patch pages as fast as its scaled cadence', () => {
    const { effects } = drive(open({ severity: 'P1', timeScale: 100_000 }, {}), 1_000);
    expect(sent(effects).filter((n) => n.kind === 'repage').length).toBeGreaterThan(100);
  });
});
