// When the incident ledger (PostgreSQL, 6.4 metrics) is written: in batches on state changes, not on every
// re-page round (issue 9 item 5). One write at a time; the interpreter asks (`ledger.flush`) only when none
// is in flight, and the state moves `ledgerSeq` only once the ledger confirmed (`ledger.written`).
import { MINUTE_MS } from '../time';
import { trimTimeline, type Draft } from './draft';
import { eventBytes } from './limits';
import { scaled, snapshot } from './state';

/** Routine events wait for a batch of this many, or this many playbook minutes, whichever comes first. */
export const LEDGER_BATCH_EVENTS = 50;
export const LEDGER_BATCH_MINUTES = 30;

export function ledgerFlush(d: Draft, force: boolean): void {
  const s = d.s;
  const upTo = s.timelineDropped + s.timeline.length; // positions are absolute: trimming keeps them
  const pending = upTo - s.ledgerSeq;
  if (pending <= 0 && !s.ledgerUrgent) return;
  const stale =
    s.ledgerAskedAt === null || d.now - s.ledgerAskedAt >= scaled(s, LEDGER_BATCH_MINUTES * MINUTE_MS);
  if (!force && !s.ledgerUrgent && pending < LEDGER_BATCH_EVENTS && !stale) return;
  const fromSeq = Math.max(s.ledgerSeq, s.timelineDropped);
  s.ledgerAskedAt = d.now;
  s.ledgerUrgent = false;
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
