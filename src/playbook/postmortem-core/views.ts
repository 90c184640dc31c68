// What others read of a post-mortem: the status query's snapshot and the ledger's rows. Derived from the
// state only, never stored beside it.
import type { PostmortemStatus } from '../contract/postmortem';
import type { ActionItemRecord, PostmortemRecord } from '../contract/records';
import { iso, isoOf } from '../time';
import type { ItemState, PostmortemWorkflowState, Reminder } from './state';

const sent = (rs: Reminder[]) => rs.filter((r) => r.sentAt !== null);

export function ledgerRecord(s: PostmortemWorkflowState, workflowId: string): PostmortemRecord {
  return {
    incidentId: s.incidentId,
    workflowId,
    title: s.title,
    severity: s.severity,
    requirement: s.requirement,
    status: s.status,
    owner: s.owner,
    resolvedAt: isoOf(s.resolvedAt),
    dueAt: iso(s.dueAt),
    timeScale: s.timeScale,
    remindersSent: sent(s.reminders).length,
    overdueEscalatedAt: iso(s.overdueEscalatedAt),
    completedAt: iso(s.completedAt),
    completedBy: s.completedBy,
    documentUrl: s.documentUrl,
    version: s.version,
  };
}

export function itemRecord(i: ItemState): ActionItemRecord {
  return {
    id: i.id,
    index: i.index,
    title: i.title,
    owner: i.owner,
    dueDate: i.dueDate,
    dueAt: isoOf(i.dueAt),
    assignedAt: iso(i.assignedAt),
    remindersSent: sent(i.reminders).length,
    overdueEscalatedAt: iso(i.overdueEscalatedAt),
    doneAt: iso(i.doneAt),
    doneBy: i.doneBy,
  };
}

/**
 * The next ledger write: the whole latest state under a new version (the ledger ignores a write older than
 * the row it holds, so writes that finish out of order keep the latest).
 */
export function nextLedgerWrite(
  state: PostmortemWorkflowState,
  workflowId: string,
): { state: PostmortemWorkflowState; record: PostmortemRecord; items: ActionItemRecord[] } {
  const s = { ...state, version: state.version + 1 };
  return { state: s, record: ledgerRecord(s, workflowId), items: s.items.map(itemRecord) };
}

/** The status query's answer. */
export function statusOf(s: PostmortemWorkflowState): PostmortemStatus {
  const reminder = (r: Reminder) => ({
    step: r.step,
    at: isoOf(r.at),
    sentAt: iso(r.sentAt),
    skipped: r.skipped,
  });
  return {
    incidentId: s.incidentId,
    title: s.title,
    severity: s.severity,
    requirement: s.requirement,
    timeline: s.timelineLabel,
    status: s.status,
    owner: s.owner,
    timeScale: s.timeScale,
    resolvedAt: isoOf(s.resolvedAt),
    dueAt: iso(s.dueAt),
    reminders: s.reminders.map(reminder),
    overdueEscalatedAt: iso(s.overdueEscalatedAt),
    overdueRepeats: s.overdueRepeats,
    completedAt: iso(s.completedAt),
    completedBy: s.completedBy,
    documentUrl: s.documentUrl,
    actionItems: s.items.map((i) => ({
      id: i.id,
      index: i.index,
      title: i.title,
      owner: i.owner,
      dueDate: i.dueDate,
      dueAt: isoOf(i.dueAt),
      assignedAt: iso(i.assignedAt),
      remindersSent: sent(i.reminders).map((r) => ({ step: r.step, at: isoOf(r.sentAt!) })),
      overdueEscalatedAt: iso(i.overdueEscalatedAt),
      doneAt: iso(i.doneAt),
      doneBy: i.doneBy,
    })),
    events: s.events,
  };
}
