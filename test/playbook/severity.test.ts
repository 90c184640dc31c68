import { SEVERITY_TABLE, targetDurationMs, DEFAULT_CALENDAR } from '../../src/playbook/severity';
import { businessDaysDeadline, formatCot, formatDuration, isBusinessDay } from '../../src/playbook/time';
import { POSTMORTEM_RULES, postmortemDueAt } from '../../src/playbook/postmortem';
import { resolvePolicy, policyOverridesSchema, DEFAULT_POLICY } from '../../src/playbook/policy';

const MIN = 60_000;
const cot = (y: number, m: number, d: number, h: number, min = 0) => Date.UTC(y, m - 1, d, h + 5, min);

test('1.1 response and resolution targets', () => {
  const at = cot(2026, 11, 25, 10); // a Wednesday
  const minutes = (t: (typeof SEVERITY_TABLE)['P0']['responseTarget']) =>
    targetDurationMs(t, at, DEFAULT_CALENDAR) / MIN;
  expect(['P0', 'P1', 'P2'].map((s) => minutes(SEVERITY_TABLE[s as 'P0'].responseTarget))).toEqual([
    5, 15, 60,
  ]);
  expect(['P0', 'P1', 'P2'].map((s) => minutes(SEVERITY_TABLE[s as 'P0'].resolutionTarget))).toEqual([
    30, 120, 480,
  ]);
});

test('P3 "next business day" and "5 business days" count Monday-Friday in COT, ending 18:00 COT', () => {
  // Friday 16:00 COT -> response due Monday 18:00 COT; resolution due the next Friday 18:00 COT.
  const friday = cot(2026, 11, 27, 16);
  expect(
    formatCot(friday + targetDurationMs(SEVERITY_TABLE.P3.responseTarget, friday, DEFAULT_CALENDAR)),
  ).toBe('2026-11-30 18:00 COT');
  expect(
    formatCot(friday + targetDurationMs(SEVERITY_TABLE.P3.resolutionTarget, friday, DEFAULT_CALENDAR)),
  ).toBe('2026-12-04 18:00 COT');
  // Saturday 23:30 COT is Sunday 04:30 UTC: the COT calendar decides. Next business day is Monday.
  const saturdayNight = cot(2026, 11, 28, 23, 30);
  expect(formatCot(businessDaysDeadline(saturdayNight, 1, 18))).toBe('2026-11-30 18:00 COT');
  // A configured holiday is skipped (8 Dec, Immaculate Conception).
  expect(formatCot(businessDaysDeadline(cot(2026, 12, 7, 9), 1, 18, ['2026-12-08']))).toBe(
    '2026-12-09 18:00 COT',
  );
  expect(isBusinessDay(cot(2026, 11, 29, 12))).toBe(false);
  expect(isBusinessDay(cot(2026, 11, 30, 0, 30))).toBe(true);
});

test('durations render as the 4.3 template asks', () => {
  expect(formatDuration(0)).toBe('0 minutes');
  expect(formatDuration(61 * MIN)).toBe('1 hour 1 minute');
  expect(formatDuration(125 * MIN)).toBe('2 hours 5 minutes');
});

test('6.1 post-mortem rules', () => {
  expect(
    Object.fromEntries(
      Object.entries(POSTMORTEM_RULES).map(([k, v]) => [
        k,
        [v.requirement, v.dueAfterMs && v.dueAfterMs / 3_600_000],
      ]),
    ),
  ).toEqual({
    P0: ['mandatory', 48],
    P1: ['mandatory', 168],
    P2: ['recommended', 336],
    P3: ['none', null],
  });
  expect(postmortemDueAt('P0', 0, 60)).toBe((48 * 60 * MIN) / 60);
  expect(postmortemDueAt('P3', 0, 1)).toBeNull();
});

test('policy overrides merge per severity and bad overrides are named', () => {
  const p = resolvePolicy({ repageEveryMinutes: { P2: 30 }, channels: ['outbox', 'slack'] });
  expect(p.repageEveryMinutes).toEqual({ ...DEFAULT_POLICY.repageEveryMinutes, P2: 30 });
  expect(p.escalationMatrix).toEqual(DEFAULT_POLICY.escalationMatrix);
  const bad = policyOverridesSchema.safeParse({
    escalationMatrix: { P0: [{ afterMinutes: 0, roles: ['janitor'] }] },
  });
  expect(bad.success).toBe(false);
  expect(bad.error?.issues[0].path).toEqual(['escalationMatrix', 'P0', 0, 'roles', 0]);
  expect(policyOverridesSchema.safeParse({ reopenWindowMinuts: 5 }).success).toBe(false);
});
