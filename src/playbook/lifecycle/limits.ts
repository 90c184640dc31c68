// Byte bounds of the incident's carried state. Every string the state keeps is cut to a
// named limit here, so continue-as-new, queries and ledger writes stay far below Temporal's 2 MB payload
// limit whatever the alerts, signals and procedures send. The ledger keeps what the state drops. Cut text is
// cleaned too (../text): what no schema checked (a child's result, an activity's error) must not carry a NUL
// into the ledger either.
import { cleanJson, cleanText } from '../text';

export const LIMITS = {
  /** Incident title (and an alert's title candidate). */
  title: 300,
  /** One timeline event's text. */
  eventText: 1000,
  /** One timeline event's `data`, as JSON characters; a larger one keeps a preview. */
  eventData: 2000,
  /** An active alert's label (`name: summary`) in the state. */
  alertLabel: 300,
  /** A procedure finding's text in the `findings` summary. */
  findingText: 1000,
  /** A summary, resolution, root cause or other free text the state keeps. */
  freeText: 2000,
  /** Timeline events kept in the state once the ledger has the older ones. */
  timelineKeep: 300,
  /**
   * Past this many events or bytes, events are dropped even if the ledger has not confirmed them (it is down,
   * or slower than a burst of signals): the state must stay far below Temporal's 2 MB payload limit.
   */
  timelineHardCap: 3000,
  timelineBytes: 512 * 1024,
  /** Distinct firing alerts kept (the counts stay exact). */
  activeAlerts: 200,
  /** Procedure findings kept in the summary (the timeline and ledger have all). */
  findings: 100,
  /** Alerts that fired after close, carried to the next incident. */
  afterClose: 100,
  /** Pending approvals (a procedure asks for a few at most). */
  pendingApprovals: 20,
  /** Safety holds (kill switch, pause, rollback) this incident keeps at once. */
  safetyHolds: 20,
  /** Serialized state past which the run continues as new even with a short history (it carries the state). */
  stateBytes: 1024 * 1024,
  /** History bytes past which the run continues as new (Temporal warns at 10 MB, fails at 50 MB). */
  historyBytes: 4 * 1024 * 1024,
} as const;

/** The head of `s` in at most `max` UTF-16 units, ending in an ellipsis when cut (never splits a pair). */
export function clip(raw: string, max: number): string {
  const s = cleanText(raw);
  if (s.length <= max) return s;
  let n = max - 1;
  const last = s.charCodeAt(n - 1);
  if (last >= 0xd800 && last <= 0xdbff) n -= 1;
  return `${s.slice(0, n)}…`;
}

export const clipOrNull = (s: string | null | undefined, max: number): string | null =>
  s === null || s === undefined ? null : clip(s, max);

/** `data` if its JSON fits in `max` characters; otherwise a note and a preview (never a 2 MB payload). */
export function clipData(
  data: Record<string, unknown>,
  max: number = LIMITS.eventData,
): Record<string, unknown> {
  data = cleanJson(data);
  let json: string;
  try {
    json = JSON.stringify(data);
  } catch {
    return { truncated: 'unserializable data' };
  }
  if (json.length <= max) return data;
  return { truncated: `${json.length} characters of data cut to a preview`, preview: clip(json, max - 100) };
}

/** Approximate serialized size of one timeline event (what the state carries for it). */
export function eventBytes(e: {
  at: string;
  actor: string;
  type: string;
  text: string;
  data?: unknown;
}): number {
  return (
    60 +
    e.at.length +
    e.actor.length +
    e.type.length +
    e.text.length +
    (e.data === undefined ? 0 : JSON.stringify(e.data).length)
  );
}
