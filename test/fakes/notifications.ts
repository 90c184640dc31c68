// Shared by the channel tests: a notification as the workflow composes it, and a helper for failures.
import { ApplicationFailure } from '@temporalio/common';
import type { Notification } from '../../src/playbook/contract/notification';

export function notification(overrides: Partial<Notification> = {}): Notification {
  const incidentId = overrides.incidentId ?? 'incident-trading-system-down-abc123';
  const step = overrides.step ?? 'escalate-P0-0m';
  const target = overrides.target ?? 'oncall-primary';
  return {
    idempotencyKey: `${incidentId}:${step}:${target}`,
    incidentId,
    step,
    target,
    kind: 'page',
    severity: 'P0',
    title: 'Trading system down',
    text: ':rotating_light: **INCIDENT: Trading system down**\n\n**Severity**: P0\n**Status**: Investigating\n**Started**: 2026-11-27 09:15 COT',
    template: '4.1',
    createdAt: '2026-11-27T14:15:00.000Z',
    incidentStatus: 'triggered',
    ...overrides,
  };
}

/** Await a promise that must reject with an ApplicationFailure, and return it. */
export async function failureOf(p: Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApplicationFailure) return err;
    throw new Error(`expected an ApplicationFailure, got ${String(err)}`);
  }
  throw new Error('expected a rejection, the promise resolved');
}
