// 1.1 P3 "next business day" on the desk's calendar: Colombia's public holidays by default (Bogotá), including
// those moved to Monday (Ley Emiliani) and those that follow Easter; configurable off or extended.
import { colombianHolidays } from '../../src/playbook/holidays';
import { DEFAULT_POLICY, policyOverridesSchema, resolvePolicy } from '../../src/playbook/policy';
import { DEFAULT_CALENDAR, SEVERITY_TABLE, targetDurationMs } from '../../src/playbook/severity';
import { COT_OFFSET_MS, formatCot } from '../../src/playbook/time';

const cot = (y: number, m: number, d: number, h = 9) => Date.UTC(y, m - 1, d, h) - COT_OFFSET_MS;
const p3Response = (at: number, cal = DEFAULT_CALENDAR) =>
  formatCot(at + targetDurationMs(SEVERITY_TABLE.P3.responseTarget, at, cal));
const p3Resolution = (at: number, cal = DEFAULT_CALENDAR) =>
  formatCot(at + targetDurationMs(SEVERITY_TABLE.P3.resolutionTarget, at, cal));

test("Colombia's public holidays 2026 and 2027, as observed (moved to Monday where the law says)", () => {
  // Written out from the official calendar, not from the library: the library must agree.
  expect([...colombianHolidays(2026)].sort()).toEqual([
    '2026-01-01',
    '2026-01-12',
    '2026-03-23',
    '2026-04-02',
    '2026-04-03',
    '2026-05-01',
    '2026-05-18',
    '2026-06-08',
    '2026-06-15',
    '2026-06-29',
    '2026-07-20',
    '2026-08-07',
    '2026-08-17',
    '2026-10-12',
    '2026-11-02',
    '2026-11-16',
    '2026-12-08',
    '2026-12-25',
  ]);
  expect([...colombianHolidays(2027)].sort()).toEqual([
    '2027-01-01',
    '2027-01-11',
    '2027-03-22',
    '2027-03-25',
    '2027-03-26',
    '2027-05-01',
    '2027-05-10',
    '2027-05-31',
    '2027-06-07',
    '2027-07-05',
    '2027-07-20',
    '2027-08-07',
    '2027-08-16',
    '2027-10-18',
    '2027-11-01',
    '2027-11-15',
    '2027-12-08',
    '2027-12-25',
  ]);
});

test('a P3 opened on Mon 7 Dec 2026 is due Wed 9 Dec (8 Dec is Inmaculada Concepción); Christmas Eve is due the 28th', () => {
  expect(DEFAULT_POLICY.holidayCalendar).toBe('CO');
  expect(p3Response(cot(2026, 12, 7))).toBe('2026-12-09 18:00 COT');
  expect(p3Response(cot(2026, 12, 24))).toBe('2026-12-28 18:00 COT');
  // 5 business days from Thu 24 Dec: 28, 29, 30, 31 Dec, then 1 Jan is a holiday -> Mon 4 Jan.
  expect(p3Resolution(cot(2026, 12, 24))).toBe('2027-01-04 18:00 COT');
  // Holy week 2027: Thu 25 and Fri 26 March.
  expect(p3Response(cot(2027, 3, 24))).toBe('2027-03-29 18:00 COT');
  // A holiday moved to Monday (San Pedro y San Pablo, Tue 29 Jun 2027 -> Mon 5 Jul).
  expect(p3Response(cot(2027, 7, 2))).toBe('2027-07-06 18:00 COT');
});

test('the calendar is configurable: none (weekends and configured days only), or extra days besides it', () => {
  const none = { ...DEFAULT_CALENDAR, holidayCalendar: 'none' as const };
  expect(p3Response(cot(2026, 12, 7), none)).toBe('2026-12-08 18:00 COT');
  const extra = { ...DEFAULT_CALENDAR, holidays: ['2026-12-09'] };
  expect(p3Response(cot(2026, 12, 7), extra)).toBe('2026-12-10 18:00 COT');
  expect(resolvePolicy({ holidayCalendar: 'none' }).holidayCalendar).toBe('none');
  const bad = policyOverridesSchema.safeParse({ holidayCalendar: 'US' });
  expect(bad.success).toBe(false);
  expect(JSON.stringify(bad.error?.issues)).toContain('holidayCalendar');
  // A policy snapshotted before the calendar existed keeps its deadlines (no public holidays).
  const { holidayCalendar: _drop, ...old } = DEFAULT_CALENDAR;
  expect(p3Response(cot(2026, 12, 7), old)).toBe('2026-12-08 18:00 COT');
});
