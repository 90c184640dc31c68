// What a post-mortem knows (playbook 6.1-6.3), as plain data: carried whole across continue-as-new, so its
// shape stays readable by every later version (a field added is optional, none is renamed).
import type { PostmortemRequirement, PostmortemState } from '../contract/records';
import { postmortemInputSchema, type PostmortemEvent, type PostmortemInput } from '../contract/postmortem';
import { formatIssues } from '../contract/payload';
import { isoOf } from '../time';
import {
  DEFAULT_POSTMORTEM_REMINDERS,
  postmortemPlan,
  type PostmortemReminderPolicy,
} from '../postmortem-schedule';
import type { RoleId } from '../roles';
import type { Severity } from '../severity';

/** Who is told when a post-mortem or an action item is overdue, and the default owner. */
export const ENG_LEAD: RoleId = 'eng-lead';
/** The timeline keeps the latest events only: the state is carried in every continue-as-new. */
export const MAX_EVENTS = 500;
/** Nothing is left to decide in these: the workflow returns. */
export const TERMINAL: readonly PostmortemState[] = ['done', 'not-required', 'lapsed'];

export interface Reminder {
  step: string;
  at: number;
  sentAt: number | null;
  /** Passed over: a later one went out instead, or the deadline or completion made it moot. */
  skipped: boolean;
}

export interface ItemState {
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
  /**
   * Decision clock: every time-based decision (reminders, the deadline, overdue repeats) is taken against
   * it. It moves to a timer's target when the timer fires (recorded in history); see postmortemWorkflow
   * for why not the workflow task's time.
   */
  clock: number;
  /** Ledger row version, grows with every write. */
  version: number;
  announcedStart: boolean;
}

export const isTerminal = (s: PostmortemWorkflowState): boolean => TERMINAL.includes(s.status);

/** The start's input, validated: a bad one is refused with the fields at fault. */
export function parseInput(
  raw: unknown,
): { ok: true; input: PostmortemInput } | { ok: false; reason: string } {
  const parsed = postmortemInputSchema.safeParse(raw);
  return parsed.success
    ? { ok: true, input: parsed.data }
    : { ok: false, reason: `invalid postmortemWorkflow input: ${formatIssues(parsed.error.issues)}` };
}

/** Each field of the reminder timing from the start's input, or its default. */
export function reminderPolicyOf(i: PostmortemInput): PostmortemReminderPolicy {
  const given = i.reminders ?? {};
  return {
    atFractions: given.atFractions ?? DEFAULT_POSTMORTEM_REMINDERS.atFractions,
    // null is a choice (no repeat), so only a missing field takes the default.
    overdueRepeatHours:
      given.overdueRepeatHours === undefined
        ? DEFAULT_POSTMORTEM_REMINDERS.overdueRepeatHours
        : given.overdueRepeatHours,
    actionItemBeforeDueHours:
      given.actionItemBeforeDueHours ?? DEFAULT_POSTMORTEM_REMINDERS.actionItemBeforeDueHours,
    actionItemOverdueRepeatHours:
      given.actionItemOverdueRepeatHours === undefined
        ? DEFAULT_POSTMORTEM_REMINDERS.actionItemOverdueRepeatHours
        : given.actionItemOverdueRepeatHours,
  };
}

/**
 * A new post-mortem, started at `startedAt` (the run's start event, from history). The decision clock
 * starts at the later of the resolution and the start: the parent starts it some time after the
 * resolution (it closes after its reopen window), and what fell due meanwhile is decided at once.
 */
export function openState(i: PostmortemInput, startedAt: number): PostmortemWorkflowState {
  const resolvedAt = Date.parse(i.resolvedAt);
  const timeScale = i.timeScale ?? 1;
  const reminderPolicy = reminderPolicyOf(i);
  const plan = postmortemPlan(i.severity, resolvedAt, timeScale, reminderPolicy.atFractions);
  const clock = Math.max(resolvedAt, startedAt);
  const required = plan.rule.requirement !== 'none';
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
    status: required ? 'open' : 'not-required',
    overdueEscalatedAt: null,
    lastOverdueAt: null,
    overdueRepeats: 0,
    completedAt: null,
    completedBy: null,
    documentUrl: null,
    items: [],
    events: required
      ? []
      : [
          {
            at: isoOf(clock),
            actor: 'system',
            type: 'postmortem.not-required',
            text: `6.1: no post-mortem for ${i.severity}`,
          },
        ],
    clock,
    version: 0,
    announcedStart: false,
  };
}

/** A copy of what a decision may change, so the state it was given is never mutated. */
export function draftOf(s: PostmortemWorkflowState): PostmortemWorkflowState {
  const reminders = (rs: Reminder[]) => rs.map((r) => ({ ...r }));
  return {
    ...s,
    reminders: reminders(s.reminders),
    items: s.items.map((i) => ({ ...i, reminders: reminders(i.reminders) })),
    events: [...s.events],
  };
}
