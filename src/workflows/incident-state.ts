// The incident's state: its shape, how a new one opens, how a carried one is completed, and the `status`
// snapshot. Pure and deterministic (no Temporal calls): incidentWorkflow in ./incident.ts owns the state and
// feeds it here.
import type { Notification } from '../activities/notify/port';
import { classifySeverity } from '../playbook/decision-tree';
import { resolvePolicy, type IncidentPolicy } from '../playbook/policy';
import type { RoleId } from '../playbook/roles';
import { severityRank, type Severity } from '../playbook/severity';
import { iso, isoOf } from './util';
import type {
  Alert,
  Engagement,
  Finding,
  IncidentInput,
  IncidentKind,
  IncidentStatus,
  IncidentStatusValue,
  PendingApproval,
  TimelineEvent,
} from './definitions';

/** Everything the incident knows; carried whole across continue-as-new. */
export interface IncidentState {
  /**
   * This incident: `<workflow id>@<opening time>`. A workflow id (what operators type) is reused when an
   * alert's dedup key fires again after close; the incident id is not, so each incident's pages, Slack
   * thread, PagerDuty incident, ledger rows and post-mortem are its own.
   */
  incidentId: string;
  workflowId: string;
  title: string;
  kind: IncidentKind;
  severity: Severity;
  /** 6.1: the post-mortem rule follows the most severe level the incident reached, not the last one. */
  highestSeverity: Severity;
  summary: string | null;
  source: IncidentInput['source'] | null;
  timeScale: number;
  policy: IncidentPolicy;
  status: IncidentStatusValue;
  openedAt: number;
  detectedAt: number;
  firstPagedAt: number | null;
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
  /**
   * Decision clock. Every time-based decision (escalation steps, re-pages, SLA breaches, close) is taken
   * when a timer fires, against this clock: the later of the timer's target and the worker's time read by
   * an activity (recorded in history). Never the activation's Date.now(): after a workflow task
   * timed out, Date.now() was seen to differ between the live run and a replay, and a decision taken on
   * it does not replay (caught by test/replay.test.ts with a worker-kill history).
   */
  clock: number;
  repageCount: number;
  responseBreachedAt: number | null;
  resolutionBreachedAt: number | null;
  breaches: { type: 'response' | 'resolution'; at: number; severity: Severity }[];
  alerts: { received: number; resolved: number; active: Record<string, string> };
  lossUsd: number;
  resolution: IncidentStatus['resolution'];
  lastUpdate: { at: number; by: string; status: string } | null;
  lastReminderAt: number | null;
  pendingApprovals: PendingApproval[];
  procedure: IncidentStatus['procedure'];
  findings: Finding[];
  /** Sequence for message steps that can repeat (updates, notes sent out). */
  seq: number;
  timeline: TimelineEvent[];
  /** Alerts that fired after close, before the run completed: they open a new incident (never lost). */
  afterClose: (Alert & { routedSeverity?: Severity })[];
  /** Timeline positions (absolute, counting dropped ones) the ledger has confirmed. */
  ledgerSeq: number;
  /** Events dropped from the front of `timeline` (kept in the ledger). */
  timelineDropped: number;
  postmortemWorkflowId: string | null;
  /** Deliveries still running when the run continued as new: the next run sends them again (same keys). */
  undelivered: { channel: string; notification: Notification }[];
}

export interface IncidentWorkflowInput extends IncidentInput {
  /** Set by continue-as-new only. */
  continued?: IncidentState;
  /** Alerts that fired after the previous incident on this id had closed: they open this one. */
  carriedAlerts?: (Alert & { routedSeverity?: Severity })[];
}

/** `<workflow id>@20261127T095317.123Z`: readable, and distinct for every incident opened on one workflow id. */
export function incidentKey(workflowId: string, openedAt: number): string {
  return `${workflowId}@${new Date(openedAt).toISOString().replace(/[-:]/g, '')}`;
}

/**
 * The state of a new incident (not a continued run). `distinctIncidentId`: the incident id carries the
 * opening time (PATCH_INCIDENT_KEY); histories before it used the bare workflow id.
 */
export function openState(
  i: IncidentInput,
  at: {
    openedAt: number;
    workflowId: string;
    carriedAlerts: readonly Alert[];
    distinctIncidentId: boolean;
  },
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
  const detectedAt = i.detectedAt ? Math.min(Date.parse(i.detectedAt), openedAt) : openedAt;
  const active: Record<string, string> = {};
  for (const alert of i.source?.alerts ?? []) active[alert.fingerprint] = alertLabel(alert);
  const carried = at.carriedAlerts;
  for (const alert of carried) active[alert.fingerprint] = alertLabel(alert);
  return {
    incidentId: at.distinctIncidentId ? incidentKey(workflowId, openedAt) : workflowId,
    workflowId,
    title: i.title,
    kind: i.kind ?? 'generic',
    severity,
    highestSeverity: severity,
    summary: i.summary ?? null,
    source: i.source ?? null,
    timeScale: i.timeScale ?? 1,
    policy,
    status: 'triggered',
    openedAt,
    detectedAt,
    firstPagedAt: null,
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
    clock: openedAt,
    repageCount: 0,
    responseBreachedAt: null,
    resolutionBreachedAt: null,
    breaches: [],
    alerts: { received: carried.length, resolved: 0, active },
    afterClose: [],
    ledgerSeq: 0,
    timelineDropped: 0,
    postmortemWorkflowId: null,
    undelivered: [],
    lossUsd: 0,
    resolution: null,
    lastUpdate: null,
    lastReminderAt: null,
    pendingApprovals: [],
    procedure: null,
    findings: [],
    seq: 0,
    timeline,
  };
}

/** State carried from a run of an older version lacks fields added since; give them their start values. */
export function withDefaults(c: IncidentState): IncidentState {
  return {
    ...c,
    highestSeverity: c.highestSeverity ?? c.severity,
    findings: c.findings ?? [],
    procedure: c.procedure ?? null,
    lastReminderAt: c.lastReminderAt ?? null,
    afterClose: c.afterClose ?? [],
    ledgerSeq: c.ledgerSeq ?? 0,
    timelineDropped: c.timelineDropped ?? 0,
    postmortemWorkflowId: c.postmortemWorkflowId ?? null,
    workflowId: c.workflowId ?? c.incidentId,
    undelivered: c.undelivered ?? [],
  };
}

export const moreSevere = (a: Severity, b: Severity): Severity => (severityRank(b) < severityRank(a) ? b : a);

export function stripContinued(i: IncidentWorkflowInput): unknown {
  if (typeof i !== 'object' || i === null) return i;
  const { continued: _c, carriedAlerts: _a, ...rest } = i;
  return rest;
}

export function alertLabel(a: Alert): string {
  return a.summary ? `${a.name}: ${a.summary}` : a.name;
}

const playbookSeconds = (fromMs: number | null, toMs: number | null, timeScale: number): number | null =>
  fromMs === null || toMs === null ? null : Math.max(0, Math.round(((toMs - fromMs) * timeScale) / 1000));

export function snapshot(
  s: IncidentState,
  next: { dueAt: number; roles: RoleId[]; stepId: string } | null,
  responseDeadline: number,
  resolutionDeadline: number,
  nextStatusUpdateDue: number | null = null,
): IncidentStatus {
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
    firstPagedAt: iso(s.firstPagedAt),
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
      responseDeadline: isoOf(responseDeadline),
      resolutionDeadline: isoOf(resolutionDeadline),
      responseBreachedAt: iso(s.responseBreachedAt),
      resolutionBreachedAt: iso(s.resolutionBreachedAt),
    },
    breaches: s.breaches.map((b) => ({ ...b, at: isoOf(b.at) })),
    metrics: {
      // 6.4: MTTD issue start -> first alert (page); MTTA alert -> acknowledgement; MTTR alert -> resolution.
      mttdSeconds: playbookSeconds(s.detectedAt, s.firstPagedAt, s.timeScale),
      mttaSeconds: playbookSeconds(s.firstPagedAt, s.firstAcknowledgedAt, s.timeScale),
      mttrSeconds: playbookSeconds(s.firstPagedAt, s.resolvedAt, s.timeScale),
    },
    alerts: {
      firing: Object.keys(s.alerts.active).length,
      resolved: s.alerts.resolved,
      received: s.alerts.received,
      active: Object.values(s.alerts.active).slice(0, 50),
    },
    lossUsd: s.lossUsd,
    resolution: s.resolution,
    policyVersion: s.policy.version,
    lastUpdate: s.lastUpdate ? { ...s.lastUpdate, at: isoOf(s.lastUpdate.at) } : null,
    nextStatusUpdateDue: iso(nextStatusUpdateDue),
    procedure: s.procedure,
    findings: s.findings,
    postmortemWorkflowId: s.postmortemWorkflowId,
  };
}
