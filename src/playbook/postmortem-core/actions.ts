// What people do to a post-mortem (6.2-6.3): complete it with the document and its action items, and mark
// each item done. A payload is validated here; a bad one, or one the post-mortem's state refuses, is
// recorded as rejected with its reason and changes nothing.
import {
  actionItemDoneSchema,
  completePostmortemSchema,
  type ActionItemDoneInput,
  type CompletePostmortemInput,
} from '../contract/postmortem';
import { actorOf, formatIssues } from '../contract/payload';
import { actionItemDueAt, actionItemReminders } from '../postmortem-schedule';
import { changed, deliver, record, refOf, skipPending, type Draft } from './draft';
import type { ItemState, PostmortemWorkflowState } from './state';

export type ActionName = 'completePostmortem' | 'actionItemDone';
export const ACTION_NAMES: readonly ActionName[] = ['completePostmortem', 'actionItemDone'];

/** `invalid`: the payload is malformed; `rejected`: well-formed, but the post-mortem's state refuses it. */
export type Outcome =
  { ok: true; message: string } | { ok: false; kind: 'invalid' | 'rejected'; reason: string };

type Action =
  | { name: 'completePostmortem'; data: CompletePostmortemInput }
  | { name: 'actionItemDone'; data: ActionItemDoneInput };

type Parsed = { ok: true; action: Action } | { ok: false; kind: 'invalid'; reason: string };

function parse(name: ActionName, raw: unknown): Parsed {
  const parsed =
    name === 'completePostmortem'
      ? completePostmortemSchema.safeParse(raw)
      : actionItemDoneSchema.safeParse(raw);
  if (!parsed.success)
    return {
      ok: false,
      kind: 'invalid',
      reason: `invalid ${name} payload: ${formatIssues(parsed.error.issues)}`,
    };
  return { ok: true, action: { name, data: parsed.data } as Action };
}

const rejected = (reason: string): Outcome => ({ ok: false, kind: 'rejected', reason });

const findItem = (s: PostmortemWorkflowState, d: ActionItemDoneInput): ItemState | undefined =>
  d.id !== undefined ? s.items.find((i) => i.id === d.id) : s.items[d.index!];

function check(s: PostmortemWorkflowState, action: Action): Outcome {
  if (s.status === 'not-required') return rejected(`no post-mortem is required for ${s.severity} (6.1)`);
  if (s.status === 'lapsed') return rejected('the recommended post-mortem window has passed');
  if (action.name === 'completePostmortem') {
    if (s.completedAt !== null) return rejected(`already completed by ${s.completedBy}`);
    return { ok: true, message: 'post-mortem completed' };
  }
  const d = action.data;
  if (s.completedAt === null) return rejected('the post-mortem is not completed yet: it has no action items');
  const item = findItem(s, d);
  if (!item)
    return rejected(`no action item ${d.id !== undefined ? `with id "${d.id}"` : `at index ${d.index}`}`);
  if (item.doneAt !== null) return rejected(`action item ${item.id} already done by ${item.doneBy}`);
  return { ok: true, message: `action item ${item.id} done` };
}

/** The verdict an action would get, without changing anything (an Update's validator). */
export function validateAction(s: PostmortemWorkflowState, name: ActionName, raw: unknown): Outcome {
  const parsed = parse(name, raw);
  return parsed.ok ? check(s, parsed.action) : parsed;
}

/** Validates and applies one action at `d.now`, the time the person acted. */
export function applyAction(d: Draft, name: ActionName, raw: unknown, via: 'signal' | 'update'): Outcome {
  const parsed = parse(name, raw);
  const verdict = parsed.ok ? check(d.s, parsed.action) : parsed;
  if (!parsed.ok || !verdict.ok) {
    const reason = verdict.ok ? '' : verdict.reason;
    const text = parsed.ok ? `${name} rejected: ${reason}` : reason;
    record(d, actorOf(raw), 'signal.rejected', text, { action: name, via });
    return verdict;
  }
  if (parsed.action.name === 'completePostmortem') complete(d, parsed.action.data);
  else itemDone(d, parsed.action.data);
  changed(d);
  return verdict;
}

function complete(d: Draft, c: CompletePostmortemInput): void {
  const s = d.s;
  skipPending(s.reminders);
  s.completedAt = d.now;
  s.completedBy = c.by;
  s.documentUrl = c.documentUrl;
  const late = s.overdueEscalatedAt !== null;
  s.items = c.actionItems.map((a, index) => newItem(s, a, index));
  s.status = s.items.length ? 'tracking' : 'done';
  record(
    d,
    c.by,
    'postmortem.completed',
    `Post-mortem completed by ${c.by}${late ? ' (after its deadline)' : ''}: ${c.documentUrl}; ${s.items.length} action item(s)`,
    {
      documentUrl: c.documentUrl,
      actionItems: s.items.map((i) => ({ id: i.id, owner: i.owner, dueDate: i.dueDate })),
    },
  );
  const list = s.items.map((i) => `- [ ] ${i.id} ${i.title} (owner ${i.owner}, due ${i.dueDate})`).join('\n');
  deliver(
    d,
    'postmortem-completed',
    'channel',
    `:white_check_mark: Post-mortem for ${s.severity} incident "${s.title}" completed by ${c.by}: ${c.documentUrl}\n${list || 'No action items.'}`,
  );
}

/** 6.3: an owner and a due date each; assigned, reminded and escalated by the tick. */
function newItem(
  s: PostmortemWorkflowState,
  a: CompletePostmortemInput['actionItems'][number],
  index: number,
): ItemState {
  const id = `AI-${index + 1}`;
  const dueAt = actionItemDueAt(a.dueDate, s.resolvedAt, s.timeScale);
  const reminders = actionItemReminders(id, dueAt, s.timeScale, s.reminderPolicy.actionItemBeforeDueHours);
  return {
    id,
    index,
    title: a.title,
    owner: a.owner,
    dueDate: a.dueDate,
    dueAt,
    assignedAt: null,
    reminders: reminders.map((r) => ({ ...r, sentAt: null, skipped: false })),
    overdueEscalatedAt: null,
    lastOverdueAt: null,
    overdueRepeats: 0,
    doneAt: null,
    doneBy: null,
  };
}

function itemDone(d: Draft, done: ActionItemDoneInput): void {
  const s = d.s;
  const item = findItem(s, done)!;
  item.doneAt = d.now;
  item.doneBy = done.by;
  skipPending(item.reminders);
  const note = done.note ? `: ${done.note}` : '';
  record(d, done.by, 'action.done', `${item.id} "${item.title}" done by ${done.by}${note}`, {
    item: item.id,
  });
  if (s.items.every((i) => i.doneAt !== null)) {
    s.status = 'done';
    record(d, 'system', 'postmortem.done', 'Every action item is done');
    deliver(d, 'postmortem-actions-done', 'channel', `:tada: Every action item of the ${refOf(s)} is done.`);
  }
}
