// The guard rule and the safety-hold rule (src/playbook/safety.ts), over generated sequences of what the
// platform may do between a request and its approval. The model below tracks activations by identity (a
// counter), the judge by what the platform reports (time, author, reason): they must agree.
import fc from 'fast-check';
import {
  engineActor,
  holderOf,
  judgeHold,
  judgePreconditions,
  sameActivation,
  workflowIdOfIncident,
  type KillSwitchActivation,
  type OperationsObservation,
  type Precondition,
} from '../../src/playbook/safety';

const ME = 'incident-trading-system-down-aaaa@20261207T120000.000Z';
const OTHER = 'incident-data-source-down-bbbb@20261207T110000.000Z';

type Step =
  | { op: 'set'; by: string; reason: string }
  | { op: 'lift' }
  | { op: 'stale'; minutes: number }
  | { op: 'unreadable' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    op: fc.constant('set' as const),
    by: fc.constantFrom('risk_monitor', 'dashboard', engineActor('policy', OTHER), engineActor('ana', ME)),
    reason: fc.constantFrom('spurious drawdown trigger', 'Daily loss limit breached: -$12,400'),
  }),
  fc.constant({ op: 'lift' as const }),
  fc.record({ op: fc.constant('stale' as const), minutes: fc.double({ min: 0, max: 120, noNaN: true }) }),
  fc.constant({ op: 'unreadable' as const }),
);

interface World {
  id: number | null;
  activation: KillSwitchActivation | null;
  staleness: number;
  readable: boolean;
  clock: number;
  next: number;
}

function apply(w: World, s: Step): World {
  switch (s.op) {
    case 'set': {
      // The platform overwrites the state on every kill-switch call (operations.py): a new activation.
      const clock = w.clock + 1_000;
      return {
        ...w,
        clock,
        id: w.next,
        next: w.next + 1,
        activation: { activatedAt: new Date(clock).toISOString(), activatedBy: s.by, reason: s.reason },
        readable: true,
      };
    }
    case 'lift':
      return { ...w, id: null, activation: null, readable: true };
    case 'stale':
      return { ...w, staleness: s.minutes, readable: true };
    case 'unreadable':
      return { ...w, readable: false };
  }
}

const opsOf = (w: World): OperationsObservation | null =>
  !w.readable
    ? null
    : w.activation
      ? { mode: 'killed', killSwitchActive: true, ...w.activation }
      : { mode: 'normal', killSwitchActive: false, activatedAt: null, activatedBy: null, reason: null };

test('no resume is let through unless the named activation is still the active one, unheld, on fresh data', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('risk_monitor', engineActor('policy', ME)),
      fc.array(step, { maxLength: 8 }),
      fc.boolean(),
      fc.boolean(),
      (firstBy, between, needFresh, holderOpen) => {
        let w: World = apply(
          {
            id: null,
            activation: null,
            staleness: 1,
            readable: true,
            clock: Date.UTC(2026, 11, 7, 12),
            next: 1,
          },
          { op: 'set', by: firstBy, reason: 'spurious drawdown trigger' },
        );
        const named = { id: w.id, activation: w.activation! };
        for (const s of between) w = apply(w, s);
        const pre: Precondition[] = [
          { kind: 'kill-switch-is', activation: named.activation },
          { kind: 'no-foreign-hold', incidentId: ME },
          ...(needFresh ? [{ kind: 'data-fresh' as const, maxMinutes: 6 }] : []),
        ];
        const ops = opsOf(w);
        const heldBy = ops?.killSwitchActive ? holderOf(ops.activatedBy) : null;
        const verdict = judgePreconditions(pre, {
          operations: ops,
          stalenessMinutes: w.readable ? w.staleness : null,
          ...(heldBy && heldBy !== ME ? { holder: { incidentId: heldBy, open: holderOpen } } : {}),
        });
        const expected =
          w.readable &&
          w.id === named.id &&
          !(heldBy !== null && heldBy !== ME && holderOpen) &&
          (!needFresh || w.staleness <= 6);
        expect(verdict.ok).toBe(expected);
        if (!verdict.ok) expect(verdict.reasons.length).toBeGreaterThan(0);
      },
    ),
    { numRuns: 2_000 },
  );
});

test('the reasons say what changed: replaced, lifted, stale again, unreadable', () => {
  const a: KillSwitchActivation = {
    activatedAt: '2026-12-07T12:00:00.000000+00:00',
    activatedBy: 'risk_monitor',
    reason: 'spurious drawdown trigger',
  };
  const replaced: OperationsObservation = {
    mode: 'killed',
    killSwitchActive: true,
    activatedAt: '2026-12-07T12:05:00+00:00',
    activatedBy: 'risk_monitor',
    reason: 'Daily loss limit breached: -$12,400',
  };
  const r1 = judgePreconditions([{ kind: 'kill-switch-is', activation: a }], { operations: replaced });
  expect(r1).toEqual({ ok: false, reasons: [expect.stringContaining('was replaced by another')] });
  expect(JSON.stringify(r1)).toContain('Daily loss limit breached');
  const lifted: OperationsObservation = { ...replaced, killSwitchActive: false, mode: 'normal' };
  expect(judgePreconditions([{ kind: 'kill-switch-is', activation: a }], { operations: lifted })).toEqual({
    ok: false,
    reasons: [expect.stringContaining('no longer active')],
  });
  expect(judgePreconditions([{ kind: 'data-fresh', maxMinutes: 6 }], { stalenessMinutes: 75 })).toEqual({
    ok: false,
    reasons: [expect.stringContaining('stale again: latest bar 75.0 minutes old')],
  });
  expect(judgePreconditions([{ kind: 'data-fresh', maxMinutes: 6 }], { stalenessMinutes: null }).ok).toBe(
    false,
  );
  expect(judgePreconditions([{ kind: 'kill-switch-is', activation: a }], { operations: null }).ok).toBe(
    false,
  );
  // The same instant in another ISO spelling is the same activation (Python's isoformat vs JavaScript's).
  expect(sameActivation(a, { ...a, activatedAt: '2026-12-07T12:00:00.000Z' })).toBe(true);
});

test("safety holds: the engine's activation names its incident; another open incident's hold is respected", () => {
  const by = engineActor('policy', OTHER);
  expect(by).toBe(`incident-response (pre-approved) for incident ${OTHER}`);
  expect(holderOf(by)).toBe(OTHER);
  expect(holderOf(engineActor('Ana Gómez', OTHER))).toBe(OTHER);
  expect(holderOf('risk_monitor')).toBeNull();
  expect(holderOf('incident-response (pre-approved)')).toBeNull();
  expect(workflowIdOfIncident(OTHER)).toBe('incident-data-source-down-bbbb');
  const ops: OperationsObservation = {
    mode: 'killed',
    killSwitchActive: true,
    activatedAt: '2026-12-07T11:30:00Z',
    activatedBy: by,
    reason: 'Data source down 75 minutes (playbook 3.3)',
  };
  const held = judgeHold(ops, ME, {
    incidentId: OTHER,
    open: true,
    kind: 'data-source-down',
    title: 'MarketDataVeryStaleCritical',
    status: 'acknowledged',
  });
  expect(held).toMatchObject({ held: true, holder: OTHER });
  expect(held.held && 'text' in held ? held.text : '').toContain('Data source down 75 minutes');
  expect(judgeHold(ops, ME, { incidentId: OTHER, open: false })).toEqual({ held: false, holder: OTHER });
  // Its own hold is no obstacle to the incident that holds it; a holder that does not answer may hold.
  expect(judgeHold(ops, OTHER, undefined)).toEqual({ held: false, holder: OTHER });
  expect(judgeHold(ops, ME, null)).toMatchObject({ held: 'unknown' });
});
