// The pure lifecycle core (src/playbook/lifecycle), without a server: example cases for each rule and
// property tests over random interleavings of signals, updates, timer ticks and activity results.
import fc from 'fast-check';
import { decide, type Effect, type Input } from '../../src/playbook/lifecycle/decide';
import { nextWakeup } from '../../src/playbook/lifecycle/due';
import { LIMITS } from '../../src/playbook/lifecycle/limits';
import { openState, type IncidentState } from '../../src/playbook/lifecycle/state';
import { packBatch, unpackBatch } from '../../src/playbook/lifecycle/batch';
import { ESCALATION_MATRIX } from '../../src/playbook/escalation';
import { MINUTE_MS } from '../../src/playbook/time';
import { PROCEDURE_WORKFLOWS } from '../../src/playbook/contract/procedure';
import type { IncidentInput } from '../../src/playbook/contract/incident';
import type { Notification } from '../../src/playbook/contract/notification';
import type { Severity } from '../../src/playbook/severity';
import type { RoleId } from '../../src/playbook/roles';

const T0 = Date.parse('2026-12-01T14:00:00Z'); // a Tuesday, 09:00 COT
const open = (input: Partial<IncidentInput> = {}, at = T0): IncidentState =>
  decide(
    openState(
      { title: 'Trading API down', severity: 'P1', kind: 'generic', policyComplete: true, ...input },
      { openedAt: at, workflowId: 'incident-test', carriedAlerts: [] },
    ),
    { type: 'open' },
    at,
  ).state;

/** Runs inputs in order at their times; returns the final state and every effect with its time. */
function runAll(state: IncidentState, steps: { input: Input; at: number }[]) {
  const effects: { at: number; effect: Effect; status: IncidentState['status'] }[] = [];
  let s = state;
  for (const { input, at } of steps) {
    const r = decide(s, input, at);
    s = r.state;
    for (const effect of r.effects) effects.push({ at, effect, status: s.status });
  }
  return { state: s, effects };
}
const notifications = (effects: { effect: Effect }[]): Notification[] =>
  effects.flatMap(({ effect }) => (effect.type === 'notify' ? [effect.notification] : []));
const action = (name: string, payload: unknown): Input =>
  ({ type: 'action', name, payload, via: 'signal' }) as Input;
const tick: Input = { type: 'tick' };
const min = (m: number) => T0 + m * MINUTE_MS;

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

describe('examples', () => {
  test('open pages the P1 primary and posts the start message, in one decision', () => {
    const r = decide(
      openState(
        { title: 'x', severity: 'P1', policyComplete: true },
        { openedAt: T0, workflowId: 'w', carriedAlerts: [] },
      ),
      { type: 'open' },
      T0,
    );
    const ns = notifications(r.effects.map((effect) => ({ effect })));
    expect(ns.map((n) => `${n.kind}:${n.target}`)).toEqual(['page:oncall-primary', 'info:channel']);
    expect(ns[0]?.idempotencyKey).toBe(`${r.state.incidentId}:escalate-P1-0m:oncall-primary`);
    // Composed now; `firstPagedAt` waits for a channel to report it delivered (lifecycle-paged-at.test.ts).
    expect(r.state.firstPageComposedAt).toBe(T0);
    expect(r.state.firstPagedAt).toBeNull();
  });

  test('a P1 tick at 15 minutes engages the secondary and re-pages the primary in one decision', () => {
    const r = decide(open(), tick, min(15));
    const ns = notifications(r.effects.map((effect) => ({ effect })));
    expect(ns.map((n) => `${n.kind}:${n.target}:${n.step}`)).toEqual([
      'page:oncall-secondary:escalate-P1-15m',
      'repage:oncall-primary:repage-1',
      'breach:channel:breach-response',
    ]);
  });

  test('an acknowledgement applied before a due re-page in the same activation: nothing re-paged', () => {
    const { effects } = runAll(open(), [
      { input: action('acknowledge', { by: 'alice' }), at: min(5) },
      { input: tick, at: min(5) },
    ]);
    expect(notifications(effects).filter((n) => n.kind === 'repage')).toEqual([]);
  });

  test('a repeat of a still-firing alert counts, without a timeline entry', () => {
    const alert = { fingerprint: 'fp1', name: 'TradingAPIDown' };
    const { state } = runAll(open(), [
      { input: action('alertFired', { alert, severity: 'P1' }), at: min(1) },
      { input: action('alertFired', { alerts: [{ alert }, { alert }] }), at: min(2) },
    ]);
    expect(state.alerts).toMatchObject({ received: 3, repeats: 2, lastSeenAt: min(2) });
    expect(state.timeline.filter((e) => e.type === 'alert.fired')).toHaveLength(1);
  });

  test('a more severe alert raises the severity and names the incident', () => {
    const { state } = runAll(open({ title: 'Market data stale', severity: 'P2' }), [
      {
        input: action('alertFired', {
          alerts: [
            {
              alert: { fingerprint: 'a', name: 'MarketDataStale' },
              severity: 'P2',
              title: 'Market data stale',
            },
            {
              alert: { fingerprint: 'b', name: 'MarketDataVeryStaleCritical' },
              severity: 'P1',
              title: 'Market data very stale',
            },
          ],
        }),
        at: min(1),
      },
    ]);
    expect(state.severity).toBe('P1');
    expect(state.title).toBe('Market data very stale');
  });

  test('a start without the policy pages at once; channels the policy adds get the same messages', () => {
    const s0 = openState(
      { title: 'x', severity: 'P0' },
      { openedAt: T0, workflowId: 'w', carriedAlerts: [] },
    );
    const opened = decide(s0, { type: 'open' }, T0);
    expect(opened.effects.some((e) => e.type === 'notify')).toBe(true);
    const r = decide(
      opened.state,
      { type: 'deployment.loaded', want: 'policy', overrides: { channels: ['outbox', 'slack'] }, start: {} },
      T0 + 50,
    );
    const again = r.effects.filter((e) => e.type === 'notify');
    expect(again.map((e) => (e.type === 'notify' ? e.channels : null))).toEqual([['slack'], ['slack']]);
    expect(r.state.policyPending).toBe(false);
    expect(r.state.early).toEqual([]);
  });

  test('the procedure workflow types agree with the public contract', () => {
    const s = open({ kind: 'database-connection' });
    expect(s.procedure?.type).toBe(PROCEDURE_WORKFLOWS['database-connection']);
  });

  test('a notification batch keeps each text once and unpacks to the same messages', () => {
    // At 20 minutes the round re-pages the primary and the secondary with one 4.1 text.
    const r = decide(decide(open(), tick, min(15)).state, tick, min(20));
    const ns = notifications(r.effects.map((effect) => ({ effect })));
    expect(ns.map((n) => n.target)).toEqual(['oncall-primary', 'oncall-secondary']);
    const batch = packBatch(ns);
    expect(batch.texts).toHaveLength(1);
    expect(unpackBatch(batch)).toEqual(ns);
  });
});

describe('byte bounds', () => {
  test('500 alerts with 16 KB summaries and 5,000 notes stay under the state limit', () => {
    let s = open();
    const big = 'x'.repeat(16 * 1024);
    for (let i = 0; i < 500; i++)
      s = decide(
        s,
        action('alertFired', {
          alert: { fingerprint: `fp${i}`, name: `Alert${i}`, summary: big.slice(0, 4000) },
        }),
        min(1),
      ).state;
    for (let i = 0; i < 5000; i++) {
      s = decide(s, action('addNote', { by: 'bob', text: big.slice(0, 4000) }), min(2)).state;
      if (i % 100 === 0) {
        const flush = decide(s, { type: 'ledger.flush', force: true }, min(2));
        const w = flush.effects.find((e) => e.type === 'ledger.write');
        s =
          w?.type === 'ledger.write'
            ? decide(flush.state, { type: 'ledger.written', upTo: w.write.upTo }, min(2)).state
            : flush.state;
      }
    }
    const bytes = JSON.stringify(s).length;
    expect(bytes).toBeLessThan(LIMITS.stateBytes);
    expect(Object.keys(s.alerts.active)).toHaveLength(LIMITS.activeAlerts);
    expect(s.alerts.received).toBe(500);
    expect(s.timeline.length).toBeLessThanOrEqual(LIMITS.timelineKeep * 1.5);
    // ...and it keeps escalating.
    const later = decide(s, tick, min(31));
    expect(later.state.engagements.map((e) => e.role)).toContain('eng-lead');
  });

  test('with the ledger down the timeline is capped all the same, in count and in bytes', () => {
    let s = open();
    for (let i = 0; i < 4000; i++)
      s = decide(
        s,
        action('addNote', { by: 'bob', text: `note ${i} ${'y'.repeat(i % 2 ? 10 : 2000)}` }),
        min(1),
      ).state;
    expect(s.timeline.length).toBeLessThanOrEqual(LIMITS.timelineHardCap);
    expect(JSON.stringify(s.timeline).length).toBeLessThanOrEqual(LIMITS.timelineBytes * 1.05);
    expect(s.timelineBytes).toBeLessThanOrEqual(LIMITS.timelineBytes);
    expect(s.timelineDropped + s.timeline.length).toBe(2 + 4000); // opened, escalation, the notes
    expect(s.timeline.at(-1)?.text).toMatch(/^note 3999 /);
  });

  test('event data leaves the state once the ledger has it', () => {
    let s = decide(
      open(),
      action('postUpdate', { by: 'a', status: 'Investigating', theory: 't' }),
      min(1),
    ).state;
    expect(s.timeline.some((e) => e.data)).toBe(true);
    const flush = decide(s, { type: 'ledger.flush', force: true }, min(1));
    const w = flush.effects.find((e) => e.type === 'ledger.write');
    if (w?.type !== 'ledger.write') throw new Error('no ledger write');
    expect(w.write.events.some((e) => e.data)).toBe(true);
    s = decide(flush.state, { type: 'ledger.written', upTo: w.write.upTo }, min(1)).state;
    expect(s.timeline.some((e) => e.data)).toBe(false);
  });
});

// ---------- properties ----------

const SEVS: Severity[] = ['P0', 'P1', 'P2', 'P3'];
type Op =
  | { kind: 'tick' }
  | { kind: 'ack' }
  | { kind: 'resolve' }
  | { kind: 'escalate' }
  | { kind: 'note' }
  | { kind: 'bad' }
  | { kind: 'alert'; fp: number }
  | { kind: 'setSeverity'; severity: Severity };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'tick' } as Op) },
  { weight: 1, arbitrary: fc.constant({ kind: 'ack' } as Op) },
  { weight: 1, arbitrary: fc.constant({ kind: 'resolve' } as Op) },
  { weight: 1, arbitrary: fc.constant({ kind: 'escalate' } as Op) },
  { weight: 1, arbitrary: fc.constant({ kind: 'note' } as Op) },
  { weight: 1, arbitrary: fc.constant({ kind: 'bad' } as Op) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((fp) => ({ kind: 'alert', fp }) as Op) },
);
const sevOpArb = fc.constantFrom(...SEVS).map((severity) => ({ kind: 'setSeverity', severity }) as Op);
const stepsArb = (ops: fc.Arbitrary<Op>) =>
  fc.array(fc.tuple(ops, fc.integer({ min: 0, max: 20 * 60_000 })), { minLength: 1, maxLength: 60 });

function toInput(op: Op): Input {
  switch (op.kind) {
    case 'tick':
      return tick;
    case 'ack':
      return action('acknowledge', { by: 'alice' });
    case 'resolve':
      return action('resolve', { by: 'alice' });
    case 'escalate':
      return action('escalate', { by: 'bob', reason: 'help' });
    case 'note':
      return action('addNote', { by: 'bob', text: 'n' });
    case 'bad':
      return action('acknowledge', { nope: true });
    case 'alert':
      return action('alertFired', { alert: { fingerprint: `fp${op.fp}`, name: 'A' } });
    case 'setSeverity':
      return action('setSeverity', { by: 'bob', severity: op.severity, reason: 'r' });
  }
}

/** Each input is followed by a tick at the same time, as the interpreter does. */
function simulate(severity: Severity, steps: [Op, number][]) {
  let at = T0;
  const seq: { input: Input; at: number }[] = [];
  for (const [op, dt] of steps) {
    at += dt;
    seq.push({ input: toInput(op), at }, { input: tick, at });
  }
  return runAll(open({ severity }), seq);
}

describe('properties', () => {
  test('each matrix step engages exactly once, in order', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SEVS), stepsArb(opArb), (severity, steps) => {
        // Without setSeverity: one matrix, whose roles come in its order (escalate only fires steps early).
        const { state } = simulate(severity, steps);
        const roles = state.engagements.map((e) => e.role);
        expect(new Set(roles).size).toBe(roles.length);
        const matrixOrder = ESCALATION_MATRIX[severity].flatMap((s) => s.roles);
        const positions = roles.map((r) => matrixOrder.indexOf(r));
        expect(positions.every((p) => p >= 0)).toBe(true);
        expect([...positions].sort((a, b) => a - b)).toEqual(positions);
        const pages = notifications(simulate(severity, steps).effects).filter(
          (n) => n.kind === 'page' && n.step.startsWith('escalate-'),
        );
        expect(new Set(pages.map((n) => n.idempotencyKey)).size).toBe(pages.length);
      }),
      { numRuns: 300 },
    );
  });

  test('nothing is paged after resolution, and re-paging stops at acknowledgement', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SEVS), stepsArb(fc.oneof(opArb, sevOpArb)), (severity, steps) => {
        // Alerts can reopen a resolved incident; leave them out of this one.
        const { effects } = simulate(
          severity,
          steps.filter(([op]) => op.kind !== 'alert'),
        );
        let resolved = false;
        let acked = false;
        for (const { effect, status } of effects) {
          if (effect.type !== 'notify') continue;
          const n = effect.notification;
          if (resolved) expect(['page', 'repage']).not.toContain(n.kind);
          if (acked) expect(n.kind).not.toBe('repage');
          if (n.kind === 'resolved' || status === 'resolved' || status === 'closed') resolved = true;
          if (n.kind === 'acknowledged') acked = true;
        }
      }),
      { numRuns: 300 },
    );
  });

  test('no role outside the matrices of the severities the incident had is engaged', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SEVS), stepsArb(fc.oneof(opArb, sevOpArb)), (severity, steps) => {
        const seen = new Set<Severity>([severity]);
        for (const [op] of steps) if (op.kind === 'setSeverity') seen.add(op.severity);
        const allowed = new Set<RoleId>(
          [...seen].flatMap((s) => ESCALATION_MATRIX[s].flatMap((x) => x.roles)),
        );
        const { state } = simulate(severity, steps);
        for (const e of state.engagements) expect(allowed.has(e.role)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test('times are monotonic: nothing due is left behind, re-pages and engagements never go back', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SEVS), stepsArb(fc.oneof(opArb, sevOpArb)), (severity, steps) => {
        let s = open({ severity });
        let at = T0;
        let lastPaged = s.lastPagedAt ?? -Infinity;
        for (const [op, dt] of steps) {
          at += dt;
          s = decide(decide(s, toInput(op), at).state, tick, at).state;
          const wake = nextWakeup(s, at);
          if (wake !== null) expect(wake).toBeGreaterThan(at);
          if (s.lastPagedAt !== null) {
            expect(s.lastPagedAt).toBeGreaterThanOrEqual(lastPaged);
            lastPaged = s.lastPagedAt;
          }
          const times = s.engagements.map((e) => e.at);
          expect([...times].sort((a, b) => a - b)).toEqual(times);
        }
      }),
      { numRuns: 300 },
    );
  });

  test('decide never changes the state it is given', () => {
    fc.assert(
      fc.property(fc.constantFrom(...SEVS), stepsArb(fc.oneof(opArb, sevOpArb)), (severity, steps) => {
        let s = deepFreeze(open({ severity }));
        let at = T0;
        for (const [op, dt] of steps) {
          at += dt;
          s = deepFreeze(decide(s, toInput(op), at).state);
          s = deepFreeze(decide(s, tick, at).state);
        }
      }),
      { numRuns: 100 },
    );
  });
});
