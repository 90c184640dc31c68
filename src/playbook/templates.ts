// Section 4 communication templates, rendered from incident state. Pure: times are passed in.
import { severityRank, type Severity } from './severity';
import { formatCot, formatDuration } from './time';

export interface StartContext {
  title: string;
  severity: Severity;
  /** 4.1 "Impact": brief description of user/system impact. */
  impact: string | null;
  startedAt: number;
  /**
   * 4.1 "On-Call": the roles this message pages (role ids). The delivery names the person each role is at
   * send time (rotation, override), see `nameOnCall`.
   */
  onCall: readonly string[];
  symptoms: string[];
  actions: string[];
  channel: string;
}

const bullets = (items: readonly string[], empty: string) =>
  (items.length > 0 ? items : [empty]).map((i) => `- ${i}`).join('\n');
const asList = (v: string | readonly string[] | undefined): string[] =>
  v === undefined
    ? []
    : typeof v === 'string'
      ? v
          .split('\n')
          .map((l) => l.trim())
          .filter(Boolean)
      : [...v];

const ON_CALL_PREFIX = '**On-Call**: ';

/**
 * The 4.1 "On-Call" line with each role followed by the person who holds it now (2.1 contacts, weekly
 * rotation): `@oncall-primary (Ana Ruiz)`. `nameOf` returns null where the config names nobody.
 */
export function nameOnCall(
  text: string,
  roles: readonly string[],
  nameOf: (role: string) => string | null,
): string {
  const line = `${ON_CALL_PREFIX}${roles
    .map((r) => {
      const who = nameOf(r);
      return who ? `@${r} (${who})` : `@${r}`;
    })
    .join(', ')}`;
  return text
    .split('\n')
    .map((l) => (l.startsWith(ON_CALL_PREFIX) ? line : l))
    .join('\n');
}

/** 4.1 Incident Start Notification. */
export function renderIncidentStart(c: StartContext): string {
  return [
    `:rotating_light: **INCIDENT: ${c.title}**`,
    '',
    `**Severity**: ${c.severity}`,
    '**Status**: Investigating',
    `**Impact**: ${c.impact ?? 'Being assessed'}`,
    `**Started**: ${formatCot(c.startedAt)}`,
    `${ON_CALL_PREFIX}${c.onCall.map((r) => `@${r}`).join(', ')}`,
    '',
    '**Initial Symptoms**:',
    bullets(c.symptoms, 'See alert details'),
    '',
    '**Actions Being Taken**:',
    bullets(c.actions, 'Investigating'),
    '',
    `**Updates**: This thread / ${c.channel}`,
  ].join('\n');
}

export interface SeverityChangeContext {
  title: string;
  from: Severity;
  to: Severity;
  by: string;
  reason: string;
  /** 1.1 targets of the new severity (labels), counted from the opening. */
  responseTarget: string;
  resolutionTarget: string;
  /** Who acknowledged and leads it, if anyone: told it now runs at the new severity. */
  acknowledgedBy: string | null;
  /** Every role engaged (the delivery names who holds each one now). */
  onCall: readonly string[];
  /** Roles the change paged at once (the new matrix's overdue steps). */
  pagedNow: readonly string[];
  /** The new matrix's next step, if any. */
  next: { roles: readonly string[]; at: number } | null;
  channel: string;
}

/**
 * A severity change, to the channel and every engaged role, in the section 4 style: the playbook has no
 * template for it, and whoever acknowledged a P2 must learn it is now a P1 (its targets and matrix change).
 */
export function renderSeverityChange(c: SeverityChangeContext): string {
  const raised = severityRank(c.to) < severityRank(c.from);
  return [
    `${raised ? ':arrow_up:' : ':arrow_down:'} **SEVERITY ${raised ? 'RAISED' : 'LOWERED'}: ${c.title}**`,
    '',
    `**Severity**: ${c.to} (was ${c.from})`,
    `**Changed By**: ${c.by}`,
    `**Reason**: ${c.reason}`,
    `**Response Target**: ${c.responseTarget}`,
    `**Resolution Target**: ${c.resolutionTarget}`,
    ...(c.acknowledgedBy ? [`**Acknowledged By**: ${c.acknowledgedBy}`] : []),
    `${ON_CALL_PREFIX}${c.onCall.map((r) => `@${r}`).join(', ')}`,
    '',
    '**Escalation**:',
    bullets(
      [
        ...(c.pagedNow.length > 0 ? [`Paged now: ${c.pagedNow.map((r) => `@${r}`).join(', ')}`] : []),
        c.next
          ? `Next: ${c.next.roles.map((r) => `@${r}`).join(', ')} at ${formatCot(c.next.at)}`
          : `No further step in the ${c.to} matrix`,
      ],
      '',
    ),
    '',
    `**Updates**: This thread / ${c.channel}`,
  ].join('\n');
}

export interface UpdateContext {
  title: string;
  status: 'Investigating' | 'Mitigating' | 'Monitoring' | 'Resolved';
  impact?: string;
  progress?: string | readonly string[];
  theory?: string;
  nextSteps?: string | readonly string[];
  eta?: string;
}

/** 4.2 Incident Update Notification. */
export function renderIncidentUpdate(c: UpdateContext): string {
  return [
    `:loudspeaker: **UPDATE: ${c.title}**`,
    '',
    `**Status**: ${c.status}`,
    `**Current Impact**: ${c.impact ?? 'Unchanged'}`,
    '',
    '**Progress Since Last Update**:',
    bullets(asList(c.progress), 'No change'),
    '',
    `**Current Theory**: ${c.theory ?? 'Unknown'}`,
    '',
    '**Next Steps**:',
    bullets(asList(c.nextSteps), 'Continue investigating'),
    '',
    `**ETA**: ${c.eta ?? 'Investigating'}`,
  ].join('\n');
}

export interface ResolvedContext {
  title: string;
  durationMs: number;
  tradingDowntimeMinutes: number | null;
  missedTrades: number | null;
  financialImpactUsd: number | null;
  rootCause: string | null;
  resolution: string | null;
  /** Post-mortem due time (6.1), null when none is required (P3). */
  postmortemDueAt: number | null;
  postmortemRequirement: 'mandatory' | 'recommended' | 'none';
  followUps: string[];
  postmortemLink: string | null;
}

/**
 * 4.3 "[$X or "None"]": "None" is a reported zero. Nobody reported a figure: "Unknown", as downtime and missed
 * trades are (a PagerDuty or `/incident` resolve carries none, and must not announce that nothing was lost).
 */
export function formatUsd(amount: number | null): string {
  if (amount === null) return 'Unknown';
  if (amount === 0) return 'None';
  return `$${amount.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
}

/** 4.3 Incident Resolved Notification. */
export function renderIncidentResolved(c: ResolvedContext): string {
  const postmortem =
    c.postmortemDueAt === null
      ? '- [ ] Post-mortem not required (6.1)'
      : `- [ ] Post-mortem ${c.postmortemRequirement === 'recommended' ? '(recommended) ' : ''}scheduled for ${formatCot(c.postmortemDueAt)}`;
  return [
    `:white_check_mark: **RESOLVED: ${c.title}**`,
    '',
    `**Duration**: ${formatDuration(c.durationMs)}`,
    '**Impact Summary**:',
    `- Trading downtime: ${c.tradingDowntimeMinutes === null ? 'Unknown' : `${c.tradingDowntimeMinutes} minutes`}`,
    `- Missed trades: ${c.missedTrades ?? 'Unknown'}`,
    `- Financial impact: ${formatUsd(c.financialImpactUsd)}`,
    '',
    `**Root Cause**: ${c.rootCause ?? 'Under investigation'}`,
    '',
    `**Resolution**: ${c.resolution ?? 'Not recorded'}`,
    '',
    '**Follow-up Actions**:',
    postmortem,
    ...c.followUps.map((f) => `- [ ] ${f}`),
    '',
    `**Post-mortem**: ${c.postmortemLink ?? 'Link when available'}`,
  ].join('\n');
}

export interface ExternalContext {
  currentStatus: 'Operational' | 'Degraded' | 'Outage';
  lastUpdated: number;
  summary: string;
  impact: string;
  resolutionEta: string | null;
  nextUpdate: string;
}

/** 4.4 External Communication. */
export function renderExternalStatus(c: ExternalContext): string {
  return [
    '**Status Update - USD/COP Trading System**',
    '',
    `**Current Status**: ${c.currentStatus}`,
    `**Last Updated**: ${formatCot(c.lastUpdated)}`,
    '',
    '**Summary**:',
    c.summary,
    '',
    '**Impact**:',
    c.impact,
    '',
    `**Resolution ETA**: ${c.resolutionEta ?? 'Investigating'}`,
    '',
    `**Next Update**: ${c.nextUpdate}`,
  ].join('\n');
}
