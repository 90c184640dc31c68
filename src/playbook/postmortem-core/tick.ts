// The time-driven rules (6.1 reminders, deadline and overdue escalation; 6.3 action item assignment,
// reminders and overdue notices), done for what `due.ts` lists as due at the decision's time.
import { formatCot } from '../time';
import {
  changed,
  deliver,
  deliverEscalation,
  dueLabel,
  record,
  refOf,
  skipPending,
  type Draft,
} from './draft';
import { itemPending, postmortemPending, type Due } from './due';
import { ENG_LEAD, type ItemState, type Reminder } from './state';

const dueBy = (list: Due[], at: number) => list.filter((w) => w.at <= at);
const find = <K extends Due['kind']>(list: Due[], kind: K) =>
  list.find((w): w is Extract<Due, { kind: K }> => w.kind === kind);

/** Sends the latest due reminder and marks older unsent ones skipped: a late timer sends one, not all. */
function latestReminder(due: Due[], at: number): Reminder | null {
  const reminders = due.flatMap((w) =>
    w.kind === 'reminder' || w.kind === 'item-reminder' ? [w.reminder] : [],
  );
  const latest = reminders.pop();
  if (!latest) return null;
  for (const r of reminders) r.skipped = true;
  latest.sentAt = at;
  return latest;
}

export function processDue(d: Draft): void {
  postmortemDue(d);
  for (const item of d.s.items) itemDue(d, item);
}

function postmortemDue(d: Draft): void {
  const s = d.s;
  const due = dueBy(postmortemPending(s), d.now);
  if (find(due, 'announce')) announce(d);
  if (find(due, 'deadline')) {
    skipPending(s.reminders);
    if (s.requirement === 'recommended') lapse(d);
    else escalate(d);
  } else if (find(due, 'overdue-repeat')) {
    s.overdueRepeats += 1;
    s.lastOverdueAt = d.now;
    changed(d);
    record(d, 'system', 'postmortem.overdue', `Still overdue (reminder ${s.overdueRepeats})`);
    deliverEscalation(
      d,
      `postmortem-overdue-${s.overdueRepeats}`,
      s.owner,
      `:warning: STILL OVERDUE: the ${refOf(s)} was due ${dueLabel(s)}. Owner: ${s.owner}.`,
    );
  } else {
    const r = latestReminder(due, d.now);
    if (!r) return;
    changed(d);
    record(d, 'system', 'postmortem.reminder', `Reminder ${r.step}: due ${dueLabel(s)}`);
    deliver(
      d,
      r.step,
      s.owner,
      `:hourglass: Reminder: the ${refOf(s)} is due ${dueLabel(s)}. Owner: ${s.owner}.`,
    );
  }
}

function announce(d: Draft): void {
  const s = d.s;
  s.announcedStart = true;
  changed(d);
  const kind = s.requirement === 'mandatory' ? 'required (mandatory)' : 'recommended (optional)';
  const within = s.timelineLabel.toLowerCase();
  record(
    d,
    'system',
    'postmortem.scheduled',
    `6.1 post-mortem ${kind}, ${within}: due ${dueLabel(s)}; owner ${s.owner}`,
  );
  deliver(
    d,
    'postmortem-scheduled',
    s.owner,
    `:memo: 6.1 post-mortem ${kind} for ${s.severity} incident "${s.title}": due ${dueLabel(s)} (${within} of resolution). Owner: ${s.owner}. Complete it with the document link and action items (owner and due date each, 6.3).`,
  );
}

/** 6.1 "recommended": nobody is escalated to; the window passing ends the tracking. */
function lapse(d: Draft): void {
  const s = d.s;
  const within = s.timelineLabel.toLowerCase();
  s.status = 'lapsed';
  changed(d);
  record(d, 'system', 'postmortem.lapsed', `Recommended post-mortem window (${within}) passed without one`);
  deliver(
    d,
    'postmortem-lapsed',
    s.owner,
    `The recommended (6.1, optional) ${refOf(s)} was not written ${within}; no longer tracked.`,
  );
}

function escalate(d: Draft): void {
  const s = d.s;
  s.status = 'overdue';
  s.overdueEscalatedAt = d.now;
  s.lastOverdueAt = d.now;
  changed(d);
  record(d, 'system', 'postmortem.overdue', `6.1 deadline ${dueLabel(s)} passed: escalated to ${ENG_LEAD}`);
  deliverEscalation(
    d,
    'postmortem-overdue',
    s.owner,
    `:warning: OVERDUE: the mandatory ${refOf(s)} was due ${dueLabel(s)} (6.1 ${s.timelineLabel.toLowerCase()}). Owner: ${s.owner}. Escalated to the engineering lead.`,
  );
}

/**
 * A new item is taken at the completion's time, not at the decision clock, which may lag behind it: the
 * completion is a person's action, stamped when it happened, and the item exists from then on (whether
 * its reminders or its due date had already passed is judged there).
 */
function itemDue(d: Draft, item: ItemState): void {
  const s = d.s;
  const at = item.assignedAt === null ? Math.max(d.now, s.completedAt ?? d.now) : d.now;
  if (find(dueBy(itemPending(s, item), at), 'assign')) assign(d, item, at);
  const due = dueBy(itemPending(s, item), at);
  const what = `action item ${item.id} "${item.title}" of the ${refOf(s)}`;
  const overdue = find(due, 'item-overdue');
  if (overdue || find(due, 'item-overdue-repeat')) {
    if (overdue) {
      skipPending(item.reminders);
      item.overdueEscalatedAt = at;
    } else item.overdueRepeats += 1;
    item.lastOverdueAt = at;
    const n = item.overdueRepeats;
    changed(d);
    record(
      d,
      'system',
      'action.overdue',
      overdue
        ? `${item.id} (${item.owner}) overdue: due ${item.dueDate}`
        : `${item.id} still overdue (reminder ${n})`,
      { item: item.id },
      at,
    );
    deliverEscalation(
      d,
      overdue ? `action-${item.id}-overdue` : `action-${item.id}-overdue-${n}`,
      item.owner,
      `:warning: ${overdue ? 'OVERDUE' : 'STILL OVERDUE'}: ${what} was due ${item.dueDate}. Owner: ${item.owner}.`,
      at,
    );
    return;
  }
  const r = latestReminder(due, at);
  if (!r) return;
  changed(d);
  record(d, 'system', 'action.reminder', `${item.id} reminder ${r.step}`, { item: item.id }, at);
  deliver(
    d,
    r.step,
    item.owner,
    `:hourglass: Reminder: ${what} is due ${item.dueDate} (${formatCot(item.dueAt)}). Owner: ${item.owner}.`,
    at,
  );
}

function assign(d: Draft, item: ItemState, at: number): void {
  item.assignedAt = at;
  // Reminders whose time had passed before the item existed are covered by the assignment.
  for (const r of item.reminders) if (r.at <= at) r.skipped = true;
  changed(d);
  deliver(
    d,
    `action-${item.id}-assigned`,
    item.owner,
    `:clipboard: Assigned to ${item.owner}: action item ${item.id} "${item.title}" of the ${refOf(d.s)}, due ${item.dueDate} (${formatCot(item.dueAt)}).`,
    at,
  );
}
