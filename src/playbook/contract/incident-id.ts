// The incident id: `<workflow id>@<opening time>`. A workflow id is reused when the same alert fires again
// after its incident closed, so only the opening time tells two incidents on one workflow id apart: pages,
// the Slack thread, PagerDuty's incident_key, the ledger and the post-mortem all carry the whole id.
// The time is ISO 8601 without `-` and `:` (`20261127T095317.123Z`): readable in a page, and safe where the
// id travels (URLs, Slack's private_metadata, PagerDuty's incident_key). Pure: the workflow builds it and
// the ingress parses it with these two functions, so the two sides cannot drift apart.

export interface IncidentIdParts {
  workflowId: string;
  /** The opening time, epoch milliseconds. */
  openedAt: number;
}

const OPENING_TIME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z$/;
// toISOString writes a four-digit year only for years 0000-9999 (beyond them, a sign and six digits).
const EARLIEST_OPENING = new Date(0).setUTCFullYear(0, 0, 1);
const LATEST_OPENING = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

const writable = (openedAt: number): boolean =>
  Number.isInteger(openedAt) && openedAt >= EARLIEST_OPENING && openedAt <= LATEST_OPENING;

const compact = (workflowId: string, openedAt: number): string =>
  `${workflowId}@${new Date(openedAt).toISOString().replace(/[-:]/g, '')}`;

/** `<workflow id>@20261127T095317.123Z`: readable, and distinct for every incident opened on one workflow id. */
export function incidentIdOf(workflowId: string, openedAt: number): string {
  if (workflowId === '') throw new RangeError('an incident id needs a workflow id (got an empty one)');
  if (!writable(openedAt))
    throw new RangeError(
      `an incident id needs an opening time in whole milliseconds, years 0000-9999 (got ${openedAt})`,
    );
  return compact(workflowId, openedAt);
}

/**
 * An incident id -> its workflow id and opening time. Anything else -> null: a bare workflow id, a
 * malformed or impossible time (month 13, February 30), surrounding spaces. The workflow id may itself
 * contain `@`: the opening time is what follows the last one.
 */
export function parseIncidentId(text: string | null | undefined): IncidentIdParts | null {
  if (typeof text !== 'string') return null;
  const at = text.lastIndexOf('@');
  if (at <= 0) return null;
  const m = OPENING_TIME.exec(text.slice(at + 1));
  if (!m) return null;
  const [year, month, day, hour, minute, second, ms] = m.slice(1).map(Number) as number[];
  const opened = new Date(0);
  opened.setUTCFullYear(year!, month! - 1, day!);
  opened.setUTCHours(hour!, minute!, second!, ms!);
  const openedAt = opened.getTime();
  const workflowId = text.slice(0, at);
  // The Date rolls an impossible field over (February 30 -> March 2): only a time written back the same is one.
  return writable(openedAt) && compact(workflowId, openedAt) === text ? { workflowId, openedAt } : null;
}
