// A severity change (setSeverity, or a more severe alert joining): the new matrix's overdue steps fire in the
// same decision, and the channel and every engaged role are told (DESIGN "setSeverity re-plans from the
// opening time: steps already due fire at once").
import type { Severity } from '../severity';
import { updatesChannelOf } from '../policy';
import { renderSeverityChange } from '../templates';
import { engage, notify, type Draft } from './draft';
import { escalationPlan, isOpen, patchedIn } from './state';

/**
 * After `s.severity` changed from `from`. The overdue steps are paged here, stamped with this decision's time:
 * left to the tick that follows, they took the decision clock's time, which lags behind a human's input (a
 * page decided at minute 16.5 read 15.0, inside the old severity's window).
 */
export function severityChanged(d: Draft, from: Severity, by: string, reason: string): void {
  const s = d.s;
  if (!patchedIn(s, 'severityChangeNotified')) return;
  const told = s.engagements.map((e) => e.role);
  if (isOpen(s))
    for (const step of escalationPlan(s, d.now).due)
      engage(
        d,
        step.roles,
        step.stepId,
        `${s.severity} escalation matrix, ${step.afterMinutes} min (severity ${from} -> ${s.severity})`,
      );
  const onCall = s.engagements.map((e) => e.role);
  const next = isOpen(s) ? escalationPlan(s, d.now).next : null;
  s.seq += 1;
  const step = `severity-${s.seq}`;
  const text = renderSeverityChange({
    title: s.title,
    from,
    to: s.severity,
    by,
    reason,
    responseTarget: s.policy.responseTarget[s.severity].label,
    resolutionTarget: s.policy.resolutionTarget[s.severity].label,
    acknowledgedBy: s.acknowledgedBy,
    onCall,
    pagedNow: onCall.filter((r) => !told.includes(r)),
    next: next ? { roles: next.roles, at: next.dueAt } : null,
    channel: updatesChannelOf(s.policy),
  });
  notify(d, 'severity', step, 'channel', text, undefined, onCall);
  // The roles already on it (the acknowledger's among them); those just paged got the 4.1 page. A resolved
  // incident's change (it moves the 6.1 post-mortem rule) goes to the channel only.
  if (isOpen(s)) for (const role of told) notify(d, 'severity', step, role, text, undefined, onCall);
}
