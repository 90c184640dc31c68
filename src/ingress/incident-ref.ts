// Which incident a Slack button, dialog, command or PagerDuty event names. A workflow id is reused when the
// same alert fires again after its incident closed, so only the incident id (`<workflow id>@<opening time>`,
// src/playbook/contract/incident-id.ts) tells two incidents apart: it is kept whole from the message to the
// comparison with the running incident's `status.incidentId`.
import { parseIncidentId } from '../playbook/contract/incident-id';

export interface IncidentRef {
  workflowId: string;
  /** The full incident id, or null when only a workflow id was given (a person typing `/incident ack <id>`). */
  incidentId: string | null;
}

/** A whole incident id (spaces around it allowed: people paste it) -> the reference; anything else -> null. */
export function wholeIncidentRef(
  value: string | null | undefined,
): { workflowId: string; incidentId: string } | null {
  const incidentId = (value ?? '').trim();
  const parsed = parseIncidentId(incidentId);
  return parsed ? { workflowId: parsed.workflowId, incidentId } : null;
}

/** An incident id, or a bare workflow id (what a person may type), -> the reference; empty -> null. */
export function parseIncidentRef(value: string | null | undefined): IncidentRef | null {
  const full = wholeIncidentRef(value);
  if (full) return full;
  const bare = (value ?? '').trim();
  return bare && !bare.includes('@') ? { workflowId: bare, incidentId: null } : null;
}

/** What a person is told when their action names an incident that is no longer the one running. */
export function otherIncidentText(asked: string, running: string): string {
  return `this is about incident ${asked}, which is over; ${running} is the incident running now under the same workflow id (act on its own message, or name it)`;
}
