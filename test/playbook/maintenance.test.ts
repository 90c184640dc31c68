// Maintenance windows' pure rules (src/playbook/maintenance.ts and the contract): Alertmanager's matcher
// semantics over labels and the routed incident's fields, where a window stands in time, and the inputs a
// window refuses.
import fc from 'fast-check';
import { windowInputSchema, type Matcher } from '../../src/playbook/contract/maintenance';
import {
  compileMatchers,
  matchersText,
  windowPhase,
  type MatchSubject,
} from '../../src/playbook/maintenance';

const tradingDown: MatchSubject = {
  alertname: 'TradingAPIDown',
  labels: { service: 'trading-api', job: 'trading', severity: 'critical' },
  severity: 'P0',
  kind: 'trading-system-down',
};
const m = (name: string, op: Matcher['op'], value: string): Matcher => ({ name, op, value });

describe('matchers', () => {
  it('= != =~ !~ over labels, alertname, the routed severity and kind; all must hold', () => {
    expect(compileMatchers([m('service', '=', 'trading-api')])(tradingDown)).toBe(true);
    expect(compileMatchers([m('service', '=', 'inference-api')])(tradingDown)).toBe(false);
    expect(compileMatchers([m('alertname', '=~', 'Trading.*')])(tradingDown)).toBe(true);
    // Anchored: a partial match is no match.
    expect(compileMatchers([m('alertname', '=~', 'API')])(tradingDown)).toBe(false);
    expect(compileMatchers([m('alertname', '!~', 'Model.*')])(tradingDown)).toBe(true);
    // `severity` is the playbook severity the route gives, not the label of the same name.
    expect(compileMatchers([m('severity', '=', 'P0')])(tradingDown)).toBe(true);
    expect(compileMatchers([m('severity', '=', 'critical')])(tradingDown)).toBe(false);
    expect(compileMatchers([m('kind', '!=', 'trading-system-down')])(tradingDown)).toBe(false);
    expect(
      compileMatchers([m('service', '=', 'trading-api'), m('alertname', '=', 'ModelDrift')])(tradingDown),
    ).toBe(false);
  });

  it('an absent label is the empty string, as in Alertmanager', () => {
    expect(compileMatchers([m('team', '=', '')])(tradingDown)).toBe(true);
    expect(compileMatchers([m('team', '!=', '')])(tradingDown)).toBe(false);
    expect(compileMatchers([m('team', '=~', 'desk|')])(tradingDown)).toBe(true);
  });

  it('property: `!=` and `!~` are exactly the negations of `=` and `=~`', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), (label, value) => {
        const s = { ...tradingDown, labels: { ...tradingDown.labels, x: label } };
        const safe = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        return (
          compileMatchers([m('x', '=', value)])(s) !== compileMatchers([m('x', '!=', value)])(s) &&
          compileMatchers([m('x', '=~', safe)])(s) !== compileMatchers([m('x', '!~', safe)])(s) &&
          compileMatchers([m('x', '=~', safe)])(s) === compileMatchers([m('x', '=', value)])(s)
        );
      }),
      { numRuns: 300, seed: 20261208 },
    );
  });

  it('reads back as operators write them', () => {
    expect(matchersText([m('service', '=', 'trading-api'), m('alertname', '=~', 'Trading.*')])).toBe(
      'service="trading-api", alertname=~"Trading.*"',
    );
  });
});

describe('a window in time', () => {
  const created = Date.parse('2026-12-08T14:00:00Z');
  const w = { startsAt: '2026-12-08T15:00:00Z', endsAt: '2026-12-08T16:00:00Z' };
  it('is scheduled, then active, then ended (on time or early)', () => {
    expect(windowPhase(w, created, Date.parse('2026-12-08T14:59:59Z'))).toBe('scheduled');
    expect(windowPhase(w, created, Date.parse('2026-12-08T15:00:00Z'))).toBe('active');
    expect(windowPhase(w, created, Date.parse('2026-12-08T16:00:00Z'))).toBe('ended');
    expect(
      windowPhase(w, created, Date.parse('2026-12-08T15:30:00Z'), Date.parse('2026-12-08T15:20:00Z')),
    ).toBe('ended');
    expect(windowPhase({ endsAt: w.endsAt }, created, created)).toBe('active');
  });
});

describe('window input', () => {
  const base = { endsAt: '2026-12-08T16:00:00Z', reason: 'deploy model v7', by: 'ana' };
  it('takes a window with a start, an end, a reason and who made it', () => {
    const r = windowInputSchema.safeParse({ ...base, matchers: [m('service', '=', 'trading-api')] });
    expect(r.success).toBe(true);
  });
  it('refuses what would silence everything, a bad expression, an end before the start, over 7 days', () => {
    const issues = (input: unknown) =>
      windowInputSchema.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues({ ...base, matchers: [m('alertname', '=~', '.*')] })).toEqual([
      expect.stringMatching(/^matchers: the matchers would silence every alert/),
    ]);
    expect(issues({ ...base, matchers: [m('service', '!=', 'x')] })).toHaveLength(1);
    expect(issues({ ...base, matchers: [m('alertname', '=~', '(')] })).toEqual([
      expect.stringMatching(/^matchers\.0\.value: invalid regular expression/),
    ]);
    expect(
      issues({ ...base, startsAt: '2026-12-08T17:00:00Z', matchers: [m('service', '=', 'trading-api')] }),
    ).toEqual(['endsAt: endsAt must be after startsAt']);
    expect(
      issues({
        ...base,
        startsAt: '2026-11-30T00:00:00Z',
        matchers: [m('service', '=', 'trading-api')],
      }),
    ).toEqual(['endsAt: a window lasts at most 7 days']);
    expect(issues({ ...base, matchers: [] })).toEqual(['matchers: a window needs at least one matcher']);
  });
});
