// The post-mortem (playbook 6.1-6.3) as a pure state machine: decide(state, input, now) -> { state, effects }.
// No I/O and no Temporal: postmortemWorkflow feeds every handler, timer and activity outcome in as one
// input and carries the effects out as activities, so each rule is tested here in milliseconds
// (test/playbook/postmortem-core.test.ts).
import { applyAction, type ActionName, type Outcome } from './actions';
import { record, type Draft, type Effect } from './draft';
import { processDue } from './tick';
import { draftOf, type PostmortemWorkflowState } from './state';

export type { Effect, Outcome, ActionName };

export type Input =
  /** Do what is due at `now` (the decision clock). */
  | { type: 'tick' }
  /** The decision clock moves: a timer fired at its target. */
  | { type: 'clock'; at: number }
  /** A person's action, raw: validated here; `now` is the time it came in. */
  | { type: 'action'; name: ActionName; payload: unknown; via: 'signal' | 'update' }
  /** A side effect or a handler gave up: recorded (`eventType`), the post-mortem carries on. */
  | { type: 'failed'; eventType: string; text: string; data?: Record<string, unknown> };

export interface Decision {
  state: PostmortemWorkflowState;
  effects: Effect[];
  /** Actions only: accepted (with a message) or refused (with the reason). */
  outcome?: Outcome;
}

export function decide(state: PostmortemWorkflowState, input: Input, now: number = state.clock): Decision {
  const d: Draft = { s: draftOf(state), now, effects: [] };
  let outcome: Outcome | undefined;
  switch (input.type) {
    case 'tick':
      processDue(d);
      break;
    case 'clock':
      d.s.clock = Math.max(d.s.clock, input.at);
      break;
    case 'action':
      outcome = applyAction(d, input.name, input.payload, input.via);
      break;
    case 'failed':
      record(d, 'system', input.eventType, input.text, input.data);
      break;
  }
  return { state: d.s, effects: d.effects, ...(outcome ? { outcome } : {}) };
}
