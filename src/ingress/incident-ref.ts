// Which incident a Slack button, dialog, command or PagerDuty event names. A workflow id is reused when the
// same alert fires again after its incident closed, so only the incident id (`<workflow id>@<opening time>`,
// incidentKey in src/playbook/lifecycle/state.ts) tells two incidents apart: it is kept whole from the
// message to the comparison with the running incident's `status.incidentId`.

export interface IncidentRef {
  workflowId: string;
  /** The full incident id, or null when only a workflow id was given (a person typing `/incident ack <id>`). */
  incidentId: string | null;
}

// The opening time exactly as incidentKey writes it: `new Date(t).toISOString()` without `-` and `:`.
const INCIDENT_ID = /^(.+)@(\d{8}T\d{6}\.\d{3}Z)$/;

/** `<workflow id>@<opening time>` -> both parts; anything else -> null. */
export function parseIncidentId(
  value: string | null | undefined,
): { workflowId: string; incidentId: string } | null {
  const m = INCIDENT_ID.exec((value ?? '').trim());
  return m ? { workflowId: m[1]!, incidentId: m[0] } : null;
}

/** An incident id, or a bare workflow id (what a person may type), -> the reference; empty -> null. */
export function parseIncidentRef(value: string | null | undefined): IncidentRef | null {
  const full = parseIncidentId(value);
  if (full) return full;
  const bare = (value ?? '').trim();
  return bare && !bare.includes('@') ? { workflowId: bare, incidentId: null } : null;
}

/** What a person is told when their action names an incident that is no longer the one running. */
export function otherIncidentText(asked: string, running: string): string {
  return `this is about incident ${asked}, which is over; ${running} is the incident running now under the same workflow id (act on its own message, or name it)`;
}
