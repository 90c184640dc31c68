// The building blocks every lifecycle rule uses: the draft a decision writes into (a copy of the state and
// the effects so far), the timeline record, one notification, paging a role and escalating past it. Every
// rule module (actions, procedure, safety holds, severity changes, the ledger) and decide.ts import these
// from here, so none of them needs to import decide.ts, which imports them all.
import type { Notification, NotificationKind } from '../contract/notification';
import type { PostmortemInput } from '../contract/postmortem';
import type { ApprovalDecision, ProcedureInput } from '../contract/procedure';
import type { LedgerApproval, LedgerWrite } from '../contract/records';
import { DEFAULT_CONTACTS, isWithinHours } from '../contacts';
import { exhaustedNotice, nextEscalation } from '../escalation';
import { updatesChannelOf } from '../policy';
import { ROLES, type RoleId } from '../roles';
import { renderIncidentStart } from '../templates';
import { isoOf } from '../time';
import { clip, clipData, eventBytes, LIMITS } from './limits';
import { patchedIn, type IncidentState } from './state';

/** What the interpreter must do. Each is an activity, a child workflow call or a signal. */
export type Effect =
  /** Deliver on every channel of the policy (or on `channels`), batched per channel per activation (./fan-out). */
  | {
      type: 'notify';
      notification: Notification;
      channels?: string[];
      /** Not to this channel (where the action came from), if the worker's version says so (./fan-out). */
      except?: string;
    }
  | { type: 'ledger.write'; write: LedgerWrite }
  | { type: 'ledger.approval'; approval: LedgerApproval }
  | { type: 'procedure.start'; workflowType: string; workflowId: string; input: ProcedureInput }
  | { type: 'procedure.cancel'; workflowId: string }
  | { type: 'procedure.decision'; workflowId: string; decision: ApprovalDecision }
  /** A batch an earlier run did not see delivered, sent again as it was (same keys). */
  | { type: 'deliver'; channel: string; notifications: Notification[] }
  /**
   * Read the deployment's config (the worker's): its whole policy (a start without it, e.g. from the CLI), or
   * only the origin key (a start input is anyone's to write; the key must not be).
   */
  | { type: 'deployment.load'; want: 'policy' | 'originKey' }
  /** 6.1: the post-mortem obligation, in its own workflow that outlives the incident (ABANDON). */
  | { type: 'postmortem.start'; workflowType: string; workflowId: string; input: PostmortemInput };

/** A decision in progress: a copy of the state it may change, and the effects so far. */
export interface Draft {
  readonly s: IncidentState;
  readonly now: number;
  readonly effects: Effect[];
}

/** Timeline event types that need no prompt ledger write (they come in bulk; the next batch takes them). */
const ROUTINE_EVENTS = new Set([
  'repage',
  // Matrix steps and breaches on their schedule: the 30-minute batch takes them (the row is rewritten
  // at every status change anyway, and at close).
  'escalation',
  'sla.breach',
  'alert.fired',
  'alert.resolved',
  'update.reminder',
  'signal.rejected',
  'signal.ignored',
  'notify.failed',
  // A failed ledger write is retried on its own schedule (ledgerFailed): its record must not ask for another.
  'ledger.failed',
  // The metrics it moves go with the next write (the row is rewritten at every status change anyway).
  'paged',
  'procedure.finding',
  'procedure.info',
  'procedure.decision',
  'procedure.action',
]);

export function record(
  d: Draft,
  actor: string,
  type: string,
  text: string,
  data?: Record<string, unknown>,
): void {
  const s = d.s;
  const event = {
    at: isoOf(d.now),
    actor: clip(actor, 200),
    type,
    text: clip(text, LIMITS.eventText),
    ...(data ? { data: clipData(data) } : {}),
  };
  s.timeline.push(event);
  s.timelineBytes += eventBytes(event);
  if (!ROUTINE_EVENTS.has(type)) s.ledgerUrgent = true;
  trimTimeline(s);
}

/**
 * The state keeps the latest LIMITS.timelineKeep events; older ones are dropped once the ledger has them,
 * or, past LIMITS.timelineHardCap events or LIMITS.timelineBytes (the ledger down or behind a burst), even
 * if it has not. The ledger keeps the whole timeline it was given.
 */
export function trimTimeline(s: IncidentState): void {
  const slack = Math.ceil(LIMITS.timelineKeep / 2);
  const over = () => s.timeline.length > LIMITS.timelineHardCap || s.timelineBytes > LIMITS.timelineBytes;
  if (s.timeline.length <= LIMITS.timelineKeep + slack && !over()) return;
  const written = Math.max(0, s.ledgerSeq - s.timelineDropped);
  let drop = Math.min(written, Math.max(0, s.timeline.length - LIMITS.timelineKeep));
  let bytes = 0;
  for (let i = 0; i < drop; i++) bytes += eventBytes(s.timeline[i]!);
  // Still over a hard bound: drop unwritten ones too, oldest first.
  while (
    drop < s.timeline.length - LIMITS.timelineKeep &&
    (s.timeline.length - drop > LIMITS.timelineHardCap || s.timelineBytes - bytes > LIMITS.timelineBytes)
  ) {
    bytes += eventBytes(s.timeline[drop]!);
    drop += 1;
  }
  if (drop <= 0) return;
  s.timeline.splice(0, drop);
  s.timelineDropped += drop;
  s.timelineBytes -= bytes;
}

/** Messages kept while the policy is pending, to send again on the channels it adds. */
const EARLY_KEEP = 20;

/** One message, on every channel of the policy: key `<incident id>:<step>:<target>`. */
export function notify(
  d: Draft,
  kind: NotificationKind,
  step: string,
  target: RoleId | 'channel',
  text: string,
  template?: Notification['template'],
  onCall?: RoleId[],
  /** A channel not to send it to: the one the action came from (PagerDuty already knows it acknowledged). */
  except?: string,
): void {
  const s = d.s;
  const notification: Notification = {
    idempotencyKey: `${s.incidentId}:${step}:${target}`,
    incidentId: s.incidentId,
    step,
    target,
    kind,
    severity: s.severity,
    title: s.title,
    text,
    ...(template ? { template } : {}),
    ...(onCall ? { onCall } : {}),
    createdAt: isoOf(d.now),
    incidentStatus: s.status,
  };
  d.effects.push(except ? { type: 'notify', notification, except } : { type: 'notify', notification });
  if (s.policyPending && s.early.length < EARLY_KEEP) s.early.push(notification);
}

/** Human steps the procedure left so far ("human step: ..." findings), newest last. */
export function humanSteps(s: IncidentState): string[] {
  return [
    ...new Set(
      s.findings
        .filter((f) => f.text.startsWith('human step: '))
        .map((f) => `${f.step}: ${f.text.slice('human step: '.length)}`),
    ),
  ];
}

/**
 * What the procedure found so far and what it asks of a human: every page after the diagnosis and every
 * 4.2 reminder carries it, instead of the 4.1 placeholders.
 */
export function procedureSoFar(s: IncidentState): string[] {
  if (!s.procedure) return [];
  const p = s.procedure;
  const causes = s.findings.filter((f) => f.type === 'decision' && f.text.startsWith('cause: '));
  return [
    p.status === 'running'
      ? `Procedure ${p.type} running`
      : `Procedure ${p.type} ${p.status}: ${p.summary ?? ''}`,
    ...causes.slice(-5).map((f) => `Diagnosis: ${f.text.slice('cause: '.length)}`),
    ...humanSteps(s)
      .slice(-5)
      .map((h) => `Needs a human: ${h}`),
  ];
}

/** 4.1 for `roles` (who this message pages; the delivery adds who holds each role now). */
export function startText(s: IncidentState, reason: string, roles: RoleId[]): string {
  const soFar = procedureSoFar(s);
  return `${reason}\n\n${renderIncidentStart({
    title: s.title,
    severity: s.severity,
    impact: s.summary,
    startedAt: s.openedAt,
    onCall: roles,
    symptoms: Object.values(s.alerts.active).slice(-10),
    actions: soFar.length ? soFar : ['Investigating'],
    channel: updatesChannelOf(s.policy),
  })}`;
}

/**
 * 2.1 "Hours": a role paged outside its hours (Eng Lead, Trading Lead, ML Lead, Team Lead out of their COT
 * working hours) is paged all the same, and the page and the timeline say so. The 2.3 matrix and 3.1 name who
 * is engaged and when, whatever the hour, and "Escalation never leaves the matrix" (DESIGN): nobody stands
 * in for them, and whoever is on it sees that the person may take longer to answer, so the next step (or a
 * manual escalate) is theirs to weigh. The hours are the playbook's 2.1 column; the CTO's "Emergency Only"
 * is what an engagement of the CTO is, so it is not flagged.
 */
export function offHoursNote(
  roles: readonly RoleId[],
  now: number,
): { roles: RoleId[]; text: string } | null {
  const off = roles.filter((r) => {
    const hours = DEFAULT_CONTACTS[r].hours;
    return hours !== '24/7' && hours !== 'emergency-only' && !isWithinHours(hours, now);
  });
  if (off.length === 0) return null;
  const which = off.map((r) => `${r} (${ROLES[r].hours})`).join(', ');
  return {
    roles: off,
    text: `off hours for ${which}: paged anyway, as 2.3 says; they may take longer to answer`,
  };
}

/** Pages the roles not engaged yet, each under its own key, with one shared 4.1 text. */
export function engage(d: Draft, roles: RoleId[], step: string, reason: string): void {
  const s = d.s;
  const fresh = [...new Set(roles)].filter((r) => !s.engagements.some((e) => e.role === r));
  if (fresh.length === 0) return;
  const off = offHoursNote(fresh, d.now);
  const why = off ? `${reason}; ${off.text}` : reason;
  const text = startText(s, `Paging ${fresh.join(', ')}: ${why}`, fresh);
  for (const role of fresh) {
    s.engagements.push({ role, at: d.now, step });
    s.rolePagedAt[role] = d.now;
    notify(d, 'page', step, role, text, '4.1', fresh);
  }
  s.firstPageComposedAt ??= d.now;
  if (!patchedIn(s, 'pagedAtDelivery')) s.firstPagedAt ??= d.now;
  if (s.status === 'triggered') s.lastPagedAt ??= d.now;
  record(d, 'system', 'escalation', `Engaged ${fresh.join(', ')} (${why})`, {
    step,
    roles: fresh,
    ...(off ? { offHours: off.roles } : {}),
  });
}

/**
 * Manual escalate, an unanswered approval, a procedure re-escalation: the next role of the current matrix
 * (suffix keeps each cause's idempotency keys apart). Past the matrix the engaged roles are told nobody is
 * left (DESIGN "Escalation never leaves the matrix").
 */
export function escalateNext(d: Draft, suffix: string, reason: string): void {
  const s = d.s;
  const t = nextEscalation(
    s.policy.escalationMatrix,
    s.severity,
    s.engagements.map((e) => e.role),
    s.policy.escalationBeyondMatrix[s.severity],
  );
  if (t.kind === 'step') {
    engage(d, t.roles, `${t.stepId}${suffix}`, reason);
    return;
  }
  s.seq += 1;
  const notice = exhaustedNotice(s.severity, reason);
  record(d, 'system', 'escalation.exhausted', notice, { severity: s.severity });
  for (const e of s.engagements) notify(d, 'page', `escalation-exhausted-${s.seq}`, e.role, notice);
}
