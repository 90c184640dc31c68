// When the incident ledger (PostgreSQL, 6.4 metrics) is written: in batches on state changes, not on every
// re-page round (a round is bulk, and the row is rewritten at every status change anyway). One write at a
// time (`ledgerBusy`): a flush while one is in flight waits for it, and the state moves `ledgerSeq` only once
// the ledger confirmed (`ledger.written`). A failed write backs off (ledgerFailed).
import { isoOf, MINUTE_MS } from '../time';
import { record, trimTimeline, type Draft } from './draft';
import { eventBytes } from './limits';
import { patchedIn, scaled, snapshot, type IncidentState } from './state';

/** Routine events wait for a batch of this many, or this many playbook minutes, whichever comes first. */
export const LEDGER_BATCH_EVENTS = 50;
export const LEDGER_BATCH_MINUTES = 30;

/** Asks for a write if one is due (`force`: before continue-as-new and at close) and none is in flight. */
export function ledgerFlush(d: Draft, force: boolean): void {
  const s = d.s;
  if (s.ledgerBusy) return;
  // Backing off after a failure; continue-as-new and close still try.
  if (!force && s.ledgerRetryAt !== null && d.now < s.ledgerRetryAt) return;
  const upTo = s.timelineDropped + s.timeline.length; // positions are absolute: trimming keeps them
  const pending = upTo - s.ledgerSeq;
  if (pending <= 0 && !s.ledgerUrgent) return;
  const stale =
    s.ledgerAskedAt === null || d.now - s.ledgerAskedAt >= scaled(s, LEDGER_BATCH_MINUTES * MINUTE_MS);
  if (!force && !s.ledgerUrgent && pending < LEDGER_BATCH_EVENTS && !stale) return;
  const fromSeq = Math.max(s.ledgerSeq, s.timelineDropped);
  s.ledgerAskedAt = d.now;
  s.ledgerUrgent = false;
  s.ledgerBusy = true;
  d.effects.push({
    type: 'ledger.write',
    write: {
      incidentId: s.incidentId,
      fromSeq,
      events: s.timeline.slice(fromSeq - s.timelineDropped),
      snapshot: snapshot(s, d.now),
      upTo,
    },
  });
}

/**
 * The ledger has the events up to `upTo`: their `data` (log lines, evidence, payloads) leaves the carried
 * state, and the timeline may be trimmed.
 */
export function ledgerWritten(d: Draft, upTo: number): void {
  const s = d.s;
  s.ledgerBusy = false;
  s.ledgerFailures = 0;
  s.ledgerRetryAt = null;
  s.ledgerSeq = Math.max(s.ledgerSeq, upTo);
  const written = Math.min(s.timeline.length, s.ledgerSeq - s.timelineDropped);
  for (let i = 0; i < written; i++) {
    const e = s.timeline[i];
    if (e?.data !== undefined) {
      const { data: _data, ...rest } = e;
      s.timeline[i] = rest;
      s.timelineBytes -= eventBytes(e) - eventBytes(rest);
    }
  }
  trimTimeline(s);
}

/** The least real time before a failed ledger write is tried again; it doubles with each failure in a row. */
export const LEDGER_RETRY_FLOOR_MS = 5_000;
/** ...up to this (real time): a database down for a day is still tried every ten minutes. */
export const LEDGER_RETRY_MAX_FLOOR_MS = 10 * MINUTE_MS;

/**
 * A ledger write that failed, whatever the cause (the database down, a value it refuses), is tried again
 * after the batch interval and never sooner than a real-time floor that doubles with each failure in a row:
 * the events stay pending meanwhile and go in that write. The failure is on the record as a routine event,
 * so it cannot ask for a write of its own (a write that fails every time would otherwise ask again at once,
 * in a loop). Before the patch: a `side-effect.failed` event, as then.
 */
export function ledgerFailed(d: Draft, write: boolean, text: string): void {
  const s = d.s;
  if (write) s.ledgerBusy = false;
  if (!patchedIn(s, 'ledgerBackoff')) {
    record(d, 'system', 'side-effect.failed', text);
    return;
  }
  if (!write) {
    record(d, 'system', 'ledger.failed', text);
    return;
  }
  s.ledgerFailures += 1;
  const floor = Math.min(
    LEDGER_RETRY_FLOOR_MS * 2 ** Math.min(s.ledgerFailures - 1, 20),
    LEDGER_RETRY_MAX_FLOOR_MS,
  );
  s.ledgerRetryAt = d.now + Math.max(scaled(s, LEDGER_BATCH_MINUTES * MINUTE_MS), floor);
  // The row the failed write carried is still owed: written at the retry even without a new event.
  s.ledgerUrgent = true;
  record(
    d,
    'system',
    'ledger.failed',
    `${text} (failure ${s.ledgerFailures} in a row; tried again at ${isoOf(s.ledgerRetryAt)})`,
  );
}

/**
 * When the ledger next needs the loop awake (real epoch ms), or null. Routine events the ledger has not seen
 * go in the next batch, at the latest this long after the last; after a failed write, the retry (the row it
 * carried is owed even with no event pending). A time already due is not one: the flush after each tick
 * takes it, or the write in flight wakes the loop when done.
 */
export function ledgerWakeup(s: IncidentState, now: number): number | null {
  const pending = s.timelineDropped + s.timeline.length > s.ledgerSeq;
  const batchDue =
    s.ledgerAskedAt === null ? null : s.ledgerAskedAt + scaled(s, LEDGER_BATCH_MINUTES * MINUTE_MS);
  const times: number[] = [];
  if (pending && batchDue !== null && batchDue > now) times.push(batchDue);
  if ((pending || s.ledgerUrgent) && s.ledgerRetryAt !== null && s.ledgerRetryAt > now)
    times.push(s.ledgerRetryAt);
  return times.length ? Math.min(...times) : null;
}
