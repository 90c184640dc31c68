// The incident lifecycle as a pure state machine (STYLE "functional core, imperative shell"):
// decide(state, input, now) -> { state, effects }. Every rule of the playbook's lifecycle (1.1 targets,
// 2.3 escalation matrix, re-paging, 4.x messages, reopen and close) is decided here, without Temporal, so it
// is tested exhaustively in milliseconds (test/playbook/lifecycle*.test.ts). incidentWorkflow only feeds
// inputs in and carries effects out.
import type { ProcedureResult } from '../contract/procedure';
import type { ActionName } from '../contract/incident';
import { resolvePolicy, type PolicyOverrides } from '../policy';
import type { RoleId } from '../roles';
import { formatCot, isoOf } from '../time';
import { applyAction, checkAction, closeWithdrawn, type Outcome } from './actions';
import { engage, notify, procedureSoFar, record, startText, type Draft, type Effect } from './draft';
import { clip, LIMITS } from './limits';
import { parseRsaPublicKeyPem, sha256, utf8 } from './origin-proof';
import { applyProcedureMessage, startProcedure, type ProcedureMessageName } from './procedure';
import { releaseSafetyHolds, safetyHoldsLine } from './safety-holds';
import {
  escalationPlan,
  isOpen,
  pageFloorMs,
  patchedIn,
  repageEvery,
  resolutionDeadline,
  scaled,
  responseDeadline,
  snapshot,
  statusUpdateDue,
  type IncidentState,
} from './state';
import { LEDGER_BATCH_MINUTES, ledgerFlush, ledgerWritten } from './ledger';
import { MINUTE_MS } from '../time';

// A decision's effects and an action's outcome are part of what decide() answers.
export type { Effect, Outcome };

/** What can happen to an incident. Times come with `now`, the workflow's deterministic clock. */
export type Input =
  /** The first workflow task of a new incident: first page, start message, procedure. */
  | { type: 'open' }
  /** The deployment's policy (merged with the start's own overrides), when the start did not carry it. */
  | { type: 'policy'; overrides: PolicyOverrides }
  /** Fire what is due at `now` (the decision clock). */
  | { type: 'tick' }
  /** The decision clock moves: a timer fired at its target, or an activity reported the worker's time. */
  | { type: 'clock'; at: number }
  /**
   * A delivery activity finished on `channel` at the worker's time `at` (the clock moves to it): `pages`, the
   * batch held a page (kind `page`), and `taken` notifications were delivered or already had been.
   */
  | { type: 'delivered'; channel: string; pages: boolean; taken: number; at: number }
  /** A human or ingress action, raw: validated here, a bad payload recorded as rejected. */
  | { type: 'action'; name: ActionName; payload: unknown; via: 'signal' | 'update'; actor?: string }
  /** A message of the procedure child (3.1-3.4), raw like any signal. */
  | { type: 'procedure'; name: ProcedureMessageName; payload: unknown }
  | { type: 'procedure.started'; workflowId: string }
  /** `workflowId`: the child that ended (a reopen starts another; an earlier run's end is only noted). */
  | { type: 'procedure.finished'; result: ProcedureResult; workflowId?: string }
  | { type: 'procedure.error'; error: string; started: boolean; workflowId?: string }
  /** A side effect gave up: recorded in the timeline (`eventType`), the incident carries on. */
  | { type: 'failed'; eventType: string; text: string }
  /** Ask for a ledger write if one is due (`force`: before continue-as-new and at close). */
  | { type: 'ledger.flush'; force: boolean }
  /** The ledger confirmed the events up to `upTo` (absolute timeline position). */
  | { type: 'ledger.written'; upTo: number }
  /**
   * A ledger activity gave up: `write` the incident's write (backed off), otherwise an approval's record.
   * `text` says what failed and why.
   */
  | { type: 'ledger.failed'; write: boolean; text: string }
  /**
   * The key that verifies the ingress's signature on an action's origin, from the worker's deployment config
   * (an activity's result; null: the deployment has none).
   */
  | { type: 'originKey'; key: string | null }
  | { type: 'postmortem.started'; workflowId: string }
  | { type: 'postmortem.failed'; error: string };

export interface Decision {
  state: IncidentState;
  effects: Effect[];
  /** Actions only: accepted (with a message) or rejected (with the reason). */
  outcome?: Outcome;
}

/** Copies what a decision may change, so the input state is never mutated (property-tested). */
function draftOf(state: IncidentState, now: number): Draft {
  return {
    now,
    effects: [],
    s: {
      ...state,
      engagements: [...state.engagements],
      breaches: [...state.breaches],
      timeline: [...state.timeline],
      findings: [...state.findings],
      safetyHolds: [...state.safetyHolds],
      pendingApprovals: [...state.pendingApprovals],
      closingApprovals: [...state.closingApprovals],
      afterClose: [...state.afterClose],
      early: [...state.early],
      rolePagedAt: { ...state.rolePagedAt },
      undelivered: [...state.undelivered],
      alerts: { ...state.alerts, active: { ...state.alerts.active } },
    },
  };
}

export function decide(state: IncidentState, input: Input, now: number): Decision {
  const d = draftOf(state, now);
  let outcome: Outcome | undefined;
  switch (input.type) {
    case 'open':
      open(d);
      break;
    case 'policy':
      policyArrived(d, input.overrides);
      break;
    case 'tick':
      processDue(d);
      break;
    case 'clock':
      d.s.clock = Math.max(d.s.clock, input.at);
      break;
    case 'delivered':
      d.s.clock = Math.max(d.s.clock, input.at);
      pageDelivered(d, input.channel, input.pages && input.taken > 0, input.at);
      break;
    case 'action':
      outcome = applyAction(d, input.name, input.payload, input.via);
      break;
    case 'procedure':
      applyProcedureMessage(d, input.name, input.payload);
      break;
    case 'procedure.started':
      record(d, 'system', 'procedure.started', `Playbook procedure ${d.s.procedure?.type ?? ''} started`, {
        workflowId: input.workflowId,
      });
      break;
    case 'procedure.finished': {
      const r = input.result;
      if (earlierRun(d.s, input.workflowId)) {
        record(
          d,
          r.procedure,
          'procedure.info',
          `Earlier run ${input.workflowId} ended: ${r.outcome}: ${r.summary}`,
        );
        break;
      }
      if (d.s.procedure?.status === 'running')
        d.s.procedure = { ...d.s.procedure, status: r.outcome, summary: clip(r.summary, LIMITS.freeText) };
      record(d, r.procedure, 'procedure.completed', `${r.procedure} ${r.outcome}: ${r.summary}`);
      break;
    }
    case 'procedure.error': {
      if (earlierRun(d.s, input.workflowId)) {
        record(d, 'system', 'procedure.info', `Earlier run ${input.workflowId} ended: ${input.error}`);
        break;
      }
      const p = d.s.procedure;
      if (p?.status === 'running')
        d.s.procedure = { ...p, status: 'failed', summary: clip(input.error, LIMITS.freeText) };
      if (p && p.status !== 'cancelled')
        record(
          d,
          'system',
          'procedure.failed',
          input.started ? `${p.type} failed: ${input.error}` : `${p.type} could not start: ${input.error}`,
        );
      break;
    }
    case 'failed':
      record(d, 'system', input.eventType, input.text);
      break;
    case 'ledger.flush':
      // Backing off after a failure; continue-as-new and close still try (input.force).
      if (!input.force && d.s.ledgerRetryAt !== null && now < d.s.ledgerRetryAt) break;
      ledgerFlush(d, input.force);
      break;
    case 'ledger.written':
      d.s.ledgerFailures = 0;
      d.s.ledgerRetryAt = null;
      ledgerWritten(d, input.upTo);
      break;
    case 'ledger.failed':
      ledgerFailed(d, input.write, input.text);
      break;
    case 'originKey':
      originKeyArrived(d, input.key);
      break;
    case 'postmortem.started':
      d.s.postmortemWorkflowId = input.workflowId;
      record(d, 'system', 'postmortem.started', `Post-mortem (6.1) tracked in ${input.workflowId}`, {
        workflowId: input.workflowId,
      });
      break;
    case 'postmortem.failed':
      record(d, 'system', 'postmortem.failed', `Post-mortem workflow could not start: ${input.error}`);
      break;
  }
  return { state: d.s, effects: d.effects, ...(outcome ? { outcome } : {}) };
}

/** Update validators: the verdict an action would get at `now`, without changing anything. */
export function validateAction(
  state: IncidentState,
  name: ActionName,
  payload: unknown,
  now: number = state.clock,
): Outcome {
  return checkAction(state, name, payload, now);
}

/** The worker's key for the ingress's origin signatures: kept, and said on the record with its fingerprint. */
function originKeyArrived(d: Draft, key: string | null): void {
  const s = d.s;
  if (key === null) {
    s.originKey = null;
    record(
      d,
      'system',
      'origin.key',
      'No origin key in the deployment (policy.originVerifyKey): Slack and PagerDuty actions are recorded as unverified',
    );
    return;
  }
  try {
    const parsed = parseRsaPublicKeyPem(key);
    s.originKey = key;
    const fingerprint = [...sha256(utf8(parsed.n.toString(16)))]
      .slice(0, 8)
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('');
    record(
      d,
      'system',
      'origin.key',
      `Slack and PagerDuty actions are verified with the deployment's origin key (RSA ${parsed.size * 8}, ${fingerprint})`,
    );
  } catch (err) {
    s.originKey = null;
    record(
      d,
      'system',
      'origin.key',
      `The deployment's origin key is unusable (${(err as Error).message}): Slack and PagerDuty actions are recorded as unverified`,
    );
  }
}

/**
 * 6.4 counts from the moment a human could know: the first page a channel reported delivered. The outbox (a
 * local file nobody is paged through) counts only when it is the incident's only channel.
 */
function pageDelivered(d: Draft, channel: string, page: boolean, at: number): void {
  const s = d.s;
  if (!page || !patchedIn(s, 'pagedAtDelivery') || s.firstPagedAt !== null) return;
  // (While the deployment's policy loads, it may add the channels people are paged on.)
  if (channel === 'outbox' && (s.policyPending || s.policy.channels.some((c) => c !== 'outbox'))) return;
  s.firstPagedAt = Math.max(at, s.firstPageComposedAt ?? at);
  record(d, 'system', 'paged', `First page delivered (${channel})`, { channel });
}

/** The least real time before a failed ledger write is tried again; it doubles with each failure in a row. */
export const LEDGER_RETRY_FLOOR_MS = 5_000;
/** ...up to this (real time): a database down for a day is still tried every ten minutes. */
export const LEDGER_RETRY_MAX_FLOOR_MS = 10 * MINUTE_MS;

/**
 * A ledger write that failed, whatever the cause (the database down, a value it refuses), is tried again
 * after the batch interval and never sooner than a real-time floor that doubles with each failure in a row:
 * the events stay pending meanwhile and go in that write. The failure is on the record as a routine event,
 * so it cannot ask for a write of its own (a write that fails every time would otherwise ask again at once,
 * in a loop). Before the patch: a `side-effect.failed` event, as then.
 */
function ledgerFailed(d: Draft, write: boolean, text: string): void {
  const s = d.s;
  if (!patchedIn(s, 'ledgerBackoff')) {
    record(d, 'system', 'side-effect.failed', text);
    return;
  }
  if (!write) {
    record(d, 'system', 'ledger.failed', text);
    return;
  }
  s.ledgerFailures += 1;
  const floor = Math.min(
    LEDGER_RETRY_FLOOR_MS * 2 ** Math.min(s.ledgerFailures - 1, 20),
    LEDGER_RETRY_MAX_FLOOR_MS,
  );
  s.ledgerRetryAt = d.now + Math.max(scaled(s, LEDGER_BATCH_MINUTES * MINUTE_MS), floor);
  // The row the failed write carried is still owed: written at the retry even without a new event.
  s.ledgerUrgent = true;
  record(
    d,
    'system',
    'ledger.failed',
    `${text} (failure ${s.ledgerFailures} in a row; tried again at ${isoOf(s.ledgerRetryAt)})`,
  );
}

// ---------- re-paging ----------

/**
 * A re-page: short (the 4.1 message went out with the first page), with what the procedure found so far
 * and how to acknowledge. One text for the round's roles; the delivery names who holds each role now.
 */
function repageText(s: IncidentState, roles: RoleId[]): string {
  return [
    `:rotating_light: Still unacknowledged (page ${s.repageCount + 1}): **${s.severity}** ${s.title}`,
    `Open since ${formatCot(s.openedAt)}.`,
    `**On-Call**: ${roles.map((r) => `@${r}`).join(', ')}`,
    ...procedureSoFar(s).map((l) => `- ${l}`),
    `Acknowledge: npm run -s temporal -- workflow signal --workflow-id ${s.workflowId} --name acknowledge --input '{"by":"<you>"}'`,
  ].join('\n');
}

// ---------- opening, the policy, and time ----------

function open(d: Draft): void {
  const s = d.s;
  record(d, 'system', 'opened', `Incident opened: ${s.title} (${s.severity}, ${s.kind})`, {
    source: s.source?.system ?? 'manual',
  });
  engage(
    d,
    escalationPlan(s, s.openedAt).due.flatMap((p) => p.roles),
    `escalate-${s.severity}-0m`,
    `${s.severity} initial response`,
  );
  const paged = s.engagements.map((e) => e.role);
  notify(d, 'info', 'start', 'channel', startText(s, `New ${s.severity} incident`, paged), '4.1', paged);
  // The procedure reads its pre-approvals and approval timeout from the policy: started on the playbook's
  // defaults while the deployment's policy loads, it would ask for what the deployment pre-approved.
  if (!(s.policyPending && patchedIn(s, 'procedureAfterPolicy'))) startProcedure(d);
}

/** A child that is not the incident's current procedure (a reopen started another). */
const earlierRun = (s: IncidentState, workflowId: string | undefined): boolean =>
  workflowId !== undefined && s.procedure !== null && workflowId !== s.procedure.workflowId;

/**
 * The deployment's policy arrived (a start that did not carry it). Messages already composed go again to
 * the channels it adds (same keys); steps its matrix makes due fire at the next tick. Roles the default
 * matrix paged stay engaged. The procedure starts now, on this policy. A load that failed arrives here too,
 * with the start's own overrides over the playbook defaults (the timeline says so before).
 */
function policyArrived(d: Draft, overrides: PolicyOverrides): void {
  const s = d.s;
  if (!s.policyPending) return;
  const before = new Set(s.policy.channels);
  s.policy = resolvePolicy(overrides);
  s.policyPending = false;
  const added = s.policy.channels.filter((c) => !before.has(c));
  if (added.length > 0)
    for (const n of s.early) d.effects.push({ type: 'notify', notification: n, channels: added });
  s.early = [];
  record(
    d,
    'system',
    'policy',
    `Policy ${s.policy.version} in force (channels: ${s.policy.channels.join(', ')}; pre-approved: ${s.policy.preApprovedActions.join(', ') || 'none'})`,
    {
      preApprovedActions: s.policy.preApprovedActions,
      approvalTimeoutMinutes: s.policy.approvalTimeoutMinutes,
    },
  );
  // Held back at open until now (a procedure that started at open has a `procedure` already), or by a
  // reopen while the policy was loading.
  if (
    isOpen(s) &&
    (s.procedure === null || (s.procedure.status === 'cancelled' && patchedIn(s, 'reopenRerunsProcedure')))
  )
    startProcedure(d);
}

/** Fires everything that is due at `now`: escalation steps, re-pages, SLA breaches, reminders, close. */
export function processDue(d: Draft): void {
  const s = d.s;
  const now = d.now;
  if (isOpen(s)) {
    // 2.3 escalation matrix: time since opened, cancelled only by resolution.
    for (const step of escalationPlan(s, now).due)
      engage(d, step.roles, step.stepId, `${s.severity} escalation matrix, ${step.afterMinutes} min`);
    const every = repageEvery(s);
    if (
      s.status === 'triggered' &&
      every !== null &&
      s.lastPagedAt !== null &&
      now >= s.lastPagedAt + every
    ) {
      s.repageCount += 1;
      s.lastPagedAt = now;
      const step = `repage-${s.repageCount}`;
      // Roles engaged in this same activation were just paged, and a role paged less than the real-time
      // floor ago (engaged since the last round) waits for the next: the round is for the others.
      const floor = pageFloorMs(s);
      const roles = s.engagements
        .filter((e) => e.at < now && now - (s.rolePagedAt[e.role] ?? e.at) >= floor)
        .map((e) => e.role);
      const text = repageText(s, roles);
      for (const role of roles) {
        s.rolePagedAt[role] = now;
        notify(d, 'repage', step, role, text, undefined, roles);
      }
      if (roles.length > 0)
        record(d, 'system', 'repage', `Not acknowledged: paged ${roles.join(', ')} again`, { step });
    }
    // The response target is about the first acknowledgement: a reopen after it is not a breach.
    if (
      s.status === 'triggered' &&
      s.responseBreachedAt === null &&
      s.firstAcknowledgedAt === null &&
      now >= responseDeadline(s)
    ) {
      s.responseBreachedAt = now;
      s.breaches.push({ type: 'response', at: now, severity: s.severity });
      const label = s.policy.responseTarget[s.severity].label;
      record(
        d,
        'system',
        'sla.breach',
        `Response target breached: ${s.severity} not acknowledged within ${label}`,
      );
      notify(
        d,
        'breach',
        'breach-response',
        'channel',
        `:warning: ${s.title}: ${s.severity} response target (${label}) missed, still unacknowledged`,
      );
    }
    const updateDue = statusUpdateDue(s);
    if (updateDue !== null && now >= updateDue) {
      s.lastReminderAt = now;
      s.seq += 1;
      record(d, 'system', 'update.reminder', `Status update (4.2) due from ${s.acknowledgedBy}`);
      notify(
        d,
        'info',
        `update-reminder-${s.seq}`,
        'channel',
        [
          `:hourglass: ${s.acknowledgedBy}: a status update (4.2) for "${s.title}" is due. Send the postUpdate signal.`,
          ...procedureSoFar(s).map((l) => `- ${l}`),
        ].join('\n'),
      );
    }
    if (s.resolutionBreachedAt === null && now >= resolutionDeadline(s)) {
      s.resolutionBreachedAt = now;
      s.breaches.push({ type: 'resolution', at: now, severity: s.severity });
      const label = s.policy.resolutionTarget[s.severity].label;
      record(
        d,
        'system',
        'sla.breach',
        `Resolution target breached: ${s.severity} not resolved within ${label}`,
      );
      notify(
        d,
        'breach',
        'breach-resolution',
        'channel',
        `:warning: ${s.title}: ${s.severity} resolution target (${label}) missed`,
      );
    }
  } else if (s.status === 'resolved' && s.reopenUntil !== null && now >= s.reopenUntil) {
    s.status = 'closed';
    s.closedAt = now;
    record(d, 'system', 'closed', 'Reopen window over: incident closed');
    releaseSafetyHolds(d, 'incident closed');
    // Decisions the cancelled procedure never answered: nothing was done with them.
    for (const p of s.closingApprovals)
      closeWithdrawn(d, p, 'incident resolved before the procedure took the decision');
    s.closingApprovals = [];
  }
}

/** When the next time-based decision is due (real epoch ms), or null: nothing until an input. */
export function nextWakeup(s: IncidentState, now: number): number | null {
  const candidates: number[] = [];
  if (isOpen(s)) {
    const next = escalationPlan(s, now).next;
    if (next) candidates.push(next.dueAt);
    const every = repageEvery(s);
    if (s.status === 'triggered' && every !== null && s.lastPagedAt !== null)
      candidates.push(s.lastPagedAt + every);
    if (s.status === 'triggered' && s.responseBreachedAt === null && s.firstAcknowledgedAt === null)
      candidates.push(responseDeadline(s));
    if (s.resolutionBreachedAt === null) candidates.push(resolutionDeadline(s));
    const updateDue = statusUpdateDue(s);
    if (updateDue !== null) candidates.push(updateDue);
  } else if (s.status === 'resolved' && s.reopenUntil !== null) {
    candidates.push(s.reopenUntil);
  }
  // Routine events the ledger has not seen yet go in the next batch, at the latest this long after the last.
  const pending = s.timelineDropped + s.timeline.length > s.ledgerSeq;
  // (Already due: the flush after this tick takes them, or the write in flight wakes the loop when done.)
  const batchDue =
    s.ledgerAskedAt === null ? null : s.ledgerAskedAt + scaled(s, LEDGER_BATCH_MINUTES * MINUTE_MS);
  if (pending && batchDue !== null && batchDue > now) candidates.push(batchDue);
  // After a failed write: the retry (the row it carried is owed even with no event pending).
  if ((pending || s.ledgerUrgent) && s.ledgerRetryAt !== null && s.ledgerRetryAt > now)
    candidates.push(s.ledgerRetryAt);
  return candidates.length ? Math.min(...candidates) : null;
}

/** The search attributes the incident keeps current (IncidentSeverity, IncidentStatus, IncidentKind). */
export const searchAttributes = (s: IncidentState) => ({
  severity: s.severity,
  status: s.status,
  kind: s.kind,
});

/**
 * The Web UI's current details (its User Metadata tab): the incident at a glance, one Markdown list item per
 * line (a plain newline would run them together), every time in UTC beside COT.
 */
export function currentDetails(s: IncidentState, now: number, formatTime: (ms: number) => string): string {
  const next = isOpen(s) ? escalationPlan(s, now).next : null;
  return [
    `**${s.severity} ${s.status.toUpperCase()}**: ${s.title}`,
    '',
    `- Kind: ${s.kind}`,
    `- Opened: ${formatTime(s.openedAt)}`,
    s.acknowledgedBy
      ? `- Acknowledged by ${s.acknowledgedBy}${s.acknowledgedAt !== null ? ` at ${formatTime(s.acknowledgedAt)}` : ''}`
      : '- Not acknowledged',
    s.resolvedBy
      ? `- Resolved by ${s.resolvedBy}${s.resolvedAt !== null ? ` at ${formatTime(s.resolvedAt)}` : ''}`
      : '',
    `- Engaged: ${s.engagements.map((e) => e.role).join(', ') || 'nobody yet'}`,
    next ? `- Next escalation: ${next.roles.join(', ')} at ${formatTime(next.dueAt)}` : '',
    `- Alerts: ${Object.keys(s.alerts.active).length} firing, ${s.alerts.received} received`,
    safetyHoldsLine(s, formatTime),
  ]
    .filter((line, i) => line !== '' || i === 1)
    .join('\n');
}

/** Serialized size of the state (what continue-as-new and every query carry). */
export const stateBytes = (s: IncidentState): number => JSON.stringify(s).length;

/** Continue-as-new on history length, history bytes, the server's suggestion, or the state's own size. */
export function continueAsNewDue(
  s: IncidentState,
  history: { length: number; bytes: number; suggested: boolean },
): string | null {
  if (history.length > s.policy.continueAsNewAfterEvents) return `history has ${history.length} events`;
  if (history.bytes > LIMITS.historyBytes) return `history has ${history.bytes} bytes`;
  if (history.suggested) return 'the server suggests it';
  // A large state makes every task's history events large: start afresh, but not in a loop (a new run has
  // a short history and keeps the state it carries).
  if (history.length > 500) {
    const bytes = stateBytes(s);
    if (bytes > LIMITS.stateBytes) return `state has ${bytes} bytes`;
  }
  return null;
}

export { snapshot };
