// A severity change reaches the channel and every engaged role, and the pages it makes due are stamped with
// the time they were decided (pure lifecycle core, no server).
import { decide } from '../../src/playbook/lifecycle/decide';
import { action, min, notifications, opened, runAll, tick } from './lifecycle-helpers';

const at = (ms: number) => new Date(ms).toISOString();

describe('severity changes reach the channels', () => {
  test('P2 -> P1 after 16.5 minutes: the overdue step is paged at once, stamped 16.5; the acknowledger is told', () => {
    const p2 = opened({ severity: 'P2' }).state;
    const acked = decide(p2, action('acknowledge', { by: 'alice' }), min(2)).state;
    // The shell's decision clock is at 15.0 (the last timer); the raise arrives at 16.5.
    const raise = decide(
      acked,
      action('setSeverity', { by: 'bob', severity: 'P1', reason: 'trading halted' }),
      min(16.5),
    );
    const ns = notifications(raise.effects.map((effect) => ({ effect })));
    const page = ns.find((n) => n.kind === 'page');
    expect(page).toMatchObject({
      target: 'oncall-secondary',
      step: 'escalate-P1-15m',
      createdAt: at(min(16.5)),
    });
    expect(raise.state.engagements.find((e) => e.role === 'oncall-secondary')?.at).toBe(min(16.5));
    const told = ns.filter((n) => n.kind === 'severity');
    expect(told.map((n) => n.target)).toEqual(['channel', 'oncall-primary']);
    expect(new Set(told.map((n) => n.idempotencyKey)).size).toBe(2);
    const text = told[0]!.text;
    expect(text).toContain(':arrow_up: **SEVERITY RAISED: Trading API down**');
    expect(text).toContain('**Severity**: P1 (was P2)');
    expect(text).toContain('**Changed By**: bob');
    expect(text).toContain('**Reason**: trading halted');
    expect(text).toContain('**Response Target**: 15 minutes');
    expect(text).toContain('**Acknowledged By**: alice');
    expect(text).toContain('**On-Call**: @oncall-primary, @oncall-secondary');
    expect(text).toContain('- Paged now: @oncall-secondary');
    expect(text).toContain('- Next: @eng-lead at 2026-12-01 09:30 COT');
    expect(told[0]!.severity).toBe('P1');
    // The tick that follows, on the lagging clock, has nothing left to page.
    const after = decide(raise.state, tick, min(15));
    expect(notifications(after.effects.map((effect) => ({ effect })))).toEqual([]);
  });

  test('P0 -> P2: lowered, told to the channel and the engaged roles, nobody paged', () => {
    const { state, effects } = runAll(opened({ severity: 'P0' }).state, [
      { input: tick, at: min(16) },
      { input: action('setSeverity', { by: 'dave', severity: 'P2', reason: 'contained' }), at: min(20) },
    ]);
    const ns = notifications(effects).filter((n) => n.createdAt === at(min(20)));
    expect(ns.map((n) => `${n.kind}:${n.target}`)).toEqual([
      'severity:channel',
      'severity:oncall-primary',
      'severity:eng-lead',
    ]);
    expect(ns[0]!.text).toContain(':arrow_down: **SEVERITY LOWERED: Trading API down**');
    expect(ns[0]!.text).toContain('- Next: @oncall-secondary at 2026-12-01 10:00 COT');
    expect(state.severity).toBe('P2');
  });

  test('a more severe alert joining: told as a change by the ingress, with the alert as the reason', () => {
    const r = decide(
      opened({ severity: 'P2' }).state,
      action('alertFired', {
        alert: { fingerprint: 'b', name: 'MarketDataVeryStaleCritical' },
        severity: 'P1',
        title: 'Market data very stale',
      }),
      min(5),
    );
    const told = notifications(r.effects.map((effect) => ({ effect }))).filter((n) => n.kind === 'severity');
    expect(told.map((n) => n.target)).toEqual(['channel', 'oncall-primary']);
    expect(told[0]!.text).toContain('**SEVERITY RAISED: Market data very stale**');
    expect(told[0]!.text).toContain('**Changed By**: ingress');
    expect(told[0]!.text).toContain('**Reason**: MarketDataVeryStaleCritical is P1');
  });

  test('a resolved incident re-rated: the channel is told, nobody is paged', () => {
    const resolved = decide(opened({ severity: 'P2' }).state, action('resolve', { by: 'a' }), min(5)).state;
    const r = decide(
      resolved,
      action('setSeverity', { by: 'a', severity: 'P0', reason: 'it was worse' }),
      min(6),
    );
    expect(
      notifications(r.effects.map((effect) => ({ effect }))).map((n) => `${n.kind}:${n.target}`),
    ).toEqual(['severity:channel']);
  });

  test('an incident opened before the patch: recorded only, the step paged by the next tick on its clock', () => {
    const p2 = opened({ severity: 'P2' }, {}).state;
    const raise = decide(p2, action('setSeverity', { by: 'bob', severity: 'P1', reason: 'r' }), min(16.5));
    expect(raise.effects).toEqual([]);
    const page = notifications(decide(raise.state, tick, min(15)).effects.map((effect) => ({ effect }))).find(
      (n) => n.kind === 'page',
    );
    expect(page?.createdAt).toBe(at(min(15)));
  });
});
