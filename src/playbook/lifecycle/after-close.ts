// What follows a close: the post-mortem obligation (6.1) in its own workflow, and a fresh incident on the
// same workflow id for the alerts that fired while this one was finishing.
import { POSTMORTEM_WORKFLOW_TYPE, postmortemWorkflowId } from '../contract/postmortem';
import { severityRank, type Severity } from '../severity';
import { isoOf } from '../time';
import type { Effect } from './draft';
import { patchedIn, type IncidentState, type IncidentWorkflowInput } from './state';

/** 6.1: the post-mortem follows the most severe level the incident reached, timed from its resolution. */
export function postmortemStart(s: IncidentState): Extract<Effect, { type: 'postmortem.start' }> {
  return {
    type: 'postmortem.start',
    workflowType: POSTMORTEM_WORKFLOW_TYPE,
    workflowId: postmortemWorkflowId(s.incidentId),
    input: {
      incidentId: s.incidentId,
      title: s.title,
      severity: s.highestSeverity,
      resolvedAt: isoOf(s.resolvedAt ?? s.closedAt ?? s.clock),
      timeScale: s.timeScale,
      channels: s.policy.channels,
    },
  };
}

/**
 * The alerts that fired while this incident was finishing open a fresh one on the same workflow id: detected
 * when the first late alert started, at the most severe routed severity, named after it, without the
 * previous incident's alerts. Null: no alert came after the close.
 */
export function nextIncident(input: IncidentWorkflowInput, s: IncidentState): IncidentWorkflowInput | null {
  const first = s.afterClose[0];
  if (!first) return null;
  const routed = s.afterClose
    .filter((a): a is typeof a & { routedSeverity: Severity } => a.routedSeverity !== undefined)
    .sort((a, b) => severityRank(a.routedSeverity) - severityRank(b.routedSeverity));
  const top = routed[0];
  const severity = top?.routedSeverity ?? input.severity;
  return {
    ...input,
    ...(severity ? { severity } : {}),
    ...(top?.routedTitle ? { title: top.routedTitle } : {}),
    // Not detected before the previous incident on this id closed: that one was about the issue until then.
    ...(first.startsAt
      ? {
          detectedAt:
            patchedIn(s, 'detectionBound') && s.closedAt !== null
              ? isoOf(Math.max(Date.parse(first.startsAt), s.closedAt))
              : first.startsAt,
        }
      : {}),
    source: input.source ? { ...input.source, alerts: undefined } : undefined,
    carriedAlerts: s.afterClose,
  };
}
