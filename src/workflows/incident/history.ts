// The incident's history policy and what it shows of itself to Temporal's visibility: when a run continues
// as new, and the search attributes and current details kept up to date.
import * as wf from '@temporalio/workflow';
import { LIMITS } from '../../playbook/lifecycle/limits';
import type { IncidentState } from '../../playbook/lifecycle/state';
import { currentDetails, searchAttributes, stateBytes } from '../../playbook/lifecycle/view';
import { formatUtcAndCot } from '../../playbook/time';
import { IncidentKindKey, IncidentSeverityKey, IncidentStatusKey } from '../definitions';

/** Continue-as-new on history length, history bytes, the server's suggestion, or the state's own size. */
export function continueAsNewDue(
  s: IncidentState,
  history: { length: number; bytes: number; suggested: boolean },
): string | null {
  if (history.length > s.policy.continueAsNewAfterEvents) return `history has ${history.length} events`;
  if (history.bytes > LIMITS.historyBytes) return `history has ${history.bytes} bytes`;
  if (history.suggested) return 'the server suggests it';
  // A large state makes every task's history events large: start afresh, but not in a loop (a new run has
  // a short history and keeps the state it carries).
  if (history.length > 500) {
    const bytes = stateBytes(s);
    if (bytes > LIMITS.stateBytes) return `state has ${bytes} bytes`;
  }
  return null;
}

/** This run's history, as continueAsNewDue reads it. */
export function historyNow(): { length: number; bytes: number; suggested: boolean } {
  const info = wf.workflowInfo();
  return { length: info.historyLength, bytes: info.historySize, suggested: info.continueAsNewSuggested };
}

/** Keeps the search attributes and the Web UI's current details in step with the state. */
export class Visibility {
  private shown = '';

  sync(s: IncidentState): void {
    const a = searchAttributes(s);
    const key = `${a.severity}|${a.status}|${a.kind}`;
    if (key !== this.shown) {
      // Upsert only on change: each upsert is a history event. The ingress's start already set them.
      const given = wf.workflowInfo().typedSearchAttributes;
      const current =
        given.get(IncidentSeverityKey) === a.severity &&
        given.get(IncidentStatusKey) === a.status &&
        given.get(IncidentKindKey) === a.kind;
      if (!current)
        wf.upsertSearchAttributes([
          { key: IncidentSeverityKey, value: a.severity },
          { key: IncidentStatusKey, value: a.status },
          { key: IncidentKindKey, value: a.kind },
        ]);
      this.shown = key;
    }
    wf.setCurrentDetails(currentDetails(s, s.clock, formatUtcAndCot));
  }
}
