// Helpers the pure lifecycle suites share: open an incident, run inputs at their times, collect effects.
import { decide, type Effect, type Input } from '../../src/playbook/lifecycle/decide';
import { openState, type IncidentState, type Patches } from '../../src/playbook/lifecycle/state';
import { MINUTE_MS } from '../../src/playbook/time';
import type { IncidentInput } from '../../src/playbook/contract/incident';
import type { Notification } from '../../src/playbook/contract/notification';

export const T0 = Date.parse('2026-12-01T14:00:00Z'); // a Tuesday, 09:00 COT
export const min = (m: number): number => T0 + m * MINUTE_MS;
export const tick: Input = { type: 'tick' };
export const action = (name: string, payload: unknown): Input =>
  ({ type: 'action', name, payload, via: 'signal' }) as Input;
export const procedureMessage = (name: string, payload: unknown): Input =>
  ({ type: 'procedure', name, payload }) as Input;

/** A new incident before its first decision (`patches`: what the shell's patched() answered; default all). */
export const fresh = (input: Partial<IncidentInput> = {}, patches?: Patches, at = T0): IncidentState =>
  openState(
    { title: 'Trading API down', severity: 'P1', kind: 'generic', policyComplete: true, ...input },
    { openedAt: at, workflowId: 'incident-test', carriedAlerts: [], ...(patches ? { patches } : {}) },
  );

/** A new incident after its first decision, and that decision's effects. */
export function opened(input: Partial<IncidentInput> = {}, patches?: Patches, at = T0) {
  return decide(fresh(input, patches, at), { type: 'open' }, at);
}

/** Runs inputs in order at their times; returns the final state and every effect with its time. */
export function runAll(state: IncidentState, steps: { input: Input; at: number }[]) {
  const effects: { at: number; effect: Effect; status: IncidentState['status'] }[] = [];
  let s = state;
  for (const { input, at } of steps) {
    const r = decide(s, input, at);
    s = r.state;
    for (const effect of r.effects) effects.push({ at, effect, status: s.status });
  }
  return { state: s, effects };
}

export const notifications = (effects: { effect: Effect }[]): Notification[] =>
  effects.flatMap(({ effect }) => (effect.type === 'notify' ? [effect.notification] : []));
export const ofType = <T extends Effect['type']>(effects: { effect: Effect }[], type: T) =>
  effects.flatMap(({ effect }) => (effect.type === type ? [effect as Extract<Effect, { type: T }>] : []));
export const effectsOf = (effects: Effect[]) => effects.map((effect) => ({ effect }));
