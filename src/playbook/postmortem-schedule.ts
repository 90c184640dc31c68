// 6.1-6.3 timing, pure: when a post-mortem is due and reminded, when an action item falls due and is
// reminded. Every playbook duration is divided by `timeScale`, anchored at the incident's resolution: the
// playbook instant p maps to the real instant resolvedAt + (p - resolvedAt) / timeScale.
import type { Severity } from './severity';
import { POSTMORTEM_RULES, type PostmortemRule } from './postmortem';
import { COT_OFFSET_MS, HOUR_MS } from './time';

export interface PostmortemReminderPolicy {
  /** Reminders before the 6.1 deadline, as fractions of the window (0.5 = halfway). */
  atFractions: number[];
  /** After the deadline: the overdue escalation, then again every N playbook hours until done; null: once. */
  overdueRepeatHours: number | null;
  /** Action item reminders, N playbook hours before its due time. */
  actionItemBeforeDueHours: number[];
  /** After an action item's due time: overdue notice, then again every N playbook hours; null: once. */
  actionItemOverdueRepeatHours: number | null;
}

export const DEFAULT_POSTMORTEM_REMINDERS: PostmortemReminderPolicy = {
  atFractions: [0.5, 0.9],
  overdueRepeatHours: 24,
  actionItemBeforeDueHours: [7 * 24, 24],
  // 6.3 "Reviewed in weekly team meeting": an overdue item comes up once a week.
  actionItemOverdueRepeatHours: 7 * 24,
};

export interface ScheduledReminder {
  step: string;
  /** Real epoch ms. */
  at: number;
}

export interface PostmortemPlan {
  rule: PostmortemRule;
  /** Real epoch ms of the 6.1 deadline; null when none is required (P3). */
  dueAt: number | null;
  reminders: ScheduledReminder[];
}

export function postmortemPlan(
  severity: Severity,
  resolvedAt: number,
  timeScale: number,
  atFractions: readonly number[],
): PostmortemPlan {
  const rule = POSTMORTEM_RULES[severity];
  if (rule.dueAfterMs === null) return { rule, dueAt: null, reminders: [] };
  const window = rule.dueAfterMs / timeScale;
  const reminders = [...new Set(atFractions)]
    .filter((f) => f > 0 && f < 1)
    .sort((a, b) => a - b)
    .map((f) => ({
      step: `postmortem-reminder-${Math.round(f * 100)}`,
      at: resolvedAt + Math.round(window * f),
    }));
  return { rule, dueAt: resolvedAt + window, reminders };
}

/** The end of a COT calendar date (YYYY-MM-DD), i.e. midnight COT that starts the next day, epoch ms. */
export function endOfCotDate(date: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) throw new Error(`not a YYYY-MM-DD date: ${date}`);
  return Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + 1) - COT_OFFSET_MS;
}

/** Real epoch ms an action item due on `dueDate` (end of that day, COT) falls due. */
export function actionItemDueAt(dueDate: string, resolvedAt: number, timeScale: number): number {
  return resolvedAt + (endOfCotDate(dueDate) - resolvedAt) / timeScale;
}

export function actionItemReminders(
  itemId: string,
  dueAt: number,
  timeScale: number,
  beforeDueHours: readonly number[],
): ScheduledReminder[] {
  return [...new Set(beforeDueHours)]
    .filter((h) => h > 0)
    .sort((a, b) => b - a)
    .map((h) => ({ step: `action-${itemId}-reminder-${h}h`, at: dueAt - (h * HOUR_MS) / timeScale }));
}

/** Real ms between overdue repeats, or null for none. */
export function repeatEveryMs(hours: number | null, timeScale: number): number | null {
  return hours === null ? null : (hours * HOUR_MS) / timeScale;
}
