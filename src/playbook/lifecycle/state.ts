// The incident's state: its shape, how a new one opens, the deadlines derived from it, and the `status`
// snapshot. Pure and deterministic (no Temporal calls): the lifecycle core (./decide) changes it, the
// incidentWorkflow interpreter carries it.
import type { Notification } from '../contract/notification';
import { classifySeverity } from '../decision-tree';
import { planEscalation, type PlannedStep } from '../escalation';
import { resolvePolicy, type IncidentPolicy } from '../policy';
import type { RoleId } from '../roles';
import { severityRank, targetDurationMs, type Severity } from '../severity';
import { iso, isoOf, MINUTE_MS } from '../time';
import { clip, clipOrNull, eventBytes, LIMITS } from './limits';
import { incidentIdOf } from '../contract/incident-id';
import type {
  Alert,
  Engagement,
  Finding,
  IncidentInput,
  IncidentKind,
  IncidentStatus,
  IncidentStatusValue,
  PendingApproval,
  SafetyHold,
  TimelineEvent,
} from '../contract/incident';

/**
 * Behaviour that changes the commands a recorded history made. The shell asks `patched()` for each when a
 * new incident opens and keeps the answers in the state: an incident opened by an older worker (no marker
 * in its history) keeps the older behaviour to its end, on whichever worker it carries on, and its history
 * replays. The pure core reads them with `patchedIn`.
 */
export const PATCHES = {
  /** A start without the deployment's policy: the procedure starts once the policy is in force. */
  procedureAfterPolicy: 'procedure-after-policy-v1',
  /**
   * Resolving closes each open approval on the record ("withdrawn: incident resolved"), and a reopen runs
   * the procedure again as a new child.
   */
  reopenRerunsProcedure: 'reopen-reruns-procedure-v1',
  /**
   * An approval's expiry that reaches the incident after a decision for it was handed to the gate does not
   * escalate: the decision came first (a worker outage can deliver both in one go).
   */
  expiryAfterDecision: 'approval-expiry-after-decision-v1',
  /**
   * A severity change is announced to the channel and the engaged roles, and the steps it makes overdue are
   * paged in the same decision (stamped with its time).
   */
  severityChangeNotified: 'severity-change-notified-v1',
  /**
   * A real-time floor on paging one role (`policy.minPageIntervalSeconds`): re-page rounds and 4.2 reminders
   * never come faster, whatever the timeScale.
   */
  pagingFloor: 'paging-floor-v1',
  /**
   * A failed ledger write is retried after a back-off (the batch interval, never under a real-time floor that
   * doubles with each failure), and its failure event is routine: it cannot ask for a write of its own.
   */
  ledgerBackoff: 'ledger-backoff-v1',
  /**
   * An action's `origin` counts only with the ingress's signature, checked with the key from the worker's
   * config (state.originKey); without it the action is recorded as typed (unverified). Before: any payload's
   * origin was taken as given.
   */
  verifiedOrigin: 'verified-origin-v1',
  /**
   * A verified Slack or PagerDuty decision on a remediation counts only from a role the policy gives that
   * decision to (policy.approvalAuthority); anyone else is refused with the reason.
   */
  approvalAuthority: 'approval-authority-v1',
  /** 3.1: a loss over $1000 reported in the reopen window (resolved, not closed) pages the CTO too. */
  lossPagesAfterResolve: 'loss-pages-after-resolve-v1',
  /**
   * 6.4: detection is the alert's `startsAt`, but not earlier than policy.detectionLookbackMinutes before the
   * incident opened, nor than the close of the incident before it on the same workflow id; the timeline says
   * "alert firing since" when it was earlier.
   */
  detectionBound: 'detection-bound-v1',
  /**
   * 6.4: `firstPagedAt` (the start of MTTA and MTTR, the end of MTTD) is when a channel reported the first
   * page delivered, not when it was composed.
   */
  pagedAtDelivery: 'paged-at-delivery-v1',
  /**
   * The last active alert clearing is said in the channel too (a heartbeat's beats resuming, any alert's
   * resolution), not only in the timeline: the on-call hears it and resolves once verified.
   */
  alertsClearedNotice: 'alerts-cleared-notice-v1',
} as const;
export type PatchKey = keyof typeof PATCHES;
export type Patches = Partial<Record<PatchKey, boolean>>;
/** Every patch in force: what a new incident on this code does (the pure tests' default). */
export const CURRENT_PATCHES: Patches = Object.fromEntries(
  Object.keys(PATCHES).map((k) => [k, true]),
) as Patches;
export const patchedIn = (s: IncidentState, key: PatchKey): boolean => s.patches?.[key] === true;

/** Everything the incident knows; carried whole across continue-as-new, bounded in bytes (./limits). */
export interface IncidentState {
  /**
   * This incident: `<workflow id>@<opening time>`. A workflow id (what operators type) is reused when an
   * alert's dedup key fires again after close; the incident id is not, so each incident's pages, Slack
   * thread, PagerDuty incident, ledger rows and post-mortem are its own.
   */
  incidentId: string;
  workflowId: string;
  title: string;
  /** The severity of the alert the title came from: a more severe alert gives the incident its name. */
  titleSeverity: Severity | null;
  kind: IncidentKind;
  severity: Severity;
  /** 6.1: the post-mortem rule follows the most severe level the incident reached, not the last one. */
  highestSeverity: Severity;
  summary: string | null;
  /** Where the incident came from (its alerts are counted in `alerts`, not kept here). */
  source: { system: string; dedupKey?: string } | null;
  timeScale: number;
  /** The PATCHES in force (absent in a state carried from a run older than them: none). */
  patches: Patches;
  policy: IncidentPolicy;
  /**
   * The deployment's policy has not arrived yet (a start without it, e.g. from the CLI): the first
   * messages went to the default channels and are sent again to any channel the policy adds.
   */
  policyPending: boolean;
  /** Messages composed while `policyPending` (the first page and the start message). */
  early: Notification[];
  status: IncidentStatusValue;
  openedAt: number;
  detectedAt: number;
  /**
   * When the first page reached someone: the worker time the delivery activity reported for the first batch
   * with a page that a channel took (the outbox counts only when it is the only channel). Before the patch:
   * when it was composed.
   */
  firstPagedAt: number | null;
  /** When the first page was composed (the metrics use it until a delivery is reported). */
  firstPageComposedAt: number | null;
  acknowledgedBy: string | null;
  acknowledgedAt: number | null;
  firstAcknowledgedAt: number | null;
  resolvedBy: string | null;
  resolvedAt: number | null;
  closedAt: number | null;
  reopenUntil: number | null;
  reopenCount: number;
  engagements: { role: RoleId; at: number; step: string }[];
  /** Last time the engaged roles were paged while unacknowledged; re-paging counts from here. */
  lastPagedAt: number | null;
  /** When each role was last paged (engaged, re-paged, reopened): the real-time floor counts from here. */
  rolePagedAt: Partial<Record<RoleId, number>>;
  /**
   * Decision clock: every time-based decision (escalation steps, re-pages, SLA breaches, close) is taken
   * against it. It moves to a timer's target when the timer fires and to the worker time a delivery or
   * ledger write reports (both recorded in history); see incidentWorkflow for why not Date.now().
   */
  clock: number;
  repageCount: number;
  responseBreachedAt: number | null;
  resolutionBreachedAt: number | null;
  breaches: { type: 'response' | 'resolution'; at: number; severity: Severity }[];
  alerts: {
    /** Alert notifications received, repeats included. */
    received: number;
    /** Notifications of an alert that was already firing (Alertmanager's repeat): counted, not in the timeline. */
    repeats: number;
    resolved: number;
    lastSeenAt: number | null;
    /** fingerprint -> label, the newest LIMITS.activeAlerts. */
    active: Record<string, string>;
  };
  lossUsd: number;
  resolution: IncidentStatus['resolution'];
  lastUpdate: { at: number; by: string; status: string } | null;
  lastReminderAt: number | null;
  pendingApprovals: PendingApproval[];
  /**
   * Approvals open at resolution with a decision already on its way to the procedure's gate: the gate may
   * take it before the cancellation reaches it, so its answer (approvalClosed) is what the record gets; at
   * close, those it never answered are recorded as withdrawn.
   */
  closingApprovals: PendingApproval[];
  procedure: IncidentStatus['procedure'];
  findings: Finding[];
  /** Safety actions the engine applied for this incident and has not lifted; only while open (./safety-holds). */
  safetyHolds: SafetyHold[];
  /** Sequence for message steps that can repeat (updates, notes sent out). */
  seq: number;
  timeline: TimelineEvent[];
  /** Alerts that fired after close, before the run completed: they open a new incident (never lost). */
  afterClose: (Alert & { routedSeverity?: Severity; routedTitle?: string })[];
  /** Timeline positions (absolute, counting dropped ones) the ledger has confirmed. */
  ledgerSeq: number;
  /**
   * A ledger write is in flight: the next waits for its answer (`ledger.written` or `ledger.failed`). A run
   * carried on by continue-as-new never has one: the write belonged to the run before.
   */
  ledgerBusy: boolean;
  /** When the ledger was last asked to write (batched: ./ledger). */
  ledgerAskedAt: number | null;
  /** A change the ledger must see soon (status, severity, engagement, breach, approval). */
  ledgerUrgent: boolean;
  /** Ledger writes failed in a row (reset by a write that lands). */
  ledgerFailures: number;
  /** After a failed write, no other is asked before this (real epoch ms) but at continue-as-new or close. */
  ledgerRetryAt: number | null;
  /** Events dropped from the front of `timeline` (kept in the ledger). */
  timelineDropped: number;
  /** Approximate bytes of `timeline` (./limits eventBytes), kept current so trimming needs no serializing. */
  timelineBytes: number;
  postmortemWorkflowId: string | null;
  /** Deliveries still running when the run continued as new: the next run sends them again (same keys). */
  undelivered: { channel: string; notifications: Notification[] }[];
  /**
   * The public key (PEM) that verifies the ingress's signature on an action's origin, as the worker's
   * deployment config gave it (an activity's result, never a start input); null until then, or none.
   */
  originKey: string | null;
  /** The heads of the origin signatures accepted lately: a signature is good for one action. */
  originProofs: string[];
}

export interface IncidentWorkflowInput extends IncidentInput {
  /** Set by continue-as-new only. */
  continued?: IncidentState;
  /** Alerts that fired after the previous incident on this id had closed: they open this one. */
  carriedAlerts?: (Alert & { routedSeverity?: Severity; routedTitle?: string })[];
}

/**
 * 6.4 detection of a new incident: the alert's `startsAt` (never after opening), bounded at
 * policy.detectionLookbackMinutes before opening; `firingSince` is the real start when the bound cut it.
 * Before the patch: the start as given.
 */
export function detection(
  startsAt: string | undefined,
  openedAt: number,
  policy: IncidentPolicy,
  patches: Patches,
): { detectedAt: number; firingSince: number | null } {
  const given = startsAt ? Date.parse(startsAt) : NaN;
  if (!Number.isFinite(given)) return { detectedAt: openedAt, firingSince: null };
  const start = Math.min(given, openedAt);
  if (patches.detectionBound !== true) return { detectedAt: start, firingSince: null };
  const floor = openedAt - (policy.detectionLookbackMinutes ?? 60) * MINUTE_MS;
  return start < floor ? { detectedAt: floor, firingSince: start } : { detectedAt: start, firingSince: null };
}

function formatLag(ms: number): string {
  const minutes = Math.round(ms / MINUTE_MS);
  if (minutes < 120) return `${minutes} minutes`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} hours` : `${Math.round(hours / 24)} days`;
}

/**
 * The state of a new incident. `policyComplete`: the start input carries the deployment's whole policy
 * (the ingress reads the same INCIDENT_CONFIG as the worker); otherwise it arrives later (`policy` input).
 */
export function openState(
  i: IncidentInput,
  at: { openedAt: number; workflowId: string; carriedAlerts: readonly Alert[]; patches?: Patches },
): IncidentState {
  const { openedAt, workflowId } = at;
  const policy = resolvePolicy(i.policy ?? {});
  let severity: Severity;
  const timeline: TimelineEvent[] = [];
  if (i.severity) severity = i.severity;
  else if (i.assessment) {
    const c = classifySeverity(i.assessment);
    severity = c.severity;
    timeline.push({
      at: isoOf(openedAt),
      actor: 'system',
      type: 'classified',
      text: `1.3 decision tree: ${c.severity} (${c.reason})`,
      data: { path: c.path },
    });
  } else {
    severity = 'P1';
    timeline.push({
      at: isoOf(openedAt),
      actor: 'system',
      type: 'classified',
      text: 'No severity or assessment given: treated as P1 until someone sets the severity',
    });
  }
  const patches = at.patches ?? CURRENT_PATCHES;
  const { detectedAt, firingSince } = detection(i.detectedAt, openedAt, policy, patches);
  if (firingSince !== null)
    timeline.push({
      at: isoOf(openedAt),
      actor: 'system',
      type: 'detection',
      text: `Alert firing since ${isoOf(firingSince)} (${formatLag(openedAt - firingSince)} before this incident opened): MTTD counts from ${isoOf(detectedAt)}, ${policy.detectionLookbackMinutes} minutes before opening at most`,
      data: { firingSince: isoOf(firingSince), detectedAt: isoOf(detectedAt) },
    });
  const active: Record<string, string> = {};
  for (const alert of [...(i.source?.alerts ?? []), ...at.carriedAlerts].slice(-LIMITS.activeAlerts))
    active[alert.fingerprint] = alertLabel(alert);
  return {
    incidentId: incidentIdOf(workflowId, openedAt),
    workflowId,
    title: clip(i.title, LIMITS.title),
    titleSeverity: i.severity ?? null,
    kind: i.kind ?? 'generic',
    severity,
    highestSeverity: severity,
    summary: clipOrNull(i.summary, LIMITS.freeText),
    source: i.source
      ? { system: i.source.system, ...(i.source.dedupKey ? { dedupKey: i.source.dedupKey } : {}) }
      : null,
    timeScale: i.timeScale ?? 1,
    patches,
    policy,
    policyPending: i.policyComplete !== true,
    early: [],
    status: 'triggered',
    openedAt,
    detectedAt,
    firstPagedAt: null,
    firstPageComposedAt: null,
    acknowledgedBy: null,
    acknowledgedAt: null,
    firstAcknowledgedAt: null,
    resolvedBy: null,
    resolvedAt: null,
    closedAt: null,
    reopenUntil: null,
    reopenCount: 0,
    engagements: [],
    lastPagedAt: null,
    rolePagedAt: {},
    clock: openedAt,
    repageCount: 0,
    responseBreachedAt: null,
    resolutionBreachedAt: null,
    breaches: [],
    alerts: {
      received: at.carriedAlerts.length,
      repeats: 0,
      resolved: 0,
      lastSeenAt: at.carriedAlerts.length ? openedAt : null,
      active,
    },
    afterClose: [],
    ledgerSeq: 0,
    ledgerBusy: false,
    ledgerAskedAt: null,
    ledgerUrgent: true,
    ledgerFailures: 0,
    ledgerRetryAt: null,
    timelineDropped: 0,
    timelineBytes: timeline.reduce((n, e) => n + eventBytes(e), 0),
    postmortemWorkflowId: null,
    undelivered: [],
    originKey: null,
    originProofs: [],
    lossUsd: 0,
    resolution: null,
    lastUpdate: null,
    lastReminderAt: null,
    pendingApprovals: [],
    closingApprovals: [],
    procedure: null,
    findings: [],
    safetyHolds: [],
    seq: 0,
    timeline,
  };
}

// ---------- deadlines and plans derived from the state (all in real epoch ms, playbook time / timeScale) ----------

export const scaled = (s: IncidentState, playbookMs: number): number => playbookMs / s.timeScale;
const calendar = (s: IncidentState) => ({
  businessDayEndHour: s.policy.businessDayEndHour,
  holidays: s.policy.holidays,
  // Absent from a policy snapshotted before it existed: that incident keeps its deadlines.
  holidayCalendar: s.policy.holidayCalendar,
});
/** 1.1 response target: the acknowledgement deadline. */
export const responseDeadline = (s: IncidentState): number =>
  s.openedAt + scaled(s, targetDurationMs(s.policy.responseTarget[s.severity], s.openedAt, calendar(s)));
/** 1.1 resolution target. */
export const resolutionDeadline = (s: IncidentState): number =>
  s.openedAt + scaled(s, targetDurationMs(s.policy.resolutionTarget[s.severity], s.openedAt, calendar(s)));
/**
 * The least real interval between two pages to one role (0 before the patch). Real time: the decision clock
 * is real time, only the playbook's durations are scaled.
 */
export const pageFloorMs = (s: IncidentState): number =>
  patchedIn(s, 'pagingFloor') ? s.policy.minPageIntervalSeconds * 1000 : 0;
/** Re-page cadence while unacknowledged, or null (P3): the playbook's, scaled, never under the floor. */
export const repageEvery = (s: IncidentState): number | null => {
  const m = s.policy.repageEveryMinutes[s.severity];
  return m === null ? null : Math.max(scaled(s, m * MINUTE_MS), pageFloorMs(s));
};
export const isOpen = (s: IncidentState): boolean => s.status === 'triggered' || s.status === 'acknowledged';
/** 2.3 matrix of the current severity, re-planned from the opening time against the roles engaged. */
export const escalationPlan = (s: IncidentState, now: number) =>
  planEscalation({
    matrix: s.policy.escalationMatrix,
    severity: s.severity,
    openedAt: s.openedAt,
    now,
    timeScale: s.timeScale,
    engaged: s.engagements.map((e) => e.role),
  });
/** 4.2 cadence: the acknowledger owes an update this long after acknowledging or the last update. */
export const statusUpdateDue = (s: IncidentState): number | null => {
  const every = s.policy.statusUpdateEveryMinutes[s.severity];
  if (every === null || s.status !== 'acknowledged' || s.acknowledgedAt === null) return null;
  return (
    Math.max(s.acknowledgedAt, s.lastUpdate?.at ?? 0, s.lastReminderAt ?? 0) +
    Math.max(scaled(s, every * MINUTE_MS), pageFloorMs(s))
  );
};

export const moreSevere = (a: Severity, b: Severity): Severity => (severityRank(b) < severityRank(a) ? b : a);

/**
 * A state carried from an earlier run, possibly of older code: fields added since get the value that keeps
 * that run's behaviour (no patches).
 */
export function carriedState(s: IncidentState): IncidentState {
  return {
    ...s,
    patches: s.patches ?? {},
    closingApprovals: s.closingApprovals ?? [],
    rolePagedAt: s.rolePagedAt ?? {},
    safetyHolds: s.safetyHolds ?? [],
    ledgerBusy: false,
    ledgerFailures: s.ledgerFailures ?? 0,
    ledgerRetryAt: s.ledgerRetryAt ?? null,
    firstPageComposedAt: s.firstPageComposedAt ?? s.firstPagedAt,
    originKey: s.originKey ?? null,
    originProofs: s.originProofs ?? [],
  };
}

export function stripContinued(i: IncidentWorkflowInput): unknown {
  if (typeof i !== 'object' || i === null) return i;
  const { continued: _c, carriedAlerts: _a, ...rest } = i;
  return rest;
}

export function alertLabel(a: Alert): string {
  return clip(a.summary ? `${a.name}: ${a.summary}` : a.name, LIMITS.alertLabel);
}

const playbookSeconds = (fromMs: number | null, toMs: number | null, timeScale: number): number | null =>
  fromMs === null || toMs === null ? null : Math.max(0, Math.round(((toMs - fromMs) * timeScale) / 1000));

/** The `status` query's answer (and the ledger's incident row). `now`: null for a final snapshot. */
export function snapshot(s: IncidentState, now: number | null): IncidentStatus {
  const next: PlannedStep | null = now !== null && isOpen(s) ? escalationPlan(s, now).next : null;
  const nextStatusUpdateDue = now !== null ? statusUpdateDue(s) : null;
  // Delivered, or (no delivery reported yet: a channel still retrying) composed.
  const pagedAt = s.firstPagedAt ?? s.firstPageComposedAt ?? null;
  const engagements: Engagement[] = s.engagements.map((e) => ({
    role: e.role,
    at: isoOf(e.at),
    step: e.step,
  }));
  return {
    incidentId: s.incidentId,
    workflowId: s.workflowId,
    title: s.title,
    kind: s.kind,
    severity: s.severity,
    highestSeverity: s.highestSeverity,
    status: s.status,
    summary: s.summary,
    source: s.source,
    timeScale: s.timeScale,
    openedAt: isoOf(s.openedAt),
    detectedAt: isoOf(s.detectedAt),
    firstPagedAt: iso(pagedAt),
    acknowledgedBy: s.acknowledgedBy,
    acknowledgedAt: iso(s.acknowledgedAt),
    resolvedBy: s.resolvedBy,
    resolvedAt: iso(s.resolvedAt),
    closedAt: iso(s.closedAt),
    reopenUntil: iso(s.reopenUntil),
    reopenCount: s.reopenCount,
    engagedRoles: s.engagements.map((e) => e.role),
    engagements,
    nextEscalation:
      next && (s.status === 'triggered' || s.status === 'acknowledged')
        ? { at: isoOf(next.dueAt), roles: next.roles, step: next.stepId }
        : null,
    pendingApprovals: s.pendingApprovals,
    sla: {
      responseDeadline: isoOf(responseDeadline(s)),
      resolutionDeadline: isoOf(resolutionDeadline(s)),
      responseBreachedAt: iso(s.responseBreachedAt),
      resolutionBreachedAt: iso(s.resolutionBreachedAt),
    },
    breaches: s.breaches.map((b) => ({ ...b, at: isoOf(b.at) })),
    metrics: {
      // 6.4: MTTD issue start -> first alert (page); MTTA alert -> acknowledgement; MTTR alert -> resolution.
      mttdSeconds: playbookSeconds(s.detectedAt, pagedAt, s.timeScale),
      mttaSeconds: playbookSeconds(pagedAt, s.firstAcknowledgedAt, s.timeScale),
      mttrSeconds: playbookSeconds(pagedAt, s.resolvedAt, s.timeScale),
    },
    alerts: {
      firing: Object.keys(s.alerts.active).length,
      resolved: s.alerts.resolved,
      received: s.alerts.received,
      repeats: s.alerts.repeats,
      lastSeenAt: iso(s.alerts.lastSeenAt),
      active: Object.values(s.alerts.active).slice(0, 50),
    },
    lossUsd: s.lossUsd,
    resolution: s.resolution,
    policyVersion: s.policy.version,
    lastUpdate: s.lastUpdate ? { ...s.lastUpdate, at: isoOf(s.lastUpdate.at) } : null,
    nextStatusUpdateDue: iso(nextStatusUpdateDue),
    procedure: s.procedure,
    findings: s.findings,
    safetyHolds: s.safetyHolds,
    postmortemWorkflowId: s.postmortemWorkflowId,
  };
}
