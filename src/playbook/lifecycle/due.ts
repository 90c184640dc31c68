// What is due, and when: escalation steps, re-pages, SLA breaches, 4.2 reminders, and the close at the end of
// the reopen window. One table of rules drives both the work a tick does and the time of the next wake-up,
// so the two cannot disagree: each rule says when it is next due (`at`, on the state as it is when asked)
// and what it does then (`fire`).
import { closeWithdrawn } from './actions';
import { engage, notify, procedureSoFar, record, type Draft } from './draft';
import { ledgerWakeup } from './ledger';
import { releaseSafetyHolds } from './safety-holds';
import {
  escalationPlan,
  isOpen,
  pageFloorMs,
  repageEvery,
  resolutionDeadline,
  responseDeadline,
  statusUpdateDue,
  type IncidentState,
} from './state';
import { formatCot } from '../time';
import type { RoleId } from '../roles';

interface DueRule {
  /** When the rule is due (real epoch ms; at or before `now`: due now), or null: not until the state changes. */
  at(s: IncidentState, now: number): number | null;
  fire(d: Draft): void;
}

/** 2.3 escalation matrix: time since opened, cancelled only by resolution. */
const escalation: DueRule = {
  at: (s, now) => {
    const plan = escalationPlan(s, now);
    return plan.due[0]?.dueAt ?? plan.next?.dueAt ?? null;
  },
  fire: (d) => {
    const s = d.s;
    for (const step of escalationPlan(s, d.now).due)
      engage(d, step.roles, step.stepId, `${s.severity} escalation matrix, ${step.afterMinutes} min`);
  },
};

/** Unacknowledged: the engaged roles are paged again at the severity's cadence. */
const repage: DueRule = {
  at: (s) => {
    const every = repageEvery(s);
    return s.status === 'triggered' && every !== null && s.lastPagedAt !== null
      ? s.lastPagedAt + every
      : null;
  },
  fire: (d) => {
    const { s, now } = d;
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
  },
};

/** 1.1 response target: about the first acknowledgement, so a reopen after it is not a breach. */
const responseBreach: DueRule = {
  at: (s) =>
    s.status === 'triggered' && s.responseBreachedAt === null && s.firstAcknowledgedAt === null
      ? responseDeadline(s)
      : null,
  fire: (d) => {
    const { s, now } = d;
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
  },
};

/** 4.2: the acknowledger is reminded when a status update is due. */
const updateReminder: DueRule = {
  at: (s) => statusUpdateDue(s),
  fire: (d) => {
    const s = d.s;
    s.lastReminderAt = d.now;
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
  },
};

/** 1.1 resolution target. */
const resolutionBreach: DueRule = {
  at: (s) => (s.resolutionBreachedAt === null ? resolutionDeadline(s) : null),
  fire: (d) => {
    const { s, now } = d;
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
  },
};

/** Resolved: the reopen window ends and the incident closes. */
const close: DueRule = {
  at: (s) => s.reopenUntil,
  fire: (d) => {
    const s = d.s;
    s.status = 'closed';
    s.closedAt = d.now;
    record(d, 'system', 'closed', 'Reopen window over: incident closed');
    releaseSafetyHolds(d, 'incident closed');
    // Decisions the cancelled procedure never answered: nothing was done with them.
    for (const p of s.closingApprovals)
      closeWithdrawn(d, p, 'incident resolved before the procedure took the decision');
    s.closingApprovals = [];
  },
};

/** In the order a tick fires them: the roles a step engages are not re-paged in the same round. */
const OPEN_RULES: readonly DueRule[] = [escalation, repage, responseBreach, updateReminder, resolutionBreach];

function rulesFor(s: IncidentState): readonly DueRule[] {
  if (isOpen(s)) return OPEN_RULES;
  return s.status === 'resolved' ? [close] : [];
}

/** Fires everything that is due at `now` (the decision clock). */
export function processDue(d: Draft): void {
  for (const rule of rulesFor(d.s)) {
    const at = rule.at(d.s, d.now);
    if (at !== null && d.now >= at) rule.fire(d);
  }
}

/** When the next time-based decision is due (real epoch ms), or null: nothing until an input. */
export function nextWakeup(s: IncidentState, now: number): number | null {
  const times = [...rulesFor(s).map((rule) => rule.at(s, now)), ledgerWakeup(s, now)].filter(
    (t): t is number => t !== null,
  );
  return times.length ? Math.min(...times) : null;
}

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
