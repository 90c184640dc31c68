// Public holidays of the desk's calendar (1.1 P3 "next business day", "5 business days"). The desk is in
// Bogotá: Colombia's public holidays, including the ones moved to the next Monday (Ley Emiliani) and those
// that follow Easter, come from a maintained library rather than a hand-kept list. Pure: a function of the
// year, so the workflow computes the same days in every replay.
import { getHolidaysForYear } from 'colombian-holidays';

/** `CO`: Colombia's public holidays; `none`: weekends and the configured `holidays` only. */
export const HOLIDAY_CALENDARS = ['CO', 'none'] as const;
export type HolidayCalendar = (typeof HOLIDAY_CALENDARS)[number];

const byYear = new Map<number, ReadonlySet<string>>();

/** The days (YYYY-MM-DD, as observed) that are public holidays in `year`. */
export function colombianHolidays(year: number): ReadonlySet<string> {
  let days = byYear.get(year);
  if (!days) {
    days = new Set(getHolidaysForYear(year).map((h) => h.celebrationDate));
    byYear.set(year, days);
  }
  return days;
}

/** Is the COT calendar day `dateKey` (YYYY-MM-DD) a public holiday of `calendar`? */
export function isPublicHoliday(dateKey: string, calendar: HolidayCalendar | undefined): boolean {
  if (calendar !== 'CO') return false;
  return colombianHolidays(Number(dateKey.slice(0, 4))).has(dateKey);
}
