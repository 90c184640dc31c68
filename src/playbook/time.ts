// Time arithmetic for the playbook, pure (no clock): callers pass the current time in.
// Colombia (America/Bogota, COT) is UTC-5 all year with no daylight saving, so a fixed offset is exact.
import { isPublicHoliday, type HolidayCalendar } from './holidays';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
export const COT_OFFSET_MS = -5 * HOUR_MS;

/** An instant as ISO 8601 UTC (how every time is kept in state, history and the ledger). */
export const isoOf = (ms: number): string => new Date(ms).toISOString();
export const iso = (ms: number | null): string | null => (ms === null ? null : isoOf(ms));

/** Wall-clock fields of an instant in COT. */
export function toCot(epochMs: number): {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  weekday: number;
} {
  const d = new Date(epochMs + COT_OFFSET_MS);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    weekday: d.getUTCDay(), // 0 = Sunday
  };
}

/** The instant at hh:mm COT on the COT calendar day that contains `epochMs`, shifted by `dayOffset` days. */
export function cotTimeOnDay(epochMs: number, dayOffset: number, hour: number, minute = 0): number {
  const c = toCot(epochMs);
  return Date.UTC(c.year, c.month - 1, c.day + dayOffset, hour, minute) - COT_OFFSET_MS;
}

function cotDateKey(epochMs: number): string {
  const c = toCot(epochMs);
  return `${c.year}-${String(c.month).padStart(2, '0')}-${String(c.day).padStart(2, '0')}`;
}

/**
 * Monday-Friday in COT, not a public holiday of `calendar` (Colombia's by default in the policy) and not a
 * configured holiday (YYYY-MM-DD, COT calendar).
 */
export function isBusinessDay(
  epochMs: number,
  holidays: readonly string[] = [],
  calendar?: HolidayCalendar,
): boolean {
  const { weekday } = toCot(epochMs);
  const key = cotDateKey(epochMs);
  return weekday !== 0 && weekday !== 6 && !holidays.includes(key) && !isPublicHoliday(key, calendar);
}

/**
 * The end of business (`endHour` COT) on the `n`-th business day after the day of `fromMs`.
 * 1.1 gives P3 "Next business day" (n = 1) to respond and "5 business days" (n = 5) to resolve.
 */
export function businessDaysDeadline(
  fromMs: number,
  n: number,
  endHour: number,
  holidays: readonly string[] = [],
  calendar?: HolidayCalendar,
): number {
  let offset = 0;
  let counted = 0;
  while (counted < n) {
    offset += 1;
    if (isBusinessDay(cotTimeOnDay(fromMs, offset, 12), holidays, calendar)) counted += 1;
  }
  return cotTimeOnDay(fromMs, offset, endHour);
}

/** "2026-11-27 09:15 COT" */
export function formatCot(epochMs: number): string {
  const c = toCot(epochMs);
  const p = (v: number) => String(v).padStart(2, '0');
  return `${c.year}-${p(c.month)}-${p(c.day)} ${p(c.hour)}:${p(c.minute)} COT`;
}

/** "2026-12-01 14:03 UTC (09:03 COT)": the Web UI shows UTC, the desk works in COT. */
export function formatUtcAndCot(epochMs: number): string {
  const iso = new Date(epochMs).toISOString();
  const cot = formatCot(epochMs);
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC (${cot.slice(11)})`;
}

/** "1 hour 5 minutes", "12 minutes", "0 minutes" (4.3 "Duration: [X hours Y minutes]"). */
export function formatDuration(ms: number): string {
  const totalMinutes = Math.max(0, Math.round(ms / MINUTE_MS));
  const h = Math.floor(totalMinutes / 60);
  const m = totalMinutes % 60;
  const hours = h > 0 ? `${h} hour${h === 1 ? '' : 's'} ` : '';
  return `${hours}${m} minute${m === 1 ? '' : 's'}`;
}
