// Safety holds: a kill switch, pause or rollback the engine applied for this incident, kept while the incident
// is open (triggered or acknowledged) and shown in `status` and the current details, so an operator, and the
// procedures of other incidents, see what this one holds. The procedure reports each change in a
// procedureEvent's `data.safetyHold`.
import { safetyHoldSchema } from '../contract/procedure';
import type { SafetyHold } from '../contract/incident';
import { formatIssues } from '../contract/payload';
import { isoOf } from '../time';
import { record, type Draft } from './draft';
import { clip, clipOrNull, LIMITS } from './limits';
import { isOpen } from './state';

/** A procedureEvent's `data.safetyHold` (unvalidated): the hold list follows it. */
export function safetyHoldReported(d: Draft, procedure: string, raw: unknown): void {
  const s = d.s;
  const parsed = safetyHoldSchema.safeParse(raw);
  if (!parsed.success) {
    record(d, procedure, 'safety.ignored', `safetyHold ignored: ${formatIssues(parsed.error.issues)}`);
    return;
  }
  const h = parsed.data;
  if (h.change === 'released') {
    // The hold it names; else the same activation; else the action's holds (the platform has one kill
    // switch and one pause state: a resume that lifted it ended every hold on it).
    const byId = s.safetyHolds.filter((x) => x.actionId === h.actionId);
    const byActivation = s.safetyHolds.filter(
      (x) => x.action === h.action && x.activatedAt === h.activatedAt && x.activatedBy === h.activatedBy,
    );
    const gone = byId.length
      ? byId
      : byActivation.length
        ? byActivation
        : s.safetyHolds.filter((x) => x.action === h.action);
    s.safetyHolds = s.safetyHolds.filter((x) => !gone.includes(x));
    return;
  }
  if (!isOpen(s)) {
    // Applied while the incident was being resolved (a call under way finishes): on the platform, held by
    // nobody. Said, so someone lifts it on purpose.
    record(
      d,
      procedure,
      'safety.not-held',
      `${h.action} ${h.actionId} applied after the incident was ${s.status}: not held by this incident; lift it or keep it on purpose`,
      { actionId: h.actionId, action: h.action },
    );
    return;
  }
  const hold: SafetyHold = {
    action: h.action,
    actionId: h.actionId,
    procedure: clip(procedure, 200),
    activatedAt: clipOrNull(h.activatedAt, 100),
    activatedBy: clipOrNull(h.activatedBy, 300),
    reason: clipOrNull(h.reason, LIMITS.findingText),
    since: isoOf(d.now),
  };
  s.safetyHolds = [...s.safetyHolds.filter((x) => x.actionId !== h.actionId), hold].slice(
    -LIMITS.safetyHolds,
  );
}

/** Resolution or close: a hold exists only while the incident is open. Each one is released on the record. */
export function releaseSafetyHolds(d: Draft, why: string): void {
  const s = d.s;
  for (const h of s.safetyHolds)
    record(
      d,
      'system',
      'safety.released',
      `safety hold released: ${why} (${h.action} ${h.actionId}, applied by ${h.procedure}${h.activatedAt ? ` at ${h.activatedAt}` : ''})`,
      { action: h.action, actionId: h.actionId },
    );
  s.safetyHolds = [];
}

/** The current details' line, or '' when nothing is held. */
export function safetyHoldsLine(
  s: { safetyHolds: SafetyHold[] },
  formatTime: (ms: number) => string,
): string {
  if (s.safetyHolds.length === 0) return '';
  return `- Safety holds: ${s.safetyHolds
    .map((h) => `${h.action} ${h.actionId} (${h.procedure}) since ${formatTime(Date.parse(h.since))}`)
    .join('; ')}`;
}
