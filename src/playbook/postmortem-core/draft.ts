// A decision in progress: a copy of the state it may change, the time it is taken at, and the effects so
// far. The helpers here are how every rule records an event and tells people.
import type { Notification } from '../contract/notification';
import { isRoleId, type RoleId } from '../roles';
import { formatCot, isoOf } from '../time';
import { ENG_LEAD, MAX_EVENTS, type PostmortemWorkflowState, type Reminder } from './state';

/** What the workflow must do: deliveries (one activity per channel) and the ledger row's refresh. */
export type Effect =
  | { type: 'notify'; channel: string; notification: Notification }
  /** The ledger row is out of date: the workflow writes the latest state when its loop next runs. */
  | { type: 'ledger.changed' };

export interface Draft {
  readonly s: PostmortemWorkflowState;
  /** The decision's time: the decision clock, or the time a person acted. */
  readonly now: number;
  readonly effects: Effect[];
}

export function record(
  d: Draft,
  actor: string,
  type: string,
  text: string,
  data?: Record<string, unknown>,
  at: number = d.now,
): void {
  const events = d.s.events;
  events.push({ at: isoOf(at), actor, type, text, ...(data ? { data } : {}) });
  if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
}

export function changed(d: Draft): void {
  if (!d.effects.some((e) => e.type === 'ledger.changed')) d.effects.push({ type: 'ledger.changed' });
}

/**
 * To a role (paged as that role by the channels) or to a person (named in a channel message), on every
 * channel of the post-mortem. The key is per step and target, so a retried delivery is sent once.
 */
export function deliver(d: Draft, step: string, who: string, text: string, at: number = d.now): void {
  const s = d.s;
  const target: RoleId | 'channel' = isRoleId(who) ? who : 'channel';
  const body = target === 'channel' && who !== 'channel' ? `@${who} ${text}` : text;
  for (const channel of s.channels) {
    const notification: Notification = {
      idempotencyKey: `${s.incidentId}:${step}:${target}`,
      incidentId: s.incidentId,
      step,
      target,
      kind: 'info',
      severity: s.severity,
      title: s.title,
      text: body,
      createdAt: isoOf(at),
      incidentStatus: 'closed',
    };
    d.effects.push({ type: 'notify', channel, notification });
  }
}

/** The owner and the engineering lead, once each (the owner may be the engineering lead). */
export function deliverEscalation(d: Draft, step: string, owner: string, text: string, at?: number): void {
  deliver(d, step, ENG_LEAD, text, at);
  if (owner !== ENG_LEAD) deliver(d, step, owner, text, at);
}

export const dueLabel = (s: PostmortemWorkflowState): string => (s.dueAt === null ? '-' : formatCot(s.dueAt));

export const refOf = (s: PostmortemWorkflowState): string =>
  `post-mortem for ${s.severity} incident "${s.title}" (${s.incidentId})`;

/** Reminders not sent yet are moot (the deadline passed, or the work is done). */
export function skipPending(reminders: Reminder[]): void {
  for (const r of reminders) if (r.sentAt === null && !r.skipped) r.skipped = true;
}
