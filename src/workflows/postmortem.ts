// postmortemWorkflow: the post-incident obligation of playbook 6.1-6.3, started by incidentWorkflow when
// an incident closes (id `postmortem-<incident id>`, ParentClosePolicy ABANDON). It reminds the owner before
// the 6.1 deadline, escalates to the engineering lead when it passes, takes the completion (document link
// and action items, each with an owner and a due date: 6.3), and tracks every action item with reminders
// until it is marked done. Pure orchestration: timing comes from src/playbook, side effects are activities.
import type { UpdateDefinition } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import { actorOf, formatIssues } from '../playbook/contract/payload';
import { errorMessage } from './util';
import type { IncidentActivities } from '../activities';
import type { Notification } from '../playbook/contract/notification';
import type {
  ActionItemRecord,
  PostmortemRecord,
  PostmortemRequirement,
  PostmortemState,
} from '../playbook/contract/records';
import {
  DEFAULT_POSTMORTEM_REMINDERS,
  actionItemDueAt,
  actionItemReminders,
  postmortemPlan,
  repeatEveryMs,
  type PostmortemReminderPolicy,
} from '../playbook/postmortem-schedule';
import { isRoleId, type RoleId } from '../playbook/roles';
import type { Severity } from '../playbook/severity';
import { formatCot, iso, isoOf } from '../playbook/time';
import {
  actionItemDoneSchema,
  completePostmortemSchema,
  postmortemInputSchema,
  type ActionItemDoneInput,
  type CompletePostmortemInput,
  type PostmortemActionResult,
  type PostmortemEvent,
  type PostmortemInput,
  type PostmortemStatus,
} from '../playbook/contract/postmortem';
import {
  actionItemDoneSignal,
  actionItemDoneUpdate,
  completePostmortemSignal,
  completePostmortemUpdate,
  postmortemStatusQuery,
} from './postmortem-definitions';
import { DELIVERY, LEDGER } from './activity-options';

const notify = wf.proxyActivities<IncidentActivities>(DELIVERY);
const ledger = wf.proxyActivities<IncidentActivities>(LEDGER);

const ENG_LEAD: RoleId = 'eng-lead';
const MAX_EVENTS = 500;
const CONTINUE_AS_NEW_AFTER_EVENTS = 5_000;

interface Reminder {
  step: string;
  at: number;
  sentAt: number | null;
  skipped: boolean;
}

interface ItemState {
  id: string;
  index: number;
  title: string;
  owner: string;
  dueDate: string;
  dueAt: number;
  assignedAt: number | null;
  reminders: Reminder[];
  overdueEscalatedAt: number | null;
  lastOverdueAt: number | null;
  overdueRepeats: number;
  doneAt: number | null;
  doneBy: string | null;
}

/** Everything the post-mortem knows; carried whole across continue-as-new. */
export interface PostmortemWorkflowState {
  incidentId: string;
  title: string;
  severity: Severity;
  requirement: PostmortemRequirement;
  timelineLabel: string;
  owner: string;
  channels: string[];
  timeScale: number;
  reminderPolicy: PostmortemReminderPolicy;
  resolvedAt: number;
  dueAt: number | null;
  reminders: Reminder[];
  status: PostmortemState;
  overdueEscalatedAt: number | null;
  lastOverdueAt: number | null;
  overdueRepeats: number;
  completedAt: number | null;
  completedBy: string | null;
  documentUrl: string | null;
  items: ItemState[];
  events: PostmortemEvent[];
  /** Decision clock: the later of the timer targets and the workflow task time (recorded in history). */
  clock: number;
  /** Ledger row version, grows with every write. */
  version: number;
  announcedStart: boolean;
}

export interface PostmortemWorkflowInput extends PostmortemInput {
  /** Set by continue-as-new only. */
  continued?: PostmortemWorkflowState;
}

// The workflow task's time: recorded in history, so decisions taken on it replay.
const workflowNow = (): number => Date.now();
const TERMINAL: PostmortemState[] = ['done', 'not-required', 'lapsed'];

export async function postmortemWorkflow(rawInput: PostmortemWorkflowInput): Promise<PostmortemStatus> {
  const continued = rawInput.continued;
  const { continued: _c, ...rest } = rawInput ?? ({} as PostmortemWorkflowInput);
  const parsed = postmortemInputSchema.safeParse(rest);
  if (!parsed.success && !continued) {
    throw wf.ApplicationFailure.nonRetryable(
      `invalid postmortemWorkflow input: ${formatIssues(parsed.error.issues)}`,
      'InvalidPostmortemInput',
    );
  }
  const input = parsed.success ? parsed.data : (rest as PostmortemInput);
  const s: PostmortemWorkflowState = continued ?? openState(input);
  const inflight = new Set<Promise<unknown>>();
  let dirty = false;
  let changed = !continued;

  // ---------- helpers ----------
  const record = (actor: string, type: string, text: string, data?: Record<string, unknown>) => {
    s.events.push({ at: isoOf(workflowNow()), actor, type, text, ...(data ? { data } : {}) });
    if (s.events.length > MAX_EVENTS) s.events.splice(0, s.events.length - MAX_EVENTS);
  };

  const track = (p: Promise<unknown>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  /** To a role (paged as that role by the channels) or to a person (named in a channel message). */
  const deliver = (step: string, who: string, text: string) => {
    const target: RoleId | 'channel' = isRoleId(who) ? who : 'channel';
    const body = target === 'channel' && who !== 'channel' ? `@${who} ${text}` : text;
    for (const channel of s.channels) {
      const n: Notification = {
        idempotencyKey: `${s.incidentId}:${step}:${target}`,
        incidentId: s.incidentId,
        step,
        target,
        kind: 'info',
        severity: s.severity,
        title: s.title,
        text: body,
        createdAt: isoOf(workflowNow()),
        incidentStatus: 'closed',
      };
      track(
        notify.deliverNotification(channel, n).then(
          () => undefined,
          (err: unknown) => {
            record(
              'system',
              'notify.failed',
              `${channel} delivery of ${n.idempotencyKey} failed: ${errorMessage(err)}`,
            );
          },
        ),
      );
    }
  };
  /** The owner and the engineering lead, once each (the owner may be the engineering lead). */
  const deliverEscalation = (step: string, owner: string, text: string) => {
    deliver(step, ENG_LEAD, text);
    if (owner !== ENG_LEAD) deliver(step, owner, text);
  };

  const dueLabel = () => (s.dueAt === null ? '-' : formatCot(s.dueAt));
  const ref = () => `post-mortem for ${s.severity} incident "${s.title}" (${s.incidentId})`;

  // ---------- ledger: the latest whole state, one write at a time ----------
  let ledgerPending = false;
  let ledgerLoop: Promise<void> | null = null;
  const flushLedger = () => {
    ledgerPending = true;
    if (ledgerLoop) return;
    ledgerLoop = (async () => {
      while (ledgerPending) {
        ledgerPending = false;
        s.version += 1;
        try {
          await ledger.ledgerRecordPostmortem(
            ledgerRecord(s, wf.workflowInfo().workflowId),
            s.items.map(itemRecord),
          );
        } catch (err) {
          record('system', 'ledger.failed', `ledger write failed: ${errorMessage(err)}`);
        }
      }
      ledgerLoop = null;
    })();
  };

  // ---------- time-based decisions, taken only at the decision clock ----------
  /** Sends the latest due reminder of a list and marks older unsent ones skipped (a late timer sends one). */
  const sendLatestDue = (reminders: Reminder[], now: number): Reminder | null => {
    const due = reminders.filter((r) => r.sentAt === null && !r.skipped && r.at <= now);
    if (due.length === 0) return null;
    for (const r of due.slice(0, -1)) r.skipped = true;
    const latest = due[due.length - 1]!;
    latest.sentAt = now;
    changed = true;
    return latest;
  };
  const skipPending = (reminders: Reminder[]) => {
    for (const r of reminders) if (r.sentAt === null && !r.skipped) r.skipped = true;
  };

  const processDue = (now: number) => {
    if (s.status === 'open' || s.status === 'overdue') {
      if (!s.announcedStart) {
        s.announcedStart = true;
        changed = true;
        const kind = s.requirement === 'mandatory' ? 'required (mandatory)' : 'recommended (optional)';
        record(
          'system',
          'postmortem.scheduled',
          `6.1 post-mortem ${kind}, ${s.timelineLabel.toLowerCase()}: due ${dueLabel()}; owner ${s.owner}`,
        );
        deliver(
          'postmortem-scheduled',
          s.owner,
          `:memo: 6.1 post-mortem ${kind} for ${s.severity} incident "${s.title}": due ${dueLabel()} (${s.timelineLabel.toLowerCase()} of resolution). Owner: ${s.owner}. Complete it with the document link and action items (owner and due date each, 6.3).`,
        );
      }
      if (s.dueAt !== null && now >= s.dueAt) {
        const repeat = repeatEveryMs(s.reminderPolicy.overdueRepeatHours, s.timeScale);
        if (s.requirement === 'recommended') {
          skipPending(s.reminders);
          s.status = 'lapsed';
          changed = true;
          record(
            'system',
            'postmortem.lapsed',
            `Recommended post-mortem window (${s.timelineLabel.toLowerCase()}) passed without one`,
          );
          deliver(
            'postmortem-lapsed',
            s.owner,
            `The recommended (6.1, optional) ${ref()} was not written ${s.timelineLabel.toLowerCase()}; no longer tracked.`,
          );
        } else if (s.overdueEscalatedAt === null) {
          skipPending(s.reminders);
          s.status = 'overdue';
          s.overdueEscalatedAt = now;
          s.lastOverdueAt = now;
          changed = true;
          record(
            'system',
            'postmortem.overdue',
            `6.1 deadline ${dueLabel()} passed: escalated to ${ENG_LEAD}`,
          );
          deliverEscalation(
            'postmortem-overdue',
            s.owner,
            `:warning: OVERDUE: the mandatory ${ref()} was due ${dueLabel()} (6.1 ${s.timelineLabel.toLowerCase()}). Owner: ${s.owner}. Escalated to the engineering lead.`,
          );
        } else if (repeat !== null && s.lastOverdueAt !== null && now >= s.lastOverdueAt + repeat) {
          s.overdueRepeats += 1;
          s.lastOverdueAt = now;
          changed = true;
          record('system', 'postmortem.overdue', `Still overdue (reminder ${s.overdueRepeats})`);
          deliverEscalation(
            `postmortem-overdue-${s.overdueRepeats}`,
            s.owner,
            `:warning: STILL OVERDUE: the ${ref()} was due ${dueLabel()}. Owner: ${s.owner}.`,
          );
        }
      } else {
        const r = sendLatestDue(s.reminders, now);
        if (r) {
          record('system', 'postmortem.reminder', `Reminder ${r.step}: due ${dueLabel()}`);
          deliver(
            r.step,
            s.owner,
            `:hourglass: Reminder: the ${ref()} is due ${dueLabel()}. Owner: ${s.owner}.`,
          );
        }
      }
    }

    if (s.status === 'tracking') {
      const repeat = repeatEveryMs(s.reminderPolicy.actionItemOverdueRepeatHours, s.timeScale);
      for (const item of s.items) {
        if (item.doneAt !== null) continue;
        const due = formatCot(item.dueAt);
        const what = `action item ${item.id} "${item.title}" of the ${ref()}`;
        if (item.assignedAt === null) {
          item.assignedAt = now;
          // Reminders whose time had passed before the item existed are covered by the assignment.
          for (const r of item.reminders) if (r.at <= now) r.skipped = true;
          changed = true;
          deliver(
            `action-${item.id}-assigned`,
            item.owner,
            `:clipboard: Assigned to ${item.owner}: ${what}, due ${item.dueDate} (${due}).`,
          );
        }
        if (now >= item.dueAt) {
          if (item.overdueEscalatedAt === null) {
            skipPending(item.reminders);
            item.overdueEscalatedAt = now;
            item.lastOverdueAt = now;
            changed = true;
            record('system', 'action.overdue', `${item.id} (${item.owner}) overdue: due ${item.dueDate}`, {
              item: item.id,
            });
            deliverEscalation(
              `action-${item.id}-overdue`,
              item.owner,
              `:warning: OVERDUE: ${what} was due ${item.dueDate}. Owner: ${item.owner}.`,
            );
          } else if (repeat !== null && item.lastOverdueAt !== null && now >= item.lastOverdueAt + repeat) {
            item.overdueRepeats += 1;
            item.lastOverdueAt = now;
            changed = true;
            record('system', 'action.overdue', `${item.id} still overdue (reminder ${item.overdueRepeats})`, {
              item: item.id,
            });
            deliverEscalation(
              `action-${item.id}-overdue-${item.overdueRepeats}`,
              item.owner,
              `:warning: STILL OVERDUE: ${what} was due ${item.dueDate}. Owner: ${item.owner}.`,
            );
          }
        } else {
          const r = sendLatestDue(item.reminders, now);
          if (r) {
            record('system', 'action.reminder', `${item.id} reminder ${r.step}`, { item: item.id });
            deliver(
              r.step,
              item.owner,
              `:hourglass: Reminder: ${what} is due ${item.dueDate} (${due}). Owner: ${item.owner}.`,
            );
          }
        }
      }
    }
  };

  const nextWakeup = (): number | null => {
    const c: number[] = [];
    const pending = (rs: Reminder[]) => rs.filter((r) => r.sentAt === null && !r.skipped).map((r) => r.at);
    if (s.status === 'open' || s.status === 'overdue') {
      if (s.dueAt !== null && s.overdueEscalatedAt === null) c.push(s.dueAt, ...pending(s.reminders));
      const repeat = repeatEveryMs(s.reminderPolicy.overdueRepeatHours, s.timeScale);
      if (s.overdueEscalatedAt !== null && repeat !== null && s.lastOverdueAt !== null)
        c.push(s.lastOverdueAt + repeat);
    }
    if (s.status === 'tracking') {
      const repeat = repeatEveryMs(s.reminderPolicy.actionItemOverdueRepeatHours, s.timeScale);
      for (const item of s.items) {
        if (item.doneAt !== null) continue;
        if (item.overdueEscalatedAt === null) c.push(item.dueAt, ...pending(item.reminders));
        else if (repeat !== null && item.lastOverdueAt !== null) c.push(item.lastOverdueAt + repeat);
      }
    }
    return c.length ? Math.min(...c) : null;
  };

  // ---------- signals and updates ----------
  type Outcome = { ok: true; message: string } | { ok: false; reason: string };
  type Action = 'completePostmortem' | 'actionItemDone';
  const SCHEMAS = {
    completePostmortem: completePostmortemSchema,
    actionItemDone: actionItemDoneSchema,
  } as const;

  const findItem = (d: ActionItemDoneInput) =>
    d.id !== undefined ? s.items.find((i) => i.id === d.id) : s.items[d.index!];

  const check = (name: Action, data: CompletePostmortemInput | ActionItemDoneInput): Outcome => {
    if (s.status === 'not-required')
      return { ok: false, reason: `no post-mortem is required for ${s.severity} (6.1)` };
    if (s.status === 'lapsed') return { ok: false, reason: 'the recommended post-mortem window has passed' };
    if (name === 'completePostmortem') {
      if (s.completedAt !== null) return { ok: false, reason: `already completed by ${s.completedBy}` };
      return { ok: true, message: 'post-mortem completed' };
    }
    const d = data as ActionItemDoneInput;
    if (s.completedAt === null)
      return { ok: false, reason: 'the post-mortem is not completed yet: it has no action items' };
    const item = findItem(d);
    if (!item)
      return {
        ok: false,
        reason: `no action item ${d.id !== undefined ? `with id "${d.id}"` : `at index ${d.index}`}`,
      };
    if (item.doneAt !== null)
      return { ok: false, reason: `action item ${item.id} already done by ${item.doneBy}` };
    return { ok: true, message: `action item ${item.id} done` };
  };

  const apply = (name: Action, data: CompletePostmortemInput | ActionItemDoneInput): Outcome => {
    const verdict = check(name, data);
    if (!verdict.ok) return verdict;
    const now = workflowNow();
    if (name === 'completePostmortem') {
      const c = data as CompletePostmortemInput;
      skipPending(s.reminders);
      s.completedAt = now;
      s.completedBy = c.by;
      s.documentUrl = c.documentUrl;
      const late = s.overdueEscalatedAt !== null;
      s.items = c.actionItems.map((a, index) => {
        const id = `AI-${index + 1}`;
        const dueAt = actionItemDueAt(a.dueDate, s.resolvedAt, s.timeScale);
        return {
          id,
          index,
          title: a.title,
          owner: a.owner,
          dueDate: a.dueDate,
          dueAt,
          assignedAt: null,
          reminders: actionItemReminders(
            id,
            dueAt,
            s.timeScale,
            s.reminderPolicy.actionItemBeforeDueHours,
          ).map((r) => ({ ...r, sentAt: null, skipped: false })),
          overdueEscalatedAt: null,
          lastOverdueAt: null,
          overdueRepeats: 0,
          doneAt: null,
          doneBy: null,
        };
      });
      s.status = s.items.length ? 'tracking' : 'done';
      record(
        c.by,
        'postmortem.completed',
        `Post-mortem completed by ${c.by}${late ? ' (after its deadline)' : ''}: ${c.documentUrl}; ${s.items.length} action item(s)`,
        {
          documentUrl: c.documentUrl,
          actionItems: s.items.map((i) => ({ id: i.id, owner: i.owner, dueDate: i.dueDate })),
        },
      );
      const list = s.items
        .map((i) => `- [ ] ${i.id} ${i.title} (owner ${i.owner}, due ${i.dueDate})`)
        .join('\n');
      deliver(
        'postmortem-completed',
        'channel',
        `:white_check_mark: Post-mortem for ${s.severity} incident "${s.title}" completed by ${c.by}: ${c.documentUrl}\n${list || 'No action items.'}`,
      );
    } else {
      const d = data as ActionItemDoneInput;
      const item = findItem(d)!;
      item.doneAt = now;
      item.doneBy = d.by;
      skipPending(item.reminders);
      record(
        d.by,
        'action.done',
        `${item.id} "${item.title}" done by ${d.by}${d.note ? `: ${d.note}` : ''}`,
        { item: item.id },
      );
      if (s.items.every((i) => i.doneAt !== null)) {
        s.status = 'done';
        record('system', 'postmortem.done', 'Every action item is done');
        deliver('postmortem-actions-done', 'channel', `:tada: Every action item of the ${ref()} is done.`);
      }
    }
    changed = true;
    return verdict;
  };

  const handle = (name: Action, raw: unknown, via: 'signal' | 'update'): Outcome => {
    try {
      const parsed = SCHEMAS[name].safeParse(raw);
      if (!parsed.success) {
        const reason = `invalid ${name} payload: ${formatIssues(parsed.error.issues)}`;
        record(actorOf(raw), 'signal.rejected', reason, { action: name, via });
        return { ok: false, reason };
      }
      const outcome = apply(name, parsed.data);
      if (!outcome.ok)
        record(actorOf(raw), 'signal.rejected', `${name} rejected: ${outcome.reason}`, { action: name, via });
      return outcome;
    } catch (err) {
      // A handler never throws (it would fail the workflow task): record and carry on.
      record('system', 'signal.rejected', `${name} failed: ${errorMessage(err)}`, { action: name, via });
      return { ok: false, reason: errorMessage(err) };
    } finally {
      dirty = true;
    }
  };

  wf.setHandler(completePostmortemSignal, (raw: unknown) => void handle('completePostmortem', raw, 'signal'));
  wf.setHandler(actionItemDoneSignal, (raw: unknown) => void handle('actionItemDone', raw, 'signal'));
  const updates: Record<Action, UpdateDefinition<PostmortemActionResult, [unknown]>> = {
    completePostmortem: completePostmortemUpdate as UpdateDefinition<PostmortemActionResult, [unknown]>,
    actionItemDone: actionItemDoneUpdate as UpdateDefinition<PostmortemActionResult, [unknown]>,
  };
  for (const name of Object.keys(updates) as Action[]) {
    wf.setHandler(
      updates[name],
      (raw: unknown): PostmortemActionResult => {
        const outcome = handle(name, raw, 'update');
        if (!outcome.ok) throw wf.ApplicationFailure.nonRetryable(outcome.reason, 'ActionRejected');
        return { accepted: true, status: s.status, message: outcome.message };
      },
      {
        validator: (raw: unknown) => {
          const parsed = SCHEMAS[name].safeParse(raw);
          if (!parsed.success)
            throw new Error(`invalid ${name} payload: ${formatIssues(parsed.error.issues)}`);
          const verdict = check(name, parsed.data);
          if (!verdict.ok) throw new Error(`${name} rejected: ${verdict.reason}`);
        },
      },
    );
  }
  wf.setHandler(postmortemStatusQuery, () => statusOf(s));

  // ---------- main loop ----------
  if (!continued) {
    if (s.status === 'not-required')
      record('system', 'postmortem.not-required', `6.1: no post-mortem for ${s.severity}`);
    // Started some time after the resolution (the parent closes after its reopen window): decide from now.
    s.clock = Math.max(s.clock, Date.now());
  }
  for (;;) {
    processDue(s.clock);
    if (changed) {
      changed = false;
      flushLedger();
    }
    if (TERMINAL.includes(s.status)) break;
    const info = wf.workflowInfo();
    if (info.historyLength > CONTINUE_AS_NEW_AFTER_EVENTS || info.continueAsNewSuggested) {
      await Promise.allSettled([...inflight]);
      while (ledgerLoop) await ledgerLoop;
      await wf.condition(wf.allHandlersFinished);
      await wf.continueAsNew<typeof postmortemWorkflow>({ ...input, continued: s });
    }
    const wake = nextWakeup();
    dirty = false;
    let fired = false;
    if (wake === null) await wf.condition(() => dirty);
    else fired = !(await wf.condition(() => dirty, Math.max(1, Math.ceil(wake - workflowNow()))));
    // The workflow's own clock (the workflow task's time, recorded in history): no clock activity.
    s.clock = Math.max(s.clock, fired && wake !== null ? wake : s.clock, Date.now());
  }

  await Promise.allSettled([...inflight]);
  while (ledgerLoop) await ledgerLoop;
  await wf.condition(wf.allHandlersFinished);
  return statusOf(s);
}

function openState(i: PostmortemInput): PostmortemWorkflowState {
  const resolvedAt = Date.parse(i.resolvedAt);
  const timeScale = i.timeScale ?? 1;
  const reminderPolicy: PostmortemReminderPolicy = {
    atFractions: i.reminders?.atFractions ?? DEFAULT_POSTMORTEM_REMINDERS.atFractions,
    overdueRepeatHours:
      i.reminders?.overdueRepeatHours === undefined
        ? DEFAULT_POSTMORTEM_REMINDERS.overdueRepeatHours
        : i.reminders.overdueRepeatHours,
    actionItemBeforeDueHours:
      i.reminders?.actionItemBeforeDueHours ?? DEFAULT_POSTMORTEM_REMINDERS.actionItemBeforeDueHours,
    actionItemOverdueRepeatHours:
      i.reminders?.actionItemOverdueRepeatHours === undefined
        ? DEFAULT_POSTMORTEM_REMINDERS.actionItemOverdueRepeatHours
        : i.reminders.actionItemOverdueRepeatHours,
  };
  const plan = postmortemPlan(i.severity, resolvedAt, timeScale, reminderPolicy.atFractions);
  return {
    incidentId: i.incidentId,
    title: i.title,
    severity: i.severity,
    requirement: plan.rule.requirement,
    timelineLabel: plan.rule.label,
    owner: i.owner ?? ENG_LEAD,
    channels: i.channels ?? ['outbox'],
    timeScale,
    reminderPolicy,
    resolvedAt,
    dueAt: plan.dueAt,
    reminders: plan.reminders.map((r) => ({ ...r, sentAt: null, skipped: false })),
    status: plan.rule.requirement === 'none' ? 'not-required' : 'open',
    overdueEscalatedAt: null,
    lastOverdueAt: null,
    overdueRepeats: 0,
    completedAt: null,
    completedBy: null,
    documentUrl: null,
    items: [],
    events: [],
    // The decision clock starts at the resolution: reminders and the deadline are all later than it.
    clock: resolvedAt,
    version: 0,
    announcedStart: false,
  };
}

function ledgerRecord(s: PostmortemWorkflowState, workflowId: string): PostmortemRecord {
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
    remindersSent: s.reminders.filter((r) => r.sentAt !== null).length,
    overdueEscalatedAt: iso(s.overdueEscalatedAt),
    completedAt: iso(s.completedAt),
    completedBy: s.completedBy,
    documentUrl: s.documentUrl,
    version: s.version,
  };
}

function itemRecord(i: ItemState): ActionItemRecord {
  return {
    id: i.id,
    index: i.index,
    title: i.title,
    owner: i.owner,
    dueDate: i.dueDate,
    dueAt: isoOf(i.dueAt),
    assignedAt: iso(i.assignedAt),
    remindersSent: i.reminders.filter((r) => r.sentAt !== null).length,
    overdueEscalatedAt: iso(i.overdueEscalatedAt),
    doneAt: iso(i.doneAt),
    doneBy: i.doneBy,
  };
}

function statusOf(s: PostmortemWorkflowState): PostmortemStatus {
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
      remindersSent: i.reminders
        .filter((r) => r.sentAt !== null)
        .map((r) => ({ step: r.step, at: isoOf(r.sentAt!) })),
      overdueEscalatedAt: iso(i.overdueEscalatedAt),
      doneAt: iso(i.doneAt),
      doneBy: i.doneBy,
    })),
    events: s.events,
  };
}
