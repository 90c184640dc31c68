// What is due, and when: one list of the post-mortem's pending obligations, each with the time it falls
// due. The tick does the ones due at its time and the workflow sleeps until the earliest of the rest, so
// the work done and the next wake-up cannot drift apart (test/playbook/postmortem-core.test.ts checks that
// after a tick nothing pending is due any more).
import { repeatEveryMs } from '../postmortem-schedule';
import type { ItemState, PostmortemWorkflowState, Reminder } from './state';

export type Due =
  /** The post-mortem's opening notice: once, at the first tick. */
  | { kind: 'announce'; at: number }
  /** The 6.1 deadline: a mandatory post-mortem is escalated, a recommended one lapses. */
  | { kind: 'deadline'; at: number }
  | { kind: 'overdue-repeat'; at: number }
  | { kind: 'reminder'; at: number; reminder: Reminder }
  /** A new action item is assigned to its owner: at once (6.3). */
  | { kind: 'assign'; at: number; item: ItemState }
  | { kind: 'item-overdue'; at: number; item: ItemState }
  | { kind: 'item-overdue-repeat'; at: number; item: ItemState }
  | { kind: 'item-reminder'; at: number; item: ItemState; reminder: Reminder };

const unsent = (rs: Reminder[]) => rs.filter((r) => r.sentAt === null && !r.skipped);

/** The post-mortem's own obligations until it is completed (or lapses). */
export function postmortemPending(s: PostmortemWorkflowState): Due[] {
  if (s.status !== 'open' && s.status !== 'overdue') return [];
  const due: Due[] = [];
  if (!s.announcedStart) due.push({ kind: 'announce', at: s.clock });
  if (s.dueAt !== null && s.overdueEscalatedAt === null) {
    due.push({ kind: 'deadline', at: s.dueAt });
    for (const reminder of unsent(s.reminders)) due.push({ kind: 'reminder', at: reminder.at, reminder });
  }
  const repeat = repeatEveryMs(s.reminderPolicy.overdueRepeatHours, s.timeScale);
  if (s.overdueEscalatedAt !== null && repeat !== null && s.lastOverdueAt !== null)
    due.push({ kind: 'overdue-repeat', at: s.lastOverdueAt + repeat });
  return due;
}

/** One action item's obligations until it is done. */
export function itemPending(s: PostmortemWorkflowState, item: ItemState): Due[] {
  if (s.status !== 'tracking' || item.doneAt !== null) return [];
  const due: Due[] = [];
  if (item.assignedAt === null) due.push({ kind: 'assign', at: s.clock, item });
  if (item.overdueEscalatedAt === null) {
    due.push({ kind: 'item-overdue', at: item.dueAt, item });
    for (const reminder of unsent(item.reminders))
      due.push({ kind: 'item-reminder', at: reminder.at, item, reminder });
  } else {
    const repeat = repeatEveryMs(s.reminderPolicy.actionItemOverdueRepeatHours, s.timeScale);
    if (repeat !== null && item.lastOverdueAt !== null)
      due.push({ kind: 'item-overdue-repeat', at: item.lastOverdueAt + repeat, item });
  }
  return due;
}

/** Everything still pending, with its time. */
export function pending(s: PostmortemWorkflowState): Due[] {
  return [...postmortemPending(s), ...s.items.flatMap((item) => itemPending(s, item))];
}

/** When the next obligation falls due (the workflow's timer), or null: nothing left to wait for. */
export function nextWakeup(s: PostmortemWorkflowState): number | null {
  const times = pending(s).map((d) => d.at);
  return times.length ? Math.min(...times) : null;
}
