// incidentWorkflow: one incident, from the first alert to close (DESIGN "Lifecycle rules").
// Pure orchestration: every decision comes from src/playbook, every side effect is an activity.
import { WorkflowExecutionAlreadyStartedError, type UpdateDefinition } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import type { z } from 'zod';
import { clockActivities } from './clock';
import { actorOf, errorMessage, formatIssues, isoOf } from './util';
import type { IncidentActivities } from '../activities';
import type { Notification, NotificationKind } from '../activities/notify/port';
import {
  exhaustedNotice,
  legacyManualEscalationTarget,
  nextEscalation,
  planEscalation,
  type EscalationTarget,
} from '../playbook/escalation';
import { resolvePolicy } from '../playbook/policy';
import { postmortemDueAt, POSTMORTEM_RULES } from '../playbook/postmortem';
import type { RoleId } from '../playbook/roles';
import { severityRank, targetDurationMs, type Severity } from '../playbook/severity';
import {
  renderExternalStatus,
  renderIncidentResolved,
  renderIncidentStart,
  renderIncidentUpdate,
} from '../playbook/templates';
import { MINUTE_MS, formatCot } from '../playbook/time';
import {
  ACTION_SCHEMAS,
  IncidentKindKey,
  IncidentSeverityKey,
  IncidentStatusKey,
  incidentInputSchema,
  type ActionInput,
  type ActionName,
  type ActionResult,
  type Finding,
  type IncidentInput,
  type IncidentStatus,
  type ProcedureInput,
  type ProcedureResult,
  PROCEDURE_WORKFLOWS,
} from './definitions';
import * as defs from './definitions';
import {
  alertLabel,
  moreSevere,
  openState,
  snapshot,
  stripContinued,
  withDefaults,
  type IncidentState,
  type IncidentWorkflowInput,
} from './incident-state';
import {
  POSTMORTEM_WORKFLOW_TYPE,
  postmortemWorkflowId,
  type PostmortemInput,
} from './postmortem-definitions';

// Paging must never be lost: retry with backoff for up to an hour; each channel is its own activity so
// a failing one never delays another (DESIGN "Side effects").
// startToClose is short so a page whose worker died is retried within seconds.
const paging = wf.proxyActivities<IncidentActivities>({
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
});
// The ledger is the record for the monthly metrics (6.4): retried patiently, never in the paging path.
const ledger = wf.proxyActivities<IncidentActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 30,
  },
});

/** Timeline events kept in the workflow state (the ledger keeps them all); trimmed in steps of the slack. */
const TIMELINE_KEEP = 1000;
const TIMELINE_SLACK = 200;
/** Past this, events are dropped even if the ledger has not confirmed them (it is down or absent). */
const TIMELINE_HARD_CAP = 3000;
const MAX_ACTIVE_ALERTS = 500;

/** patched() id of the ledger writes and the post-mortem start (added after the first recorded histories). */
const PATCH_LEDGER_AND_POSTMORTEM = 'ledger-and-postmortem-v1';
/** patched() id of incident ids distinct from the workflow id (histories before it used the workflow id). */
const PATCH_INCIDENT_KEY = 'incident-key-v1';
/** patched() id of the bounded drain before continue-as-new (before it, the run waited for every side effect). */
const PATCH_BOUNDED_DRAIN = 'bounded-drain-v1';
/**
 * patched() id of escalation inside the current severity's matrix (no CTO past its end), the CTO for a loss
 * in `resolve.financialImpactUsd`, and approvals recorded only when the procedure's gate took them. Asked in
 * the run's first activation, like PATCH_ACTIVITY_CLOCK; histories recorded before it keep the old rules.
 */
export const PATCH_MATRIX_AND_APPROVALS = 'matrix-and-approval-record-v1';
/** patched() id of procedure results and "notify team" delivered on the channels (before: timeline only). */
export const PATCH_PROCEDURE_RESULTS = 'procedure-results-to-channels-v1';

// Date.now() inside the workflow sandbox is the workflow task's time, recorded and replay-safe.
const workflowNow = (): number => Date.now();

export async function incidentWorkflow(rawInput: IncidentWorkflowInput): Promise<IncidentStatus> {
  const continued = rawInput.continued;
  const parsed = incidentInputSchema.safeParse(stripContinued(rawInput));
  if (!parsed.success && !continued) {
    // A bad start must say why; the workflow fails at once instead of paging with garbage.
    throw wf.ApplicationFailure.nonRetryable(
      `invalid incidentWorkflow input: ${formatIssues(parsed.error.issues)}`,
      'InvalidIncidentInput',
    );
  }
  const input = parsed.success ? parsed.data : (stripContinued(rawInput) as IncidentInput);
  // The policy and the decision clock come from ordinary activities (PATCH_ACTIVITY_CLOCK in ./clock). A run
  // with that patch implies the three patches above without asking them again; only histories recorded
  // before it ask them (and read the clock through local activities).
  const { current, activities: clock } = clockActivities();
  /** A versioned change: always on in a run recorded by this code, asked of older histories. */
  const since = (patchId: string) => current || wf.patched(patchId);
  const withinMatrix = wf.patched(PATCH_MATRIX_AND_APPROVALS);
  const tellPeople = wf.patched(PATCH_PROCEDURE_RESULTS);

  // State first, then every handler, all before the first await, so a query or signal that arrives with
  // the start is served. The deployment's policy is merged in right after (the first activity).
  const s: IncidentState = continued
    ? withDefaults(continued)
    : openState(input, {
        openedAt: workflowNow(),
        workflowId: wf.workflowInfo().workflowId,
        carriedAlerts: rawInput.carriedAlerts ?? [],
        distinctIncidentId: since(PATCH_INCIDENT_KEY),
      });
  const inflight = new Set<Promise<unknown>>();
  let dirty = false;
  const touch = () => {
    dirty = true;
  };

  // ---------- helpers that mutate state ----------
  /** Runs a side effect without blocking the incident; waited for before continue-as-new and completion. */
  const track = (p: Promise<unknown>, what: string) => {
    const q = p.then(
      () => undefined,
      (err: unknown) => {
        record('system', 'side-effect.failed', `${what} failed: ${errorMessage(err)}`);
        touch();
      },
    );
    inflight.add(q);
    void q.finally(() => inflight.delete(q));
  };
  // Incidents recorded before the ledger and post-mortem existed replay without them (fixtures prove it).
  const ledgerEnabled = () => since(PATCH_LEDGER_AND_POSTMORTEM);
  const ledgerApproval = (a: Parameters<IncidentActivities['ledgerRecordApproval']>[1]) => {
    if (ledgerEnabled()) track(ledger.ledgerRecordApproval(s.incidentId, a), `ledger approval ${a.actionId}`);
  };
  /**
   * Writes what changed since the last confirmed write: new events from `ledgerSeq` on, and the snapshot
   * (versioned by timeline length). One write at a time; `ledgerSeq` moves only when the events are in, so
   * a write that gave up is sent again at the next change.
   */
  let ledgerBusy = false;
  const syncLedger = () => {
    const upTo = s.timelineDropped + s.timeline.length; // positions are absolute: trimming keeps them
    if (ledgerBusy || upTo === s.ledgerSeq || !ledgerEnabled()) return;
    const fromSeq = Math.max(s.ledgerSeq, s.timelineDropped);
    ledgerBusy = true;
    const batch = s.timeline.slice(fromSeq - s.timelineDropped, upTo - s.timelineDropped);
    const events = ledger.ledgerAppendEvents(s.incidentId, fromSeq, batch).then(() => {
      s.ledgerSeq = Math.max(s.ledgerSeq, upTo);
      trimTimeline();
    });
    const row = ledger.ledgerUpsertIncident(
      snapshot(s, null, responseDeadline(), resolutionDeadline(), statusUpdateDue()),
      upTo,
    );
    track(
      Promise.all([events, row]).finally(() => {
        ledgerBusy = false;
        touch(); // events recorded meanwhile are written next
      }),
      'ledger write',
    );
  };
  const record = (actor: string, type: string, text: string, data?: Record<string, unknown>) => {
    s.timeline.push({ at: isoOf(workflowNow()), actor, type, text, ...(data ? { data } : {}) });
    trimTimeline();
  };
  /**
   * The state (carried by continue-as-new, returned by queries) keeps the latest TIMELINE_KEEP events; older
   * ones are dropped once the ledger has them (or, with the ledger down, past TIMELINE_HARD_CAP), so a
   * days-long incident stays far below Temporal's payload limits. The ledger keeps the whole timeline.
   */
  const trimTimeline = () => {
    if (s.timeline.length <= TIMELINE_KEEP + TIMELINE_SLACK) return;
    const written = s.ledgerSeq - s.timelineDropped;
    const drop =
      s.timeline.length > TIMELINE_HARD_CAP
        ? s.timeline.length - TIMELINE_KEEP
        : Math.min(written, s.timeline.length - TIMELINE_KEEP);
    if (drop <= 0) return;
    s.timeline.splice(0, drop);
    s.timelineDropped += drop;
  };

  /** Deliveries in flight, by channel and key: carried into the next run if still running at continue-as-new. */
  const delivering = new Map<string, { channel: string; notification: Notification }>();
  const send = (channel: string, notification: Notification) => {
    const id = `${channel}|${notification.idempotencyKey}`;
    delivering.set(id, { channel, notification });
    const p = paging.deliverNotification(channel, notification).then(
      () => undefined,
      (err: unknown) => {
        record(
          'system',
          'notify.failed',
          `${channel} delivery of ${notification.idempotencyKey} failed: ${errorMessage(err)}`,
        );
        touch();
      },
    );
    inflight.add(p);
    void p.finally(() => {
      inflight.delete(p);
      delivering.delete(id);
    });
  };

  const deliver = (
    kind: NotificationKind,
    step: string,
    target: RoleId | 'channel',
    text: string,
    template?: Notification['template'],
    onCall?: RoleId[],
  ) => {
    for (const channel of s.policy.channels) {
      const notification: Notification = {
        idempotencyKey: `${s.incidentId}:${step}:${target}`,
        incidentId: s.incidentId,
        step,
        target,
        kind,
        severity: s.severity,
        title: s.title,
        text,
        template,
        ...(onCall ? { onCall } : {}),
        createdAt: isoOf(workflowNow()),
        incidentStatus: s.status,
      };
      send(channel, notification);
    }
  };

  /** 4.1 for `roles` (who this message pages; the delivery adds who holds each role now). */
  const startText = (reason: string, roles: RoleId[]): string =>
    `${reason}\n\n${renderIncidentStart({
      title: s.title,
      severity: s.severity,
      impact: s.summary,
      startedAt: s.openedAt,
      onCall: roles,
      symptoms: Object.values(s.alerts.active).slice(0, 10),
      actions: procedureSoFar().length ? procedureSoFar() : ['Investigating'],
      channel: '#trading-incidents',
    })}`;

  const engage = (roles: RoleId[], step: string, reason: string) => {
    const now = workflowNow();
    const fresh = roles.filter((r) => !s.engagements.some((e) => e.role === r));
    if (fresh.length === 0) return;
    for (const role of fresh) {
      s.engagements.push({ role, at: now, step });
      deliver('page', step, role, startText(`Paging ${role}: ${reason}`, [role]), '4.1', [role]);
    }
    s.firstPagedAt ??= now;
    if (s.status === 'triggered') s.lastPagedAt ??= s.clock;
    record('system', 'escalation', `Engaged ${fresh.join(', ')} (${reason})`, { step, roles: fresh });
  };

  const scaled = (playbookMs: number) => playbookMs / s.timeScale;
  const cal = () => ({ businessDayEndHour: s.policy.businessDayEndHour, holidays: s.policy.holidays });
  const responseDeadline = () =>
    s.openedAt + scaled(targetDurationMs(s.policy.responseTarget[s.severity], s.openedAt, cal()));
  const resolutionDeadline = () =>
    s.openedAt + scaled(targetDurationMs(s.policy.resolutionTarget[s.severity], s.openedAt, cal()));
  const repageEvery = () => {
    const m = s.policy.repageEveryMinutes[s.severity];
    return m === null ? null : scaled(m * MINUTE_MS);
  };
  const escalationPlan = (now: number) =>
    planEscalation({
      matrix: s.policy.escalationMatrix,
      severity: s.severity,
      openedAt: s.openedAt,
      now,
      timeScale: s.timeScale,
      engaged: s.engagements.map((e) => e.role),
    });
  const isOpen = () => s.status === 'triggered' || s.status === 'acknowledged';
  /** What the procedure left to people so far ("human step: ..." findings), newest last. */
  const humanSteps = (): string[] => [
    ...new Set(
      s.findings
        .filter((f) => f.text.startsWith('human step: '))
        .map((f) => `${f.step}: ${f.text.slice('human step: '.length)}`),
    ),
  ];
  /**
   * What the procedure found so far and what it asks of a human: every page after the diagnosis and every
   * 4.2 reminder carries it, instead of the 4.1 placeholders.
   */
  const procedureSoFar = (): string[] => {
    if (!s.procedure) return [];
    const p = s.procedure;
    const causes = s.findings.filter((f) => f.type === 'decision' && f.text.startsWith('cause: '));
    return [
      p.status === 'running'
        ? `Procedure ${p.type} running`
        : `Procedure ${p.type} ${p.status}: ${p.summary ?? ''}`,
      ...causes.slice(-5).map((f) => `Diagnosis: ${f.text.slice('cause: '.length)}`),
      ...humanSteps()
        .slice(-5)
        .map((h) => `Needs a human: ${h}`),
    ];
  };
  const followUpsAtResolution = (): string[] => {
    const steps = humanSteps();
    const approvals = s.pendingApprovals.map(
      (p) => `decide or redo ${p.action} (${p.actionId}): ${p.description}`,
    );
    return [...new Set([...steps, ...approvals])].slice(0, 15);
  };
  /** Manual escalate, an unanswered approval, a procedure re-escalation: the next role of the current matrix. */
  const escalationTarget = (): EscalationTarget => {
    const engaged = s.engagements.map((e) => e.role);
    if (withinMatrix)
      return nextEscalation(
        s.policy.escalationMatrix,
        s.severity,
        engaged,
        s.policy.escalationBeyondMatrix?.[s.severity] ?? [],
      );
    const legacy = legacyManualEscalationTarget(s.policy.escalationMatrix, s.severity, engaged);
    return legacy ? { kind: 'step', ...legacy } : { kind: 'exhausted', severity: s.severity };
  };
  /**
   * Escalates one step (suffix keeps each cause's idempotency keys apart). Past the matrix, the engaged roles
   * are told nobody is left (timeline and a page); `legacyExhausted` is what histories before
   * PATCH_MATRIX_AND_APPROVALS did instead.
   */
  const escalateNext = (suffix: string, reason: string, legacyExhausted?: () => void): void => {
    const t = escalationTarget();
    if (t.kind === 'step') {
      engage(t.roles, `${t.stepId}${suffix}`, reason);
      return;
    }
    if (!withinMatrix) {
      legacyExhausted?.();
      return;
    }
    s.seq += 1;
    const notice = exhaustedNotice(s.severity, reason);
    record('system', 'escalation.exhausted', notice, { severity: s.severity });
    for (const e of s.engagements) deliver('page', `escalation-exhausted-${s.seq}`, e.role, notice);
  };
  /** 4.2 cadence: the acknowledger owes an update this long after acknowledging or the last update. */
  const statusUpdateDue = (): number | null => {
    const every = s.policy.statusUpdateEveryMinutes[s.severity];
    if (every === null || s.status !== 'acknowledged' || s.acknowledgedAt === null) return null;
    return (
      Math.max(s.acknowledgedAt, s.lastUpdate?.at ?? 0, s.lastReminderAt ?? 0) + scaled(every * MINUTE_MS)
    );
  };

  /** Fires everything that is due at `now`: escalation steps, re-pages, SLA breaches, close. */
  const processDue = (now: number) => {
    if (isOpen()) {
      // 2.3 escalation matrix: time since opened, cancelled only by resolution.
      for (const step of escalationPlan(now).due) {
        engage(step.roles, step.stepId, `${s.severity} escalation matrix, ${step.afterMinutes} min`);
      }
      const every = repageEvery();
      if (
        s.status === 'triggered' &&
        every !== null &&
        s.lastPagedAt !== null &&
        now >= s.lastPagedAt + every
      ) {
        s.repageCount += 1;
        s.lastPagedAt = now;
        const step = `repage-${s.repageCount}`;
        for (const e of s.engagements)
          deliver(
            'repage',
            step,
            e.role,
            startText(`Still unacknowledged: page ${s.repageCount + 1}`, [e.role]),
            '4.1',
            [e.role],
          );
        record(
          'system',
          'repage',
          `Not acknowledged: paged ${s.engagements.map((e) => e.role).join(', ')} again`,
          { step },
        );
      }
      // The response target is about the first acknowledgement: a reopen after it is not a breach.
      if (
        s.status === 'triggered' &&
        s.responseBreachedAt === null &&
        s.firstAcknowledgedAt === null &&
        now >= responseDeadline()
      ) {
        s.responseBreachedAt = now;
        s.breaches.push({ type: 'response', at: now, severity: s.severity });
        record(
          'system',
          'sla.breach',
          `Response target breached: ${s.severity} not acknowledged within ${s.policy.responseTarget[s.severity].label}`,
        );
        deliver(
          'breach',
          'breach-response',
          'channel',
          `:warning: ${s.title}: ${s.severity} response target (${s.policy.responseTarget[s.severity].label}) missed, still unacknowledged`,
        );
      }
      const updateDue = statusUpdateDue();
      if (updateDue !== null && now >= updateDue) {
        s.lastReminderAt = now;
        s.seq += 1;
        record('system', 'update.reminder', `Status update (4.2) due from ${s.acknowledgedBy}`);
        deliver(
          'info',
          `update-reminder-${s.seq}`,
          'channel',
          [
            `:hourglass: ${s.acknowledgedBy}: a status update (4.2) for "${s.title}" is due. Send the postUpdate signal.`,
            ...procedureSoFar().map((l) => `- ${l}`),
          ].join('\n'),
        );
      }
      if (s.resolutionBreachedAt === null && now >= resolutionDeadline()) {
        s.resolutionBreachedAt = now;
        s.breaches.push({ type: 'resolution', at: now, severity: s.severity });
        record(
          'system',
          'sla.breach',
          `Resolution target breached: ${s.severity} not resolved within ${s.policy.resolutionTarget[s.severity].label}`,
        );
        deliver(
          'breach',
          'breach-resolution',
          'channel',
          `:warning: ${s.title}: ${s.severity} resolution target (${s.policy.resolutionTarget[s.severity].label}) missed`,
        );
      }
    } else if (s.status === 'resolved' && s.reopenUntil !== null && now >= s.reopenUntil) {
      s.status = 'closed';
      s.closedAt = now;
      record('system', 'closed', 'Reopen window over: incident closed');
    }
  };

  const nextWakeup = (now: number): number | null => {
    const candidates: number[] = [];
    if (isOpen()) {
      const next = escalationPlan(now).next;
      if (next) candidates.push(next.dueAt);
      const every = repageEvery();
      if (s.status === 'triggered' && every !== null && s.lastPagedAt !== null)
        candidates.push(s.lastPagedAt + every);
      if (s.status === 'triggered' && s.responseBreachedAt === null && s.firstAcknowledgedAt === null)
        candidates.push(responseDeadline());
      if (s.resolutionBreachedAt === null) candidates.push(resolutionDeadline());
      const updateDue = statusUpdateDue();
      if (updateDue !== null) candidates.push(updateDue);
    } else if (s.status === 'resolved' && s.reopenUntil !== null) {
      candidates.push(s.reopenUntil);
    }
    return candidates.length ? Math.min(...candidates) : null;
  };

  let visible = '';
  const syncVisibility = () => {
    // Upsert only on change: each upsert is a history event.
    const attrs = `${s.severity}|${s.status}|${s.kind}`;
    if (attrs !== visible) {
      visible = attrs;
      wf.upsertSearchAttributes([
        { key: IncidentSeverityKey, value: s.severity },
        { key: IncidentStatusKey, value: s.status },
        { key: IncidentKindKey, value: s.kind },
      ]);
    }
    const next = isOpen() ? escalationPlan(workflowNow()).next : null;
    wf.setCurrentDetails(
      [
        `**${s.severity} ${s.status.toUpperCase()}**: ${s.title}`,
        `Kind: ${s.kind} · Opened ${formatCot(s.openedAt)}`,
        s.acknowledgedBy ? `Acknowledged by ${s.acknowledgedBy}` : 'Not acknowledged',
        `Engaged: ${s.engagements.map((e) => e.role).join(', ') || 'nobody yet'}`,
        next ? `Next escalation: ${next.roles.join(', ')} at ${formatCot(next.dueAt)}` : '',
        `Alerts: ${Object.keys(s.alerts.active).length} firing, ${s.alerts.received} received`,
      ]
        .filter(Boolean)
        .join('\n'),
    );
  };

  // ---------- actions (signals and updates share one implementation) ----------
  type Outcome = { ok: true; message: string } | { ok: false; reason: string };
  const reject = (reason: string): Outcome => ({ ok: false, reason });

  /** State checks only, no mutation: used by update validators and before applying. */
  const check = <N extends ActionName>(name: N, a: ActionInput<N>): Outcome => {
    // After close, a firing alert opens a new incident (DESIGN: "the same key opens a new one").
    if (s.status === 'closed' && name !== 'alertFired') return reject('incident is closed');
    switch (name) {
      case 'acknowledge':
        if (s.status === 'acknowledged') return reject(`already acknowledged by ${s.acknowledgedBy}`);
        if (s.status === 'resolved') return reject('incident is resolved');
        return { ok: true, message: 'acknowledged' };
      case 'resolve':
        if (s.status === 'resolved') return reject(`already resolved by ${s.resolvedBy}`);
        return { ok: true, message: 'resolved' };
      case 'escalate': {
        if (!isOpen()) return reject('incident is resolved');
        if (escalationTarget().kind === 'step') return { ok: true, message: 'escalated' };
        if (!withinMatrix) return reject('every role is already engaged');
        return {
          ok: true,
          message: `every role of the ${s.severity} matrix is engaged: they are told nobody is left; raise the severity to go further`,
        };
      }
      case 'setSeverity': {
        const sev = (a as ActionInput<'setSeverity'>).severity;
        if (sev === s.severity) return reject(`severity is already ${sev}`);
        return { ok: true, message: `severity set to ${sev}` };
      }
      case 'approve':
      case 'reject': {
        const { actionId } = a as ActionInput<'approve'>;
        const pending = s.pendingApprovals.find((p) => p.actionId === actionId);
        if (!pending) return reject(`no pending approval with actionId "${actionId}"`);
        if (pending.decisionInFlight)
          return reject(
            `${actionId} already has a decision on its way to the procedure (${pending.decisionInFlight.decision} by ${pending.decisionInFlight.by})`,
          );
        if (
          name === 'approve' &&
          pending.requiresConfirmationCode &&
          (a as ActionInput<'approve'>).confirmationCode !== 'CONFIRM_RESUME'
        )
          return reject("resume needs confirmationCode 'CONFIRM_RESUME'");
        return { ok: true, message: name === 'approve' ? 'approved' : 'rejected' };
      }
      default:
        return { ok: true, message: 'recorded' };
    }
  };

  const apply = <N extends ActionName>(name: N, a: ActionInput<N>): Outcome => {
    const verdict = check(name, a);
    if (!verdict.ok) return verdict;
    const now = workflowNow();
    switch (name) {
      case 'acknowledge': {
        const { by, note } = a as ActionInput<'acknowledge'>;
        s.status = 'acknowledged';
        s.acknowledgedBy = by;
        s.acknowledgedAt = now;
        s.firstAcknowledgedAt ??= now;
        record(by, 'acknowledged', `Acknowledged by ${by}${note ? `: ${note}` : ''}`);
        deliver(
          'acknowledged',
          `ack-${s.reopenCount}`,
          'channel',
          `ACK: ${by} is investigating "${s.title}"`,
        );
        break;
      }
      case 'resolve': {
        const r = a as ActionInput<'resolve'>;
        if (s.acknowledgedAt === null) {
          // Resolving implies acknowledging: the resolver was on it.
          s.acknowledgedBy = r.by;
          s.acknowledgedAt = now;
          s.firstAcknowledgedAt ??= now;
        }
        if (withinMatrix && (r.financialImpactUsd ?? 0) > s.policy.ctoLossThresholdUsd) {
          // 3.1 "Financial losses >$1000: Immediate CTO notification", whether reported during or at the end;
          // paged before the status turns resolved, so channels that mirror it (PagerDuty) still page.
          s.lossUsd = Math.max(s.lossUsd, r.financialImpactUsd ?? 0);
          engage(
            ['cto'],
            'loss-cto',
            `financial impact $${r.financialImpactUsd} over $${s.policy.ctoLossThresholdUsd} reported at resolution`,
          );
        }
        s.status = 'resolved';
        s.resolvedBy = r.by;
        s.resolvedAt = now;
        s.reopenUntil = now + scaled(s.policy.reopenWindowMinutes * MINUTE_MS);
        s.resolution = {
          rootCause: r.rootCause ?? null,
          resolution: r.resolution ?? null,
          financialImpactUsd: r.financialImpactUsd ?? (s.lossUsd > 0 ? s.lossUsd : null),
          missedTrades: r.missedTrades ?? null,
          tradingDowntimeMinutes: r.tradingDowntimeMinutes ?? null,
        };
        record(r.by, 'resolved', `Resolved by ${r.by}${r.resolution ? `: ${r.resolution}` : ''}`);
        const followUps = followUpsAtResolution(); // before the procedure's open approvals are dropped
        cancelProcedure('incident resolved');
        const rule = POSTMORTEM_RULES[s.highestSeverity];
        deliver(
          'resolved',
          `resolved-${s.reopenCount}`,
          'channel',
          renderIncidentResolved({
            title: s.title,
            durationMs: (now - s.openedAt) * s.timeScale,
            tradingDowntimeMinutes: s.resolution.tradingDowntimeMinutes,
            missedTrades: s.resolution.missedTrades,
            financialImpactUsd: s.resolution.financialImpactUsd,
            rootCause: s.resolution.rootCause,
            resolution: s.resolution.resolution,
            postmortemDueAt: postmortemDueAt(s.highestSeverity, now, s.timeScale),
            postmortemRequirement: rule.requirement,
            // 4.3 "Follow-up Actions": what the procedure left to people, and approvals still open.
            followUps,
            postmortemLink: `workflow ${postmortemWorkflowId(s.incidentId)} (opens when the reopen window closes)`,
          }),
          '4.3',
        );
        break;
      }
      case 'postUpdate': {
        const u = a as ActionInput<'postUpdate'>;
        s.seq += 1;
        s.lastUpdate = { at: now, by: u.by, status: u.status };
        record(u.by, 'update', `Update (${u.status}) by ${u.by}${u.theory ? `: theory ${u.theory}` : ''}`, {
          ...u,
        });
        deliver(
          'update',
          `update-${s.seq}`,
          'channel',
          renderIncidentUpdate({ title: s.title, ...u }),
          '4.2',
        );
        break;
      }
      case 'escalate': {
        const { by, reason } = a as ActionInput<'escalate'>;
        escalateNext('', `escalated by ${by}: ${reason}`);
        break;
      }
      case 'setSeverity': {
        const { by, severity, reason } = a as ActionInput<'setSeverity'>;
        const from = s.severity;
        s.severity = severity;
        s.highestSeverity = moreSevere(s.highestSeverity, severity);
        record(by, 'severity', `Severity ${from} -> ${severity} by ${by}: ${reason}`, { from, to: severity });
        // Re-plan from the opening time: steps already due fire at the next timer, within a millisecond.
        break;
      }
      case 'addNote': {
        const { by, text } = a as ActionInput<'addNote'>;
        record(by, 'note', text);
        break;
      }
      case 'approve':
      case 'reject': {
        const d = a as ActionInput<'approve'> & { reason?: string };
        const decision = name === 'approve' ? 'approved' : 'rejected';
        if (withinMatrix) {
          // Recorded as decided only when the gate takes it (approvalClosed): the gate may have just expired.
          s.pendingApprovals = s.pendingApprovals.map((p) =>
            p.actionId === d.actionId
              ? {
                  ...p,
                  decisionInFlight: {
                    decision,
                    by: d.by,
                    at: isoOf(now),
                    ...(d.reason ? { reason: d.reason } : {}),
                  },
                }
              : p,
          );
        } else {
          s.pendingApprovals = s.pendingApprovals.filter((p) => p.actionId !== d.actionId);
          ledgerApproval({
            actionId: d.actionId,
            outcome: decision,
            decidedBy: d.by,
            decidedAt: isoOf(now),
            ...(d.reason ? { reason: d.reason } : {}),
          });
        }
        if (s.procedure) {
          // The gate waits in the procedure child; the decision was validated here (CONFIRM_RESUME included).
          const forward = wf
            .getExternalWorkflowHandle(s.procedure.workflowId)
            .signal(defs.approvalDecisionSignal, {
              actionId: d.actionId,
              decision: name === 'approve' ? 'approved' : 'rejected',
              by: d.by,
              ...(d.reason ? { reason: d.reason } : {}),
              ...(d.confirmationCode ? { confirmationCode: d.confirmationCode } : {}),
            })
            .catch((err: unknown) => {
              record(
                'system',
                'approval.undelivered',
                `Could not hand ${d.actionId} to ${s.procedure?.workflowId}: ${errorMessage(err)}`,
              );
              touch();
            });
          inflight.add(forward);
          void forward.finally(() => inflight.delete(forward));
        }
        if (withinMatrix)
          record(
            d.by,
            'approval.forwarded',
            `${d.actionId}: ${decision === 'approved' ? 'approval' : 'rejection'} by ${d.by} handed to the procedure's gate${d.reason ? ` (${d.reason})` : ''}`,
            { actionId: d.actionId, decision },
          );
        else
          record(
            d.by,
            name === 'approve' ? 'approval.approved' : 'approval.rejected',
            `${d.actionId} ${name === 'approve' ? 'approved' : 'rejected'} by ${d.by}${d.reason ? `: ${d.reason}` : ''}`,
            { actionId: d.actionId },
          );
        break;
      }
      case 'reportLoss': {
        const { by, amountUsd } = a as ActionInput<'reportLoss'>;
        // Each report is the running loss figure; the incident keeps the largest reported.
        s.lossUsd = Math.max(s.lossUsd, amountUsd);
        record(by, 'loss', `Financial loss reported by ${by}: $${amountUsd}`, { amountUsd });
        if (s.lossUsd > s.policy.ctoLossThresholdUsd && isOpen()) {
          // 3.1 "Financial losses >$1000: Immediate CTO notification".
          engage(['cto'], 'loss-cto', `financial loss $${s.lossUsd} over $${s.policy.ctoLossThresholdUsd}`);
        }
        break;
      }
      case 'alertFired': {
        const { alert, severity: routed } = a as ActionInput<'alertFired'>;
        if (s.status === 'closed') {
          s.afterClose.push({ ...alert, ...(routed ? { routedSeverity: routed } : {}) });
          record(
            'ingress',
            'alert.after-close',
            `Alert firing after close: ${alertLabel(alert)}; it opens a new incident`,
          );
          break;
        }
        // Alertmanager re-sends a still-firing alert with its group: counted, but it is not a re-firing.
        const alreadyFiring = alert.fingerprint in s.alerts.active;
        s.alerts.received += 1;
        s.alerts.active[alert.fingerprint] = alertLabel(alert);
        // Bounded: a storm of distinct alerts keeps the newest MAX_ACTIVE_ALERTS (counts stay exact).
        const fingerprints = Object.keys(s.alerts.active);
        for (const old of fingerprints.slice(0, Math.max(0, fingerprints.length - MAX_ACTIVE_ALERTS)))
          delete s.alerts.active[old];
        if (routed && severityRank(routed) < severityRank(s.severity)) {
          // A more severe alert joined (e.g. MarketDataStale P2, then MarketDataVeryStaleCritical P1):
          // raise and re-plan, as setSeverity would. Alerts never lower a severity; a human does.
          record(
            'ingress',
            'severity',
            `Severity ${s.severity} -> ${routed}: ${alertLabel(alert)} is ${routed}`,
            { from: s.severity, to: routed },
          );
          s.severity = routed;
          s.highestSeverity = moreSevere(s.highestSeverity, routed);
        }
        if (s.status === 'resolved' && !alreadyFiring) {
          // Inside the reopen window a re-firing alert reopens instead of opening a new incident.
          s.reopenCount += 1;
          s.status = 'triggered';
          s.resolvedAt = null;
          s.resolvedBy = null;
          s.reopenUntil = null;
          s.acknowledgedBy = null;
          s.acknowledgedAt = null;
          // Re-paging resumes a full cadence after the reopen (data from Date.now(): it only moves a timer).
          s.lastPagedAt = Math.max(now, s.clock);
          record('ingress', 'reopened', `Reopened: ${alertLabel(alert)} fired again`, {
            fingerprint: alert.fingerprint,
          });
          for (const e of s.engagements)
            deliver(
              'reopened',
              `reopen-${s.reopenCount}`,
              e.role,
              startText(`REOPENED: ${alertLabel(alert)} fired again`, [e.role]),
              '4.1',
              [e.role],
            );
        } else {
          record('ingress', 'alert.fired', `Alert firing: ${alertLabel(alert)}`, {
            fingerprint: alert.fingerprint,
          });
        }
        break;
      }
      case 'postExternalStatus': {
        const x = a as ActionInput<'postExternalStatus'>;
        s.seq += 1;
        record(x.by, 'external', `External status (4.4) posted by ${x.by}: ${x.currentStatus}`);
        deliver(
          'info',
          `external-${s.seq}`,
          'channel',
          renderExternalStatus({
            currentStatus: x.currentStatus,
            lastUpdated: now,
            summary: x.summary,
            impact: x.impact,
            resolutionEta: x.resolutionEta ?? null,
            nextUpdate: x.nextUpdate ?? 'when status changes',
          }),
          '4.4',
        );
        break;
      }
      case 'alertResolved': {
        const { alert } = a as ActionInput<'alertResolved'>;
        s.alerts.resolved += 1;
        const wasActive = alert.fingerprint in s.alerts.active;
        delete s.alerts.active[alert.fingerprint];
        record('ingress', 'alert.resolved', `Alert resolved: ${alertLabel(alert)}`, {
          fingerprint: alert.fingerprint,
        });
        // Alerts clearing never resolves the incident: a human does (playbook); it is noted for them.
        if (wasActive && Object.keys(s.alerts.active).length === 0 && isOpen())
          record(
            'system',
            'alerts.cleared',
            'All alerts of this incident have cleared; resolve it when verified',
          );
        break;
      }
    }
    return verdict;
  };

  const handle = <N extends ActionName>(name: N, raw: unknown, via: 'signal' | 'update'): Outcome => {
    try {
      const parsed = ACTION_SCHEMAS[name].safeParse(raw);
      if (!parsed.success) {
        const reason = `invalid ${name} payload: ${formatIssues(parsed.error.issues)}`;
        record(actorOf(raw), 'signal.rejected', reason, { action: name, via });
        return reject(reason);
      }
      const outcome = apply(name, parsed.data as ActionInput<N>);
      if (!outcome.ok)
        record(actorOf(raw), 'signal.rejected', `${name} rejected: ${outcome.reason}`, { action: name, via });
      return outcome;
    } catch (err) {
      // A handler must never throw (it would fail the workflow task); record and carry on.
      record('system', 'signal.rejected', `${name} failed: ${errorMessage(err)}`, { action: name, via });
      return reject(errorMessage(err));
    } finally {
      touch();
    }
  };

  const signalDefs: Record<ActionName, wf.SignalDefinition<[unknown]>> = {
    acknowledge: defs.acknowledgeSignal,
    resolve: defs.resolveSignal,
    postUpdate: defs.postUpdateSignal,
    escalate: defs.escalateSignal,
    setSeverity: defs.setSeveritySignal,
    addNote: defs.addNoteSignal,
    approve: defs.approveSignal,
    reject: defs.rejectSignal,
    reportLoss: defs.reportLossSignal,
    alertFired: defs.alertFiredSignal,
    alertResolved: defs.alertResolvedSignal,
    postExternalStatus: defs.postExternalStatusSignal,
  };
  for (const name of Object.keys(signalDefs) as ActionName[]) {
    wf.setHandler(signalDefs[name], (raw: unknown) => {
      handle(name, raw, 'signal');
    });
  }

  const updateDefs = {
    acknowledge: defs.acknowledgeUpdate,
    resolve: defs.resolveUpdate,
    postUpdate: defs.postUpdateUpdate,
    escalate: defs.escalateUpdate,
    setSeverity: defs.setSeverityUpdate,
    addNote: defs.addNoteUpdate,
    approve: defs.approveUpdate,
    reject: defs.rejectUpdate,
    reportLoss: defs.reportLossUpdate,
    postExternalStatus: defs.postExternalStatusUpdate,
  } as const;
  for (const name of Object.keys(updateDefs) as (keyof typeof updateDefs)[]) {
    wf.setHandler(
      updateDefs[name] as UpdateDefinition<ActionResult, [unknown]>,
      (raw: unknown): ActionResult => {
        const outcome = handle(name, raw, 'update');
        if (!outcome.ok) throw wf.ApplicationFailure.nonRetryable(outcome.reason, 'ActionRejected');
        return {
          accepted: true,
          action: name,
          status: s.status,
          severity: s.severity,
          message: outcome.message,
        };
      },
      {
        // Validators reject before anything is written to history, so the caller gets the reason at once.
        validator: (raw: unknown) => {
          const parsed = ACTION_SCHEMAS[name].safeParse(raw);
          if (!parsed.success)
            throw new Error(`invalid ${name} payload: ${formatIssues(parsed.error.issues)}`);
          const verdict = check(name, parsed.data as ActionInput<typeof name>);
          if (!verdict.ok) throw new Error(`${name} rejected: ${verdict.reason}`);
        },
      },
    );
  }

  // ---------- the procedure child (3.1-3.4) ----------
  const addFinding = (f: Finding) => {
    s.findings.push(f);
    if (s.findings.length > 200) s.findings.splice(0, s.findings.length - 200);
  };
  /**
   * Signals from the procedure child. Their names are public like any signal's, so a payload is validated
   * and a bad one recorded as rejected; approval traffic is taken only while a procedure runs.
   */
  const fromProcedure =
    <T>(name: string, schema: z.ZodType<T>, fn: (v: T) => void, onlyWhileRunning: boolean) =>
    (raw: unknown): void => {
      try {
        const parsed = schema.safeParse(raw);
        if (!parsed.success) {
          record(
            actorOf(raw),
            'signal.rejected',
            `invalid ${name} payload: ${formatIssues(parsed.error.issues)}`,
          );
          return;
        }
        if (onlyWhileRunning && (!isOpen() || s.procedure?.status !== 'running')) {
          record('system', 'signal.ignored', `${name} ignored: no procedure is running for this incident`);
          return;
        }
        fn(parsed.data);
      } catch (err) {
        record('system', 'signal.rejected', `${name} failed: ${errorMessage(err)}`);
      } finally {
        touch();
      }
    };
  wf.setHandler(
    defs.procedureEventSignal,
    fromProcedure(
      'procedureEvent',
      defs.procedureEventSchema,
      (e) => {
        {
          const at = isoOf(workflowNow());
          addFinding({
            at,
            procedure: e.procedure,
            step: e.step,
            type: e.type,
            outcome: e.outcome ?? null,
            text: e.text,
          });
          record(e.procedure, `procedure.${e.type}`, `${e.step}: ${e.text}`, {
            ...(e.outcome ? { outcome: e.outcome } : {}),
            ...(e.data ?? {}),
          });
          if (e.step === 'result' && s.procedure?.status === 'running') {
            const outcome =
              e.outcome === 'ok' ? 'completed' : e.outcome === 'failed' ? 'failed' : 'needs-human';
            s.procedure = { ...s.procedure, status: outcome, summary: e.text };
          }
          if (tellPeople && e.step === 'result') {
            // The procedure's outcome and what it leaves to people go to the channels, not only the timeline.
            s.seq += 1;
            deliver(
              'info',
              `procedure-result-${s.seq}`,
              'channel',
              [`:clipboard: **${e.procedure}**: ${e.text}`, ...humanSteps().map((h) => `- [ ] ${h}`)].join(
                '\n',
              ),
            );
          } else if (tellPeople && e.data?.notify === 'team') {
            // 3.3 "Activate kill switch, notify team".
            s.seq += 1;
            deliver(
              'info',
              `procedure-notify-${s.seq}`,
              'channel',
              `:octagonal_sign: **${e.step}**: ${e.text}`,
            );
          }
          // 3.2 "monitor for 30 minutes post-rollback": degrading again re-escalates.
          if (e.data?.reescalate === true && isOpen()) {
            escalateNext('-procedure', `procedure re-escalation: ${e.text}`);
          }
        }
      },
      false,
    ),
  );
  wf.setHandler(
    defs.approvalRequestedSignal,
    fromProcedure(
      'approvalRequested',
      defs.approvalRequestSchema,
      (r) => {
        s.pendingApprovals = [
          ...s.pendingApprovals.filter((p) => p.actionId !== r.actionId),
          {
            actionId: r.actionId,
            action: r.action,
            description: r.description,
            requestedAt: r.requestedAt,
            expiresAt: r.expiresAt,
            requiresConfirmationCode: r.requiresConfirmationCode,
          },
        ];
        record(
          'procedure',
          'approval.requested',
          `Approval needed for ${r.action} (${r.actionId}): ${r.description}`,
          { actionId: r.actionId, evidence: r.evidence },
        );
        ledgerApproval({
          actionId: r.actionId,
          action: r.action,
          description: r.description,
          requestedAt: r.requestedAt,
          expiresAt: r.expiresAt,
          requiresConfirmationCode: r.requiresConfirmationCode,
        });
        const id = s.workflowId;
        const code = r.requiresConfirmationCode ? ',"confirmationCode":"CONFIRM_RESUME"' : '';
        deliver(
          'info',
          `approval-${r.actionId}`,
          'channel',
          [
            `:raised_hand: **APPROVAL NEEDED: ${r.action}** (${s.title})`,
            r.description,
            ...r.evidence.map((ev) => `- ${ev}`),
            `Approve: npm run -s temporal -- workflow signal --workflow-id ${id} --name approve --input '{"by":"<you>","actionId":"${r.actionId}"${code}}'`,
            `Reject:  npm run -s temporal -- workflow signal --workflow-id ${id} --name reject --input '{"by":"<you>","actionId":"${r.actionId}","reason":"..."}'`,
          ].join('\n'),
        );
      },
      true,
    ),
  );
  wf.setHandler(
    defs.approvalExpiredSignal,
    fromProcedure(
      'approvalExpired',
      defs.approvalExpiredSchema,
      ({ actionId, escalation }) => {
        record('procedure', 'approval.expired', `No answer to ${actionId}: escalating (${escalation})`);
        if (isOpen()) {
          escalateNext(`-approval-${escalation}`, `approval ${actionId} unanswered`, () =>
            deliver(
              'info',
              `approval-${actionId}-unanswered-${escalation}`,
              'channel',
              `:warning: Approval ${actionId} for "${s.title}" is still unanswered`,
            ),
          );
        }
      },
      true,
    ),
  );
  wf.setHandler(
    defs.approvalClosedSignal,
    fromProcedure(
      'approvalClosed',
      defs.approvalClosedSchema,
      ({ actionId, outcome, by, expiredAt, decision }) => {
        if (outcome === 'too-late') {
          // The gate had given up before this decision reached it: nothing was done, and the decider is told.
          const text = `too late: ${actionId} expired at ${expiredAt ?? 'an earlier time'}; the ${decision === 'rejected' ? 'rejection' : 'approval'} by ${by} was not applied`;
          s.pendingApprovals = s.pendingApprovals.filter((p) => p.actionId !== actionId);
          record(by, 'approval.too-late', text, { actionId, expiredAt: expiredAt ?? null });
          s.seq += 1;
          deliver('info', `approval-${actionId}-too-late-${s.seq}`, 'channel', `:hourglass: ${by}: ${text}`);
          return;
        }
        const pending = s.pendingApprovals.find((p) => p.actionId === actionId);
        s.pendingApprovals = s.pendingApprovals.filter((p) => p.actionId !== actionId);
        if (pending || outcome === 'pre-approved') {
          record(by, `approval.${outcome}`, `${actionId}: ${outcome}${by ? ` by ${by}` : ''}`, { actionId });
          // The reason a human gave travels with the decision (the gate's answer does not repeat it).
          const reason = pending?.decisionInFlight?.reason;
          ledgerApproval({
            actionId,
            outcome,
            decidedBy: by,
            decidedAt: isoOf(workflowNow()),
            ...(reason ? { reason } : {}),
          });
        }
      },
      false,
    ),
  );

  // A declaration (hoisted): a buffered `resolve` may be delivered while handlers are being registered.
  function cancelProcedure(why: string) {
    if (s.procedure?.status !== 'running') return;
    const handle = wf.getExternalWorkflowHandle(s.procedure.workflowId);
    s.procedure = { ...s.procedure, status: 'cancelled', summary: why };
    s.pendingApprovals = [];
    const p = handle.cancel().catch(() => undefined); // already finished: nothing to cancel
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  }

  const startProcedure = async () => {
    if (s.kind === 'generic') return;
    const type = PROCEDURE_WORKFLOWS[s.kind];
    const workflowId = `${s.workflowId}-procedure`;
    const input: ProcedureInput = {
      // The child signals its parent incident by workflow id.
      incidentId: s.workflowId,
      kind: s.kind,
      severity: s.severity,
      timeScale: s.timeScale,
      preApprovedActions: s.policy.preApprovedActions,
      approvalTimeoutMinutes: s.policy.approvalTimeoutMinutes,
    };
    s.procedure = { workflowId, type, status: 'running', summary: null };
    try {
      // ABANDON: continue-as-new must not cancel it; resolution cancels it explicitly.
      const child = await wf.startChild(type, { workflowId, args: [input], parentClosePolicy: 'ABANDON' });
      record('system', 'procedure.started', `Playbook procedure ${type} started`, { workflowId });
      const done = child
        .result()
        .then(
          (r: ProcedureResult) => {
            if (s.procedure?.status === 'running')
              s.procedure = { ...s.procedure, status: r.outcome, summary: r.summary };
            record(r.procedure, 'procedure.completed', `${r.procedure} ${r.outcome}: ${r.summary}`);
          },
          (err: unknown) => {
            if (s.procedure?.status === 'running')
              s.procedure = { ...s.procedure, status: 'failed', summary: errorMessage(err) };
            if (s.procedure?.status !== 'cancelled')
              record('system', 'procedure.failed', `${type} failed: ${errorMessage(err)}`);
          },
        )
        .finally(touch);
      // Not waited for: a procedure may run for hours, and continue-as-new must not wait on it (the child
      // is ABANDONed, signals this incident by workflow id, and reports its end with a 'result' event).
      void done;
    } catch (err) {
      s.procedure = { workflowId, type, status: 'failed', summary: errorMessage(err) };
      record('system', 'procedure.failed', `${type} could not start: ${errorMessage(err)}`);
    }
  };

  wf.setHandler(defs.statusQuery, () =>
    snapshot(
      s,
      escalationPlan(workflowNow()).next,
      responseDeadline(),
      resolutionDeadline(),
      statusUpdateDue(),
    ),
  );
  wf.setHandler(defs.timelineQuery, () =>
    s.timelineDropped > 0
      ? [
          {
            at: s.timeline[0]?.at ?? isoOf(s.openedAt),
            actor: 'system',
            type: 'timeline.truncated',
            text: `${s.timelineDropped} earlier events are in the incident ledger (incident_events of ${s.incidentId})`,
          },
          ...s.timeline,
        ]
      : s.timeline,
  );

  // ---------- main loop ----------
  if (continued && s.undelivered.length > 0) {
    const again = s.undelivered;
    s.undelivered = [];
    for (const d of again) send(d.channel, d.notification);
  }
  if (!continued) {
    // Snapshot the policy in force now: a later config change or deploy never rewrites this incident's plan.
    const overrides = await clock.loadPolicyOverrides();
    s.policy = resolvePolicy({ ...overrides, ...(input.policy ?? {}) });
    record('system', 'opened', `Incident opened: ${s.title} (${s.severity}, ${s.kind})`, {
      source: s.source?.system ?? 'manual',
    });
    engage(
      escalationPlan(s.openedAt).due.flatMap((d) => d.roles),
      `escalate-${s.severity}-0m`,
      `${s.severity} initial response`,
    );
    const paged = s.engagements.map((e) => e.role);
    deliver('info', 'start', 'channel', startText(`New ${s.severity} incident`, paged), '4.1', paged);
    await startProcedure();
  }

  for (;;) {
    processDue(s.clock);
    syncVisibility();
    syncLedger();
    if (s.status === 'closed') break;
    if (
      wf.workflowInfo().historyLength > s.policy.continueAsNewAfterEvents ||
      wf.workflowInfo().continueAsNewSuggested
    ) {
      if (since(PATCH_BOUNDED_DRAIN)) {
        // Give side effects a moment; deliveries still running (a channel down) go to the next run.
        if (inflight.size > 0) await wf.condition(() => inflight.size === 0, '10 seconds');
        await wf.condition(wf.allHandlersFinished);
        s.undelivered = [...delivering.values()];
      } else {
        await Promise.allSettled([...inflight]);
        await wf.condition(wf.allHandlersFinished);
      }
      await wf.continueAsNew<typeof incidentWorkflow>({ ...input, continued: s });
    }
    const wake = nextWakeup(s.clock);
    dirty = false;
    if (wake === null) await wf.condition(() => dirty);
    // The timer's duration may differ on replay (it is not compared); whether it fired is in history.
    else if (!(await wf.condition(() => dirty, Math.max(1, Math.ceil(wake - workflowNow()))))) {
      // A late timer (worker down) catches up in one step: one re-page, every overdue step at once.
      s.clock = Math.max(s.clock, wake, await clock.currentTime());
    }
  }

  await startPostmortem();
  syncLedger();
  await Promise.allSettled([...inflight]);
  await wf.condition(wf.allHandlersFinished);
  syncLedger(); // anything recorded while draining (late failures, alerts after close)
  await Promise.allSettled([...inflight]);
  if (s.afterClose.length > 0) {
    // The alerts arrived while this run was finishing: a fresh incident on the same id takes them.
    // Its own start: detected when the first late alert started, at the most severe routed severity, without
    // the previous incident's alerts.
    const first = s.afterClose[0];
    const routed = s.afterClose.map((a) => a.routedSeverity).filter((x): x is Severity => x !== undefined);
    const severity = routed.length
      ? routed.reduce((a, b) => (severityRank(a) <= severityRank(b) ? a : b))
      : input.severity;
    await wf.continueAsNew<typeof incidentWorkflow>({
      ...input,
      ...(severity ? { severity } : {}),
      detectedAt: first.startsAt,
      source: input.source ? { ...input.source, alerts: undefined } : undefined,
      carriedAlerts: s.afterClose,
    });
  }
  return snapshot(s, null, responseDeadline(), resolutionDeadline());

  /** 6.1: the post-mortem obligation outlives the incident, in its own workflow (ABANDON on close). */
  async function startPostmortem() {
    if (!ledgerEnabled()) return;
    const args: [PostmortemInput] = [
      {
        incidentId: s.incidentId,
        title: s.title,
        severity: s.highestSeverity,
        resolvedAt: isoOf(s.resolvedAt ?? s.closedAt ?? workflowNow()),
        timeScale: s.timeScale,
        channels: s.policy.channels,
      },
    ];
    // A later incident on the same id (an alert after close) gets a post-mortem of its own.
    const ids = [
      postmortemWorkflowId(s.incidentId),
      `${postmortemWorkflowId(s.incidentId)}-${wf.workflowInfo().runId.slice(0, 8)}`,
    ];
    for (const workflowId of ids) {
      try {
        await wf.startChild(POSTMORTEM_WORKFLOW_TYPE, { workflowId, args, parentClosePolicy: 'ABANDON' });
        s.postmortemWorkflowId = workflowId;
        record('system', 'postmortem.started', `Post-mortem (6.1) tracked in ${workflowId}`, { workflowId });
        return;
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError) continue;
        record('system', 'postmortem.failed', `Post-mortem workflow could not start: ${errorMessage(err)}`);
        return;
      }
    }
    record('system', 'postmortem.failed', `Post-mortem workflows ${ids.join(', ')} already exist`);
  }
}
