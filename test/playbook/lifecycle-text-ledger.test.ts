// What an action may carry into the record, and what a failing record write may do: every string of an
// operator's payload is cleaned at the schema (a NUL made every later ledger write of the incident fail),
// and a ledger write that fails is tried again after a back-off instead of at once, in a loop.
import { decide, type Effect } from '../../src/playbook/lifecycle/decide';
import { nextWakeup } from '../../src/playbook/lifecycle/due';
import { CURRENT_PATCHES, type IncidentState } from '../../src/playbook/lifecycle/state';
import { ACTION_SCHEMAS } from '../../src/playbook/contract/incident';
import { action, opened, procedureMessage, runAll, T0 } from './lifecycle-helpers';

/** Anything PostgreSQL's jsonb or text refuses, or a reader cannot see. */
const POISON =
  /[\u0000\u202a-\u202e\u2066-\u2069\u200b\u200e\u200f\ufeff\u0001-\u0008]|[\ud800-\udbff](?![\udc00-\udfff])/;

describe('operator text is cleaned at the action schemas', () => {
  test('a NUL in addNote is stored as U+FFFD; RTL overrides and zero-width characters go', () => {
    const { state } = runAll(opened().state, [
      {
        input: action('addNote', { by: 'an\u0000a\u200b', text: 'before\u0000after \u202Ekcab\u202C\u0007' }),
        at: T0 + 1000,
      },
    ]);
    const note = state.timeline.find((e) => e.type === 'note')!;
    expect(note.text).toBe('before\uFFFDafter kcab');
    expect(note.actor).toBe('an\uFFFDa');
  });

  test('every action and its record: no NUL, lone surrogate or invisible character reaches a ledger write', () => {
    const dirty = (s: string) => `${s}\u0000\ud800\u202e\u200b\ufeff\u0001`;
    const { state, effects } = runAll(opened().state, [
      { input: action('acknowledge', { by: dirty('ana'), note: dirty('on it') }), at: T0 + 1000 },
      {
        input: action('postUpdate', {
          by: dirty('ana'),
          status: 'Investigating',
          progress: [dirty('a')],
          theory: dirty('t'),
        }),
        at: T0 + 2000,
      },
      { input: action('escalate', { by: dirty('ana'), reason: dirty('need help') }), at: T0 + 3000 },
      {
        input: procedureMessage('procedureEvent', {
          procedure: 'p',
          step: '3.1 immediate',
          type: 'finding',
          text: dirty('log line'),
          data: { nested: [{ line: dirty('x'), [dirty('key')]: 1 }] },
        }),
        at: T0 + 4000,
      },
      {
        input: action('resolve', { by: dirty('ana'), rootCause: dirty('rc'), resolution: dirty('fixed') }),
        at: T0 + 5000,
      },
      { input: { type: 'ledger.flush', force: true }, at: T0 + 6000 },
    ]);
    expect(state.acknowledgedBy).toBe('ana\uFFFD\uFFFD');
    const writes = effects.filter((e) => e.effect.type === 'ledger.write');
    expect(writes.length).toBeGreaterThan(0);
    for (const w of writes)
      expect(JSON.stringify(w.effect)).not.toMatch(/\\u0000|\\ud800|\u202e|\u200b|\ufeff|\\u0001/);
    expect(JSON.stringify(state)).not.toMatch(POISON);
  });

  test('a payload of only invisible characters is refused, as an empty one is', () => {
    expect(ACTION_SCHEMAS.addNote.safeParse({ by: 'ana', text: '\u200b\u202e ' }).success).toBe(false);
    expect(ACTION_SCHEMAS.acknowledge.safeParse({ by: '\ufeff' }).success).toBe(false);
  });
});

describe('a failing ledger write backs off', () => {
  /**
   * The shell, as incidentWorkflow runs it, with a ledger that refuses every write: each input is followed by
   * the tick and the flush, and each write asked fails at once. Returns the times writes were asked.
   */
  function failingLedger(state: IncidentState, untilMs: number, stepMs: number) {
    let s = state;
    let now = T0;
    const asked: number[] = [];
    const run = (input: Parameters<typeof decide>[1]) => {
      const r = decide(s, input, now);
      s = r.state;
      return r.effects;
    };
    const loop = (effects: Effect[]) => {
      const queue = [...effects];
      for (let guard = 0; queue.length > 0 && guard < 10_000; guard++) {
        const e = queue.shift()!;
        if (e.type !== 'ledger.write') continue;
        asked.push(now);
        queue.push(
          ...run({
            type: 'ledger.failed',
            write: true,
            text: 'ledger write failed: unsupported Unicode escape sequence',
          }),
        );
        // The loop comes round again: tick, then flush.
        queue.push(...run({ type: 'tick' }), ...run({ type: 'ledger.flush', force: false }));
      }
    };
    while (now < untilMs) {
      loop([...run({ type: 'tick' }), ...run({ type: 'ledger.flush', force: false })]);
      const wake = nextWakeup(s, now);
      now = Math.min(wake ?? now + stepMs, now + stepMs);
    }
    return { state: s, asked };
  }

  test('15 s of a ledger that refuses everything: a handful of writes, not one per activation', () => {
    // 100,000x: the 30-minute batch is 18 ms of real time, so only the real-time floor holds it.
    const fast = failingLedger(opened({ timeScale: 100_000 }).state, T0 + 15_000, 10);
    expect(fast.asked.length).toBeGreaterThan(1);
    expect(fast.asked.length).toBeLessThanOrEqual(3); // at 0, 5 s, 15 s
    const gaps = fast.asked.slice(1).map((t, i) => t - fast.asked[i]!);
    expect(gaps.every((g) => g >= 5_000)).toBe(true);
    // Each failure is on the record, as a routine event that asked for nothing.
    expect(fast.state.timeline.filter((e) => e.type === 'ledger.failed').length).toBe(fast.asked.length);
    expect(fast.state.ledgerFailures).toBe(fast.asked.length);
  });

  test('at timeScale 1 the retry waits the 30-minute batch; a write that lands ends the back-off', () => {
    const slow = failingLedger(opened().state, T0 + 15_000, 10);
    expect(slow.asked).toEqual([T0]);
    const retryAt = slow.state.ledgerRetryAt!;
    expect(retryAt).toBe(T0 + 30 * 60_000);
    // A status change before the retry waits for it too (the database is what fails, not the change).
    let r = decide(slow.state, action('acknowledge', { by: 'ana' }), T0 + 60_000);
    r = decide(r.state, { type: 'ledger.flush', force: false }, T0 + 60_000);
    expect(r.effects.some((e) => e.type === 'ledger.write')).toBe(false);
    expect(nextWakeup(r.state, T0 + 60_000)).toBeLessThanOrEqual(retryAt);
    r = decide(r.state, { type: 'ledger.flush', force: false }, retryAt);
    const write = r.effects.find((e) => e.type === 'ledger.write');
    expect(write).toBeDefined();
    r = decide(
      r.state,
      { type: 'ledger.written', upTo: (write as Extract<Effect, { type: 'ledger.write' }>).write.upTo },
      retryAt + 10,
    );
    expect(r.state.ledgerFailures).toBe(0);
    expect(r.state.ledgerRetryAt).toBeNull();
  });

  test('continue-as-new and close still try (force), and an approval record that fails asks for no write', () => {
    const { state } = failingLedger(opened().state, T0 + 1000, 10);
    expect(
      decide(state, { type: 'ledger.flush', force: true }, T0 + 2000).effects.some(
        (e) => e.type === 'ledger.write',
      ),
    ).toBe(true);
    const fresh = runAll(opened().state, [{ input: { type: 'ledger.flush', force: true }, at: T0 }]).state;
    const r = decide(
      { ...fresh, ledgerUrgent: false },
      { type: 'ledger.failed', write: false, text: 'ledger approval kill-switch-1 failed: x' },
      T0 + 10,
    );
    expect(r.state.ledgerUrgent).toBe(false);
    expect(r.state.timeline.at(-1)).toMatchObject({
      type: 'ledger.failed',
      text: 'ledger approval kill-switch-1 failed: x',
    });
  });

  test('an incident opened before the patch keeps recording side-effect.failed', () => {
    const old = opened({}, { ...CURRENT_PATCHES, ledgerBackoff: false }).state;
    const r = decide(old, { type: 'ledger.failed', write: true, text: 'ledger write failed: x' }, T0 + 10);
    expect(r.state.timeline.at(-1)).toMatchObject({
      type: 'side-effect.failed',
      text: 'ledger write failed: x',
    });
    expect(r.state.ledgerRetryAt).toBeNull();
  });
});
