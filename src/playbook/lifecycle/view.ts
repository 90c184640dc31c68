// What the incident shows of itself: the search attributes the ingress and operators filter on, the Web UI's
// current details, the timeline query's answer, and the state's serialized size. Pure views of the state.
import type { TimelineEvent } from '../contract/incident';
import { isoOf } from '../time';
import { safetyHoldsLine } from './safety-holds';
import { escalationPlan, isOpen, type IncidentState } from './state';

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

/** The `timeline` query's answer: the events kept, after a line that says where the earlier ones are. */
export function timelineView(s: IncidentState): TimelineEvent[] {
  if (s.timelineDropped === 0) return s.timeline;
  return [
    {
      at: s.timeline[0]?.at ?? isoOf(s.openedAt),
      actor: 'system',
      type: 'timeline.truncated',
      text: `${s.timelineDropped} earlier events are in the incident ledger (incident_events of ${s.incidentId})`,
    },
    ...s.timeline,
  ];
}
