// The vocabulary of an incident: its kinds and statuses, the start input, alerts, the actions people and the
// ingress take (one schema per action, for the signal and the Update of the same name), and the shapes the
// `status` and `timeline` queries answer. Pure data and zod schemas, below every other layer: the workflow,
// the lifecycle core, the ingress and the ledger all read it from here.
import { z } from 'zod';
import { ROLE_IDS, type RoleId } from '../roles';
import { SEVERITIES, type Severity } from '../severity';
import { policyOverridesSchema } from '../policy';
import { actor, isoTime, str, text } from './fields';

export const INCIDENT_KINDS = [
  'trading-system-down',
  'model-degradation',
  'data-source-down',
  'database-connection',
  /** A heartbeat monitor went silent (DESIGN "Heartbeats"): no procedure runs, a human looks. */
  'monitoring-gap',
  'generic',
] as const;
export type IncidentKind = (typeof INCIDENT_KINDS)[number];
export const INCIDENT_STATUSES = ['triggered', 'acknowledged', 'resolved', 'closed'] as const;
export type IncidentStatusValue = (typeof INCIDENT_STATUSES)[number];

export const assessmentSchema = z.object({
  tradingStoppedOrLosingMoney: z.boolean().optional(),
  majorFeatureBroken: z.boolean().optional(),
  affectsProductionTrading: z.boolean().optional(),
  workaroundAvailable: z.boolean().optional(),
});

/** An alert as ingress normalizes it (Alertmanager, Grafana or generic JSON). */
export const alertSchema = z.object({
  /** Stable identity of the alert instance; repeated notifications of one alert share it. */
  fingerprint: text(200),
  name: text(300),
  status: z.enum(['firing', 'resolved']).optional(),
  severity: str().max(50).optional(),
  summary: str().max(4000).optional(),
  labels: z.record(str(), str()).optional(),
  annotations: z.record(str(), str()).optional(),
  startsAt: isoTime.optional(),
  endsAt: isoTime.optional(),
  source: str().max(100).optional(),
});
export type Alert = z.infer<typeof alertSchema>;

export const incidentInputSchema = z.object({
  title: text(500),
  severity: z.enum(SEVERITIES).optional(),
  assessment: assessmentSchema.optional(),
  kind: z.enum(INCIDENT_KINDS).optional(),
  summary: str().max(4000).optional(),
  /** When the issue started (alert startsAt): the start of MTTD. */
  detectedAt: isoTime.optional(),
  source: z
    .object({
      system: text(100),
      dedupKey: str().max(500).optional(),
      alerts: z.array(alertSchema).max(1000).optional(),
    })
    .optional(),
  /** Divides every playbook duration: 60 means a playbook minute passes in one second. */
  timeScale: z.number().positive().max(1_000_000).optional(),
  /** Policy overrides for this incident; otherwise the worker's config is snapshotted at start. */
  policy: policyOverridesSchema.optional(),
  /**
   * true: `policy` is the deployment's whole policy (the ingress reads the same INCIDENT_CONFIG as the
   * worker), so the incident pages in its first workflow task and never loads the worker's. Otherwise the
   * worker's config is loaded beside the first page.
   */
  policyComplete: z.boolean().optional(),
});
export type IncidentInput = z.infer<typeof incidentInputSchema>;

/**
 * Where an action came from when a verified route sent it: the ingress's Slack and PagerDuty routes check the
 * platform's signature and map the user id to a 2.1 contact. `by` is then that contact's name (or
 * `<channel>:<user id>` for an unmapped user). The ingress signs the action (`signedAt`, `proof`:
 * src/playbook/lifecycle/origin-proof.ts); an origin without a signature the incident can verify is ignored
 * and the action recorded as typed (unverified), like one from the Web UI, `temporal` or `tctl`, where `by`
 * is whatever the sender typed.
 */
export const originSchema = z.object({
  channel: z.enum(['slack', 'pagerduty']),
  userId: str().min(1).max(100),
  /** true: the user id is mapped to a contact in the deployment config. */
  known: z.boolean(),
  role: z.enum(ROLE_IDS).optional(),
  /** The platform's own event id (PagerDuty webhook event, Slack action ts). */
  eventId: str().max(200).optional(),
  /** When the ingress signed it, and its signature (base64): set by the ingress only. */
  signedAt: isoTime.optional(),
  proof: str().max(2000).optional(),
});
export type ActionOrigin = z.infer<typeof originSchema>;

export const acknowledgeSchema = z.object({
  by: actor,
  note: str().max(2000).optional(),
  origin: originSchema.optional(),
});
export const resolveSchema = z.object({
  by: actor,
  origin: originSchema.optional(),
  rootCause: str().max(2000).optional(),
  resolution: str().max(2000).optional(),
  financialImpactUsd: z.number().min(0).optional(),
  missedTrades: z.number().int().min(0).optional(),
  tradingDowntimeMinutes: z.number().min(0).optional(),
});
export const UPDATE_STATUSES = ['Investigating', 'Mitigating', 'Monitoring', 'Resolved'] as const;
const lines = z.union([str().max(4000), z.array(str().max(1000)).max(50)]);
export const postUpdateSchema = z.object({
  by: actor,
  status: z.enum(UPDATE_STATUSES),
  impact: str().max(2000).optional(),
  progress: lines.optional(),
  theory: str().max(2000).optional(),
  nextSteps: lines.optional(),
  eta: str().max(200).optional(),
});
export const escalateSchema = z.object({ by: actor, reason: text(), origin: originSchema.optional() });
export const setSeveritySchema = z.object({ by: actor, severity: z.enum(SEVERITIES), reason: text() });
export const addNoteSchema = z.object({ by: actor, text: text(4000), origin: originSchema.optional() });
export const approveSchema = z.object({
  by: actor,
  actionId: text(200),
  confirmationCode: str().max(100).optional(),
  origin: originSchema.optional(),
});
export const rejectSchema = z.object({
  by: actor,
  actionId: text(200),
  reason: str().max(2000).optional(),
  origin: originSchema.optional(),
});
export const reportLossSchema = z.object({ by: actor, amountUsd: z.number().min(0).max(1e12) });
/**
 * `severity`: the playbook severity ingress routed the alert to; a more severe alert raises the incident.
 * `title`: the incident title its routing rule gives; the most severe alert names the incident.
 */
const routedAlertSchema = z.object({
  alert: alertSchema,
  severity: z.enum(SEVERITIES).optional(),
  title: str().max(500).optional(),
});
/**
 * One alert (`{alert, severity?, title?}`), or a batch of one incident's alerts from one notification
 * (`{alerts: [...]}`, in order; in an `alertFired` batch an alert whose status is `resolved` is applied as
 * resolved). The ingress sends one batch per incident per request.
 */
export const alertEventSchema = z.union([
  routedAlertSchema,
  z.object({ alerts: z.array(routedAlertSchema).min(1).max(1000) }),
]);
export type RoutedAlert = z.infer<typeof routedAlertSchema>;
/** The alerts of an alertFired/alertResolved payload, in order. */
export const alertsOf = (e: z.infer<typeof alertEventSchema>): RoutedAlert[] =>
  'alerts' in e ? e.alerts : [e];
/** 4.4 external communication, sent when someone asks for it. */
export const postExternalStatusSchema = z.object({
  by: actor,
  currentStatus: z.enum(['Operational', 'Degraded', 'Outage']),
  summary: text(4000),
  impact: text(4000),
  resolutionEta: str().max(200).optional(),
  nextUpdate: str().max(200).optional(),
});

export type AcknowledgeInput = z.infer<typeof acknowledgeSchema>;
export type ResolveInput = z.infer<typeof resolveSchema>;
export type PostUpdateInput = z.infer<typeof postUpdateSchema>;
export type EscalateInput = z.infer<typeof escalateSchema>;
export type SetSeverityInput = z.infer<typeof setSeveritySchema>;
export type AddNoteInput = z.infer<typeof addNoteSchema>;
export type ApproveInput = z.infer<typeof approveSchema>;
export type RejectInput = z.infer<typeof rejectSchema>;
export type ReportLossInput = z.infer<typeof reportLossSchema>;
export type AlertEventInput = z.infer<typeof alertEventSchema>;
export type PostExternalStatusInput = z.infer<typeof postExternalStatusSchema>;

/** Every human or ingress action: its name is both a signal and an update (same payload). */
export const ACTION_SCHEMAS = {
  acknowledge: acknowledgeSchema,
  resolve: resolveSchema,
  postUpdate: postUpdateSchema,
  escalate: escalateSchema,
  setSeverity: setSeveritySchema,
  addNote: addNoteSchema,
  approve: approveSchema,
  reject: rejectSchema,
  reportLoss: reportLossSchema,
  alertFired: alertEventSchema,
  alertResolved: alertEventSchema,
  postExternalStatus: postExternalStatusSchema,
} as const;
export type ActionName = keyof typeof ACTION_SCHEMAS;
export type ActionInput<N extends ActionName> = z.infer<(typeof ACTION_SCHEMAS)[N]>;
export const ACTION_NAMES = Object.keys(ACTION_SCHEMAS) as ActionName[];

export interface ActionResult {
  accepted: true;
  action: ActionName;
  status: IncidentStatusValue;
  severity: Severity;
  message: string;
}

export interface TimelineEvent {
  /** ISO time (workflow time). */
  at: string;
  actor: string;
  type: string;
  text: string;
  data?: Record<string, unknown>;
}

export interface Engagement {
  role: RoleId;
  at: string;
  step: string;
}

export interface PendingApproval {
  actionId: string;
  action: string;
  description: string;
  requestedAt: string;
  expiresAt: string | null;
  requiresConfirmationCode: boolean;
  /** A decision handed to the procedure's gate, not yet taken by it (recorded only once the gate answers). */
  decisionInFlight?: { decision: 'approved' | 'rejected'; by: string; at: string; reason?: string };
}

/**
 * A safety action (kill switch, pause, rollback) the engine applied for this incident and has not lifted:
 * while the incident is open, no other incident undoes it.
 */
export interface SafetyHold {
  action: 'kill-switch' | 'pause' | 'rollback';
  /** The approval (or pre-approval) it was applied under. */
  actionId: string;
  /** The procedure that applied it. */
  procedure: string;
  /** As the platform reports the activation. */
  activatedAt: string | null;
  activatedBy: string | null;
  reason: string | null;
  /** When the incident learned of it. */
  since: string;
}

/** One finding of a procedure (3.1-3.4), as the `status` query summarizes it. */
export interface Finding {
  at: string;
  procedure: string;
  step: string;
  type: 'finding' | 'decision' | 'action' | 'info';
  outcome: 'ok' | 'failed' | 'unavailable' | 'unknown' | null;
  text: string;
}

export interface IncidentStatus {
  /** `<workflow id>@<opening time>`: distinct for every incident, also when a workflow id is reused. */
  incidentId: string;
  /** The workflow id: what to type in the Web UI, `temporal` and `tctl`. */
  workflowId: string;
  title: string;
  kind: IncidentKind;
  severity: Severity;
  /** The most severe level reached (6.1 post-mortem rule). */
  highestSeverity: Severity;
  status: IncidentStatusValue;
  summary: string | null;
  source: IncidentInput['source'] | null;
  timeScale: number;
  openedAt: string;
  detectedAt: string;
  /** When the first page was delivered (a channel reported it); when it was composed, until one does. */
  firstPagedAt: string | null;
  acknowledgedBy: string | null;
  acknowledgedAt: string | null;
  resolvedBy: string | null;
  resolvedAt: string | null;
  closedAt: string | null;
  reopenUntil: string | null;
  reopenCount: number;
  engagedRoles: RoleId[];
  engagements: Engagement[];
  nextEscalation: { at: string; roles: RoleId[]; step: string } | null;
  pendingApprovals: PendingApproval[];
  sla: {
    responseDeadline: string;
    resolutionDeadline: string;
    responseBreachedAt: string | null;
    resolutionBreachedAt: string | null;
  };
  breaches: { type: 'response' | 'resolution'; at: string; severity: Severity }[];
  /** Playbook seconds (elapsed real time x timeScale); null until the end event happened. */
  metrics: { mttdSeconds: number | null; mttaSeconds: number | null; mttrSeconds: number | null };
  /** `repeats`: notifications of an alert already firing (counted, not in the timeline). */
  alerts: {
    firing: number;
    resolved: number;
    received: number;
    repeats: number;
    lastSeenAt: string | null;
    active: string[];
  };
  lossUsd: number;
  resolution: {
    rootCause: string | null;
    resolution: string | null;
    financialImpactUsd: number | null;
    missedTrades: number | null;
    tradingDowntimeMinutes: number | null;
  } | null;
  policyVersion: string;
  lastUpdate: { at: string; by: string; status: string } | null;
  /** When the next 4.2 status update is due from the acknowledger (reminder), if any. */
  nextStatusUpdateDue: string | null;
  /** The playbook procedure (3.1-3.4) child workflow of this incident, if its kind has one. */
  procedure: {
    workflowId: string;
    type: string;
    status: 'running' | 'completed' | 'needs-human' | 'failed' | 'cancelled';
    summary: string | null;
  } | null;
  /** Findings, decisions and actions of the procedure, latest last (at most 200). */
  findings: Finding[];
  /**
   * Safety actions the engine applied for this incident and has not lifted (only while it is open). Absent
   * in the answer of a worker older than it.
   */
  safetyHolds?: SafetyHold[];
  /** The 6.1 post-mortem workflow, started when the incident closes. */
  postmortemWorkflowId: string | null;
}
