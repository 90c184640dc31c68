// The post-mortem core (6.1-6.3) without Temporal: reminders, the deadline and its escalation, completion
// with action items and their reminders and overdue notices, refused input, and the one "what is due" list
// that both the tick and the next wake-up read.
import fc from 'fast-check';
import { validateAction, type ActionName } from '../../src/playbook/postmortem-core/actions';
import { decide, type Input } from '../../src/playbook/postmortem-core/decide';
import { nextWakeup, pending } from '../../src/playbook/postmortem-core/due';
import {
  isTerminal,
  openState,
  parseInput,
  type PostmortemWorkflowState,
} from '../../src/playbook/postmortem-core/state';
import { ledgerRecord, nextLedgerWrite, statusOf } from '../../src/playbook/postmortem-core/views';

const H = 3_600_000;
const T0 = Date.parse('2026-12-01T14:00:00Z'); // 09:00 COT
const at = (hours: number) => T0 + hours * H;
const tick: Input = { type: 'tick' };

function open(over: Record<string, unknown> = {}, startedAt = T0): PostmortemWorkflowState {
  const parsed = parseInput({
    incidentId: 'incident-db@2026-12-01T13:00:00.000Z',
    title: 'Database down',
    severity: 'P0',
    resolvedAt: new Date(T0).toISOString(),
    owner: 'alice',
    ...over,
  });
  if (!parsed.ok) throw new Error(parsed.reason);
  return openState(parsed.input, startedAt);
}

interface Sent {
  at: number;
  step: string;
  target: string;
  text: string;
}

/**
 * The workflow's loop without Temporal: a tick, then each timer fires at its target and ticks, with
 * people's actions at their own times (a tick follows each, on the decision clock), up to `until`.
 */
function run(
  state: PostmortemWorkflowState,
  until: number,
  actions: { at: number; name: ActionName; payload: unknown }[] = [],
) {
  let s = state;
  const sent: Sent[] = [];
  const apply = (input: Input, now?: number) => {
    const r = decide(s, input, now);
    s = r.state;
    for (const e of r.effects)
      if (e.type === 'notify') {
        const n = e.notification;
        sent.push({ at: Date.parse(n.createdAt), step: n.step, target: n.target, text: n.text });
      }
    return r.outcome;
  };
  const outcomes = [];
  const queue = [...actions].sort((a, b) => a.at - b.at);
  apply(tick);
  while (!isTerminal(s)) {
    const wake = nextWakeup(s);
    const next = queue[0];
    if (next && next.at <= until && (wake === null || next.at < wake)) {
      queue.shift();
      outcomes.push(
        apply(
          { type: 'action', name: next.name, payload: next.payload, via: 'signal' },
          Math.max(next.at, s.clock),
        ),
      );
      apply(tick);
      continue;
    }
    if (wake === null || wake > until) break;
    apply({ type: 'clock', at: wake });
    apply(tick);
  }
  return { s, sent, outcomes, steps: sent.map((n) => `${n.step}:${n.target}@${(n.at - T0) / H}h`) };
}

describe('6.1 before the post-mortem is written', () => {
  test('P0: announced, reminded at 50% and 90% of 48 h, escalated to the eng lead at the deadline, again every 24 h', () => {
    const { s, steps, sent } = run(open(), at(100));
    expect(steps).toEqual([
      'postmortem-scheduled:channel@0h',
      'postmortem-reminder-50:channel@24h',
      'postmortem-reminder-90:channel@43.2h',
      'postmortem-overdue:eng-lead@48h',
      'postmortem-overdue:channel@48h',
      'postmortem-overdue-1:eng-lead@72h',
      'postmortem-overdue-1:channel@72h',
      'postmortem-overdue-2:eng-lead@96h',
      'postmortem-overdue-2:channel@96h',
    ]);
    // A person owner is named in the channel; the eng lead is paged as the role.
    expect(sent[0]!.text).toMatch(/^@alice :memo: 6\.1 post-mortem required \(mandatory\)/);
    expect(sent.find((n) => n.target === 'eng-lead')!.text).toMatch(/^:warning: OVERDUE/);
    expect(s).toMatchObject({ status: 'overdue', overdueEscalatedAt: at(48), overdueRepeats: 2 });
    expect(s.reminders.map((r) => [r.sentAt, r.skipped])).toEqual([
      [at(24), false],
      [at(43.2), false],
    ]);
  });

  test('the eng lead as owner is told once per step', () => {
    const { steps } = run(open({ owner: undefined }), at(49));
    expect(steps.filter((x) => x.startsWith('postmortem-overdue:'))).toEqual([
      'postmortem-overdue:eng-lead@48h',
    ]);
  });

  test('a late timer sends the latest reminder only; a deadline passed meanwhile skips them all', () => {
    const started = decide(open(), tick).state;
    const late = decide(decide(started, { type: 'clock', at: at(44) }).state, tick);
    expect(late.effects.flatMap((e) => (e.type === 'notify' ? [e.notification.step] : []))).toEqual([
      'postmortem-reminder-90',
    ]);
    expect(late.state.reminders.map((r) => r.skipped)).toEqual([true, false]);

    const down = decide(decide(started, { type: 'clock', at: at(50) }).state, tick);
    expect(down.effects.flatMap((e) => (e.type === 'notify' ? [e.notification.step] : []))).toEqual([
      'postmortem-overdue',
      'postmortem-overdue',
    ]);
    expect(down.state.reminders.every((r) => r.skipped && r.sentAt === null)).toBe(true);
    expect(down.state.overdueEscalatedAt).toBe(at(50));
  });

  test('started after the resolution (the incident closed later): what fell due meanwhile is decided at once', () => {
    const { steps } = run(open({}, at(30)), at(30));
    expect(steps).toEqual(['postmortem-scheduled:channel@30h', 'postmortem-reminder-50:channel@30h']);
  });

  test('no overdue repeat when the policy says once', () => {
    const { steps } = run(open({ reminders: { overdueRepeatHours: null } }), at(200));
    expect(steps.filter((x) => x.startsWith('postmortem-overdue'))).toHaveLength(2);
  });

  test('P2 recommended: lapses at 2 weeks without an eng-lead escalation; P3: not required, nothing to do', () => {
    const p2 = run(open({ severity: 'P2' }), at(24 * 30));
    expect(p2.s.status).toBe('lapsed');
    expect(p2.steps.at(-1)).toBe(`postmortem-lapsed:channel@${14 * 24}h`);
    expect(p2.sent.some((n) => n.target === 'eng-lead')).toBe(false);
    expect(nextWakeup(p2.s)).toBeNull();

    const p3 = open({ severity: 'P3' });
    expect(p3).toMatchObject({ status: 'not-required', dueAt: null });
    expect(p3.events.map((e) => e.type)).toEqual(['postmortem.not-required']);
    expect(isTerminal(p3)).toBe(true);
    expect(decide(p3, tick).effects).toEqual([]);
    expect(nextWakeup(p3)).toBeNull();
  });
});

describe('6.2-6.3 completion and action items', () => {
  const complete = (actionItems: unknown[], by = 'alice') => ({
    name: 'completePostmortem' as const,
    payload: { by, documentUrl: 'https://wiki.example.com/pm/db', actionItems },
  });
  const done = (payload: Record<string, unknown>) => ({ name: 'actionItemDone' as const, payload });

  test('each item is assigned at the completion, reminded before due, escalated when overdue and again weekly, tracked until done', () => {
    const items = [
      { title: 'Alert on disk usage', owner: 'bob', dueDate: '2026-12-20' }, // due 2026-12-21 05:00 UTC
      { title: 'Failover runbook', owner: 'carol', dueDate: '2026-12-10' }, // due 2026-12-11 05:00 UTC
    ];
    const due1 = Date.parse('2026-12-21T05:00:00Z');
    const due2 = Date.parse('2026-12-11T05:00:00Z');
    const { s, sent, outcomes } = run(open({ severity: 'P1' }), due2 + 8 * 24 * H, [
      { at: at(2), ...complete(items) },
      { at: due2 + 7.5 * 24 * H, ...done({ by: 'bob', id: 'AI-1' }) },
    ]);
    expect(outcomes).toEqual([
      { ok: true, message: 'post-mortem completed' },
      { ok: true, message: 'action item AI-1 done' },
    ]);
    const of = (step: string) => sent.filter((n) => n.step === step).map((n) => [n.target, n.at]);
    expect(of('postmortem-completed')).toEqual([['channel', at(2)]]);
    expect(sent.find((n) => n.step === 'postmortem-completed')!.text).toContain(
      '- [ ] AI-2 Failover runbook (owner carol, due 2026-12-10)',
    );
    expect(of('action-AI-1-assigned')).toEqual([['channel', at(2)]]);
    expect(of('action-AI-2-assigned')).toEqual([['channel', at(2)]]);
    expect(of('action-AI-2-reminder-168h')).toEqual([['channel', due2 - 168 * H]]);
    expect(of('action-AI-2-reminder-24h')).toEqual([['channel', due2 - 24 * H]]);
    expect(of('action-AI-2-overdue')).toEqual([
      ['eng-lead', due2],
      ['channel', due2],
    ]);
    expect(of('action-AI-2-overdue-1')).toEqual([
      ['eng-lead', due2 + 168 * H],
      ['channel', due2 + 168 * H],
    ]);
    // AI-1 was done before its 24 h reminder and its due time: neither comes.
    expect(of('action-AI-1-reminder-168h')).toEqual([['channel', due1 - 168 * H]]);
    expect(of('action-AI-1-reminder-24h')).toEqual([]);
    expect(s.status).toBe('tracking');
    expect(s.reminders.every((r) => r.skipped)).toBe(true);

    const last = decide(
      s,
      { type: 'action', name: 'actionItemDone', payload: { by: 'carol', index: 1 }, via: 'update' },
      due2 + 9 * 24 * H,
    );
    expect(last.state.status).toBe('done');
    expect(last.effects.flatMap((e) => (e.type === 'notify' ? [e.notification.step] : []))).toEqual([
      'postmortem-actions-done',
    ]);
    expect(isTerminal(last.state)).toBe(true);
  });

  test('completed while the decision clock lags behind: items are taken at the completion time', () => {
    // The clock is still at the start (no timer fired); the completion comes 5 h later.
    const started = decide(
      open({ severity: 'P1', reminders: { actionItemBeforeDueHours: [168, 24] } }),
      tick,
    ).state;
    const items = [
      { title: 'Soon', owner: 'bob', dueDate: '2026-12-03' }, // due T0 + 63 h: its 168 h reminder has passed
      { title: 'Late already', owner: 'carol', dueDate: '2026-11-30' }, // due T0 - 9 h: overdue at once
    ];
    const c = decide(started, { type: 'action', ...complete(items), via: 'signal' }, at(5));
    const t = decide(c.state, tick);
    expect(t.state.clock).toBe(T0);
    const [soon, late] = t.state.items;
    expect(soon).toMatchObject({ assignedAt: at(5), overdueEscalatedAt: null });
    expect(soon!.reminders.map((r) => [r.step, r.skipped])).toEqual([
      ['action-AI-1-reminder-168h', true],
      ['action-AI-1-reminder-24h', false],
    ]);
    expect(late).toMatchObject({ assignedAt: at(5), overdueEscalatedAt: at(5), lastOverdueAt: at(5) });
    expect(
      t.effects.flatMap((e) =>
        e.type === 'notify' ? [`${e.notification.step}:${e.notification.target}`] : [],
      ),
    ).toEqual([
      'action-AI-1-assigned:channel',
      'action-AI-2-assigned:channel',
      'action-AI-2-overdue:eng-lead',
      'action-AI-2-overdue:channel',
    ]);
    expect(nextWakeup(t.state)).toBe(Date.parse('2026-12-04T05:00:00Z') - 24 * H);
  });

  test('completed late: recorded as after its deadline, and nothing more is escalated', () => {
    const { s, steps } = run(open(), at(100), [{ at: at(60), ...complete([]) }]);
    expect(s.status).toBe('done');
    expect(s.events.find((e) => e.type === 'postmortem.completed')!.text).toContain('(after its deadline)');
    expect(steps.filter((x) => x.startsWith('postmortem-overdue'))).toEqual([
      'postmortem-overdue:eng-lead@48h',
      'postmortem-overdue:channel@48h',
    ]);
    expect(steps.at(-1)).toBe('postmortem-completed:channel@60h');
  });
});

describe('refused input', () => {
  const act = (s: PostmortemWorkflowState, name: ActionName, payload: unknown, now = s.clock) =>
    decide(s, { type: 'action', name, payload, via: 'signal' }, now);

  test('a malformed payload is refused with the field at fault and changes nothing but the record', () => {
    const s = decide(open(), tick).state;
    const cases: [ActionName, unknown, RegExp][] = [
      ['completePostmortem', 'garbage', /^invalid completePostmortem payload: \(payload\)/],
      [
        'completePostmortem',
        {
          by: 'alice',
          documentUrl: 'https://x.example/pm',
          actionItems: [{ title: 'x', dueDate: '2026-12-01' }],
        },
        /actionItems\.0\.owner: 6\.3: every action item must be assigned to a specific owner/,
      ],
      [
        'completePostmortem',
        {
          by: 'alice',
          documentUrl: 'https://x.example/pm',
          actionItems: [{ title: 'x', owner: 'bob', dueDate: '2026-02-30' }],
        },
        /actionItems\.0\.dueDate: 6\.3: every action item must be given a due date/,
      ],
      ['completePostmortem', { by: 'alice', documentUrl: 'ftp://x', actionItems: [] }, /documentUrl/],
      ['actionItemDone', { by: 'bob', index: 0, id: 'AI-1' }, /give exactly one of index or id/],
    ];
    for (const [name, payload, reason] of cases) {
      const r = act(s, name, payload);
      expect(r.outcome).toMatchObject({ ok: false, kind: 'invalid', reason: expect.stringMatching(reason) });
      expect(r.effects).toEqual([]);
      expect({ ...r.state, events: s.events }).toEqual(s);
      expect(r.state.events.at(-1)).toMatchObject({
        type: 'signal.rejected',
        data: { action: name, via: 'signal' },
      });
      expect(validateAction(s, name, payload)).toEqual(r.outcome);
    }
  });

  test('well-formed but refused by the state: named, recorded with the sender', () => {
    const ok = {
      by: 'alice',
      documentUrl: 'https://x.example/pm',
      actionItems: [{ title: 'x', owner: 'bob', dueDate: '2026-12-20' }],
    };
    const s = decide(open(), tick).state;
    const notYet = act(s, 'actionItemDone', { by: 'bob', index: 0 });
    expect(notYet.outcome).toEqual({
      ok: false,
      kind: 'rejected',
      reason: 'the post-mortem is not completed yet: it has no action items',
    });
    expect(notYet.state.events.at(-1)).toMatchObject({
      actor: 'bob',
      text: 'actionItemDone rejected: the post-mortem is not completed yet: it has no action items',
    });
    const completed = decide(act(s, 'completePostmortem', ok).state, tick).state;
    expect(act(completed, 'completePostmortem', ok).outcome).toMatchObject({
      reason: 'already completed by alice',
    });
    expect(act(completed, 'actionItemDone', { by: 'bob', id: 'AI-9' }).outcome).toMatchObject({
      reason: 'no action item with id "AI-9"',
    });
    expect(act(completed, 'actionItemDone', { by: 'bob', index: 3 }).outcome).toMatchObject({
      reason: 'no action item at index 3',
    });
    const doneOnce = act(completed, 'actionItemDone', { by: 'bob', index: 0 }).state;
    expect(act(doneOnce, 'actionItemDone', { by: 'bob', id: 'AI-1' }).outcome).toMatchObject({
      kind: 'rejected',
      reason: 'action item AI-1 already done by bob',
    });
    expect(act(open({ severity: 'P3' }), 'completePostmortem', ok).outcome).toMatchObject({
      reason: 'no post-mortem is required for P3 (6.1)',
    });
    const lapsed = run(open({ severity: 'P2' }), at(24 * 15)).s;
    expect(act(lapsed, 'completePostmortem', ok).outcome).toMatchObject({
      reason: 'the recommended post-mortem window has passed',
    });
  });

  test('a bad start is refused with the fields at fault', () => {
    expect(parseInput({ incidentId: 'x', title: 't', severity: 'P7', resolvedAt: 'yesterday' })).toEqual({
      ok: false,
      reason: expect.stringMatching(/^invalid postmortemWorkflow input: severity: .*; resolvedAt: /),
    });
    expect(parseInput(null)).toMatchObject({ ok: false });
  });
});

describe('views', () => {
  test('the status snapshot and the ledger row follow the state; each write has a new version', () => {
    const s = run(open(), at(50)).s;
    expect(statusOf(s)).toMatchObject({
      status: 'overdue',
      timeline: 'Within 48 hours',
      dueAt: new Date(at(48)).toISOString(),
      overdueEscalatedAt: new Date(at(48)).toISOString(),
      reminders: [
        { step: 'postmortem-reminder-50', sentAt: new Date(at(24)).toISOString(), skipped: false },
        { step: 'postmortem-reminder-90', sentAt: new Date(at(43.2)).toISOString(), skipped: false },
      ],
    });
    const w = nextLedgerWrite(s, 'postmortem-x');
    expect(w.state.version).toBe(s.version + 1);
    expect(w.record).toEqual(ledgerRecord(w.state, 'postmortem-x'));
    expect(w.record).toMatchObject({ workflowId: 'postmortem-x', remindersSent: 2, status: 'overdue' });
    expect(nextLedgerWrite(w.state, 'postmortem-x').record.version).toBe(w.record.version + 1);
  });
});

// Random runs: a tick leaves nothing due at the clock, the wake-up is the earliest pending time, and a
// tick before it does nothing while one at it does something. decide never mutates what it is given.
describe('properties', () => {
  const step = fc.oneof(
    fc.record({ kind: fc.constant('fire' as const) }),
    fc.record({
      kind: fc.constant('complete' as const),
      dueInDays: fc.array(fc.integer({ min: -3, max: 30 }), { maxLength: 4 }),
      lagHours: fc.nat(200),
    }),
    fc.record({ kind: fc.constant('done' as const), index: fc.nat(4), lagHours: fc.nat(200) }),
    fc.record({ kind: fc.constant('garbage' as const) }),
  );
  const scenario = fc.record({
    severity: fc.constantFrom('P0', 'P1', 'P2', 'P3'),
    timeScale: fc.constantFrom(1, 60, 3600),
    overdueRepeatHours: fc.option(fc.integer({ min: 1, max: 100 })),
    itemRepeatHours: fc.option(fc.integer({ min: 1, max: 200 })),
    startLagHours: fc.nat(400),
    steps: fc.array(step, { maxLength: 25 }),
  });
  const dateIn = (days: number) => new Date(T0 + days * 24 * H - 5 * H).toISOString().slice(0, 10);

  test('due work and wake-up agree; decide is pure', () => {
    fc.assert(
      fc.property(scenario, (sc) => {
        let s = open(
          {
            severity: sc.severity,
            timeScale: sc.timeScale,
            reminders: {
              overdueRepeatHours: sc.overdueRepeatHours,
              actionItemOverdueRepeatHours: sc.itemRepeatHours,
            },
          },
          T0 + (sc.startLagHours * H) / sc.timeScale,
        );
        const apply = (input: Input, now?: number) => {
          const before = structuredClone(s);
          const r = decide(s, input, now);
          expect(s).toEqual(before);
          s = r.state;
          return r;
        };
        const tickAndCheck = () => {
          apply(tick);
          expect(pending(s).every((w) => w.at > s.clock)).toBe(true);
          const wake = nextWakeup(s);
          expect(wake).toBe(pending(s).length ? Math.min(...pending(s).map((w) => w.at)) : null);
          if (wake === null) return;
          const early = decide(decide(s, { type: 'clock', at: (s.clock + wake) / 2 }).state, tick);
          expect(early.effects).toEqual([]);
          const due = decide(decide(s, { type: 'clock', at: wake }).state, tick);
          expect(due.effects.some((e) => e.type === 'notify')).toBe(true);
        };
        tickAndCheck();
        for (const st of sc.steps) {
          const stamp = (lag: number) => s.clock + (lag * H) / sc.timeScale;
          if (st.kind === 'fire') {
            const wake = nextWakeup(s);
            if (wake === null) continue;
            apply({ type: 'clock', at: wake });
          } else if (st.kind === 'complete') {
            const actionItems = st.dueInDays.map((d, i) => ({
              title: `item ${i}`,
              owner: `owner-${i}`,
              dueDate: dateIn(d),
            }));
            const payload = { by: 'alice', documentUrl: 'https://x.example/pm', actionItems };
            apply({ type: 'action', name: 'completePostmortem', payload, via: 'update' }, stamp(st.lagHours));
          } else if (st.kind === 'done') {
            apply(
              {
                type: 'action',
                name: 'actionItemDone',
                payload: { by: 'bob', index: st.index },
                via: 'signal',
              },
              stamp(st.lagHours),
            );
          } else apply({ type: 'action', name: 'actionItemDone', payload: 42, via: 'signal' });
          tickAndCheck();
          expect(s.events.length).toBeLessThanOrEqual(500);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('the clock only moves forward', () => {
    const s = decide(open(), { type: 'clock', at: at(10) }).state;
    expect(decide(s, { type: 'clock', at: at(5) }).state.clock).toBe(at(10));
  });
});
