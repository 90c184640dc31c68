// The guard every mutating remediation passes right before it calls the platform (src/playbook/safety.ts
// has the rule): read what its preconditions need (operations status, data freshness, the holder of an
// active kill switch) and refuse the call, with the reasons, when they do not hold. A reading that fails is
// a refusal too. Also the 3.1 check that tells whether an active kill switch is another incident's hold.
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  holderOf,
  judgeHold,
  judgePreconditions,
  observationsNeeded,
  workflowIdOfIncident,
  type GuardObservations,
  type GuardVerdict,
  type HolderObservation,
  type OperationsObservation,
  type Precondition,
} from '../../playbook/safety';
import { statusQuery } from '../../workflows/definitions';
import type { CheckFinding } from './finding';

/** Who an incident id names, as that incident answers its `status` query; null when it did not answer. */
export type HolderLookup = (incidentId: string) => Promise<HolderObservation | null>;

const HOLDER_QUERY_TIMEOUT_MS = 5_000;

/** Ask the holder itself, through the worker's client (any worker of the task queue can answer). */
export function temporalHolderLookup(client?: Client): HolderLookup {
  return async (incidentId) => {
    const workflowId = workflowIdOfIncident(incidentId);
    if (workflowId === null) return null;
    let c = client;
    if (!c) {
      try {
        c = Context.current().client;
      } catch {
        return null;
      }
    }
    const temporal = c;
    try {
      const s = await temporal.withDeadline(Date.now() + HOLDER_QUERY_TIMEOUT_MS, () =>
        temporal.workflow.getHandle(workflowId).query(statusQuery),
      );
      // The same workflow id may run a later incident (the alert fired again after the first one closed).
      const same = s.incidentId === incidentId;
      return {
        incidentId,
        open: same && (s.status === 'triggered' || s.status === 'acknowledged'),
        title: same ? s.title : null,
        kind: same ? s.kind : null,
        status: same ? s.status : 'closed',
      };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return { incidentId, open: false, status: 'gone' };
      return null;
    }
  };
}

export interface GuardDeps {
  /** GET /operations/status; null when it did not answer. */
  operations(): Promise<OperationsObservation | null>;
  /** Age of the latest bar in minutes; null when unknown. */
  stalenessMinutes(): Promise<number | null>;
  lookupHolder: HolderLookup;
}

export interface GuardResult {
  verdict: GuardVerdict;
  observed: GuardObservations;
}

/** Read what `pre` needs, now, and judge it. */
export async function guardCall(
  deps: GuardDeps,
  pre: readonly Precondition[],
  incidentId: string | null,
): Promise<GuardResult> {
  const need = observationsNeeded(pre);
  const observed: GuardObservations = {};
  if (need.operations) observed.operations = await deps.operations();
  if (need.freshness) observed.stalenessMinutes = await deps.stalenessMinutes();
  const named = observed.operations?.killSwitchActive ? holderOf(observed.operations.activatedBy) : null;
  if (named !== null && named !== incidentId) observed.holder = await deps.lookupHolder(named);
  return { verdict: judgePreconditions(pre, observed), observed };
}

/** 3.1 before a resume request: is the active kill switch a safety hold of another open incident? */
export async function checkSafetyHold(
  deps: GuardDeps,
  incidentId: string,
): Promise<CheckFinding<{ holder: string | null; held: boolean | null; holderStatus: string | null }>> {
  const ops = await deps.operations();
  if (!ops || ops.killSwitchActive === null)
    return {
      check: 'safety-hold',
      outcome: 'unknown',
      text: 'could not read the kill switch state',
      data: { holder: null, held: null, holderStatus: null },
    };
  const named = ops.killSwitchActive ? holderOf(ops.activatedBy) : null;
  const holder = named !== null && named !== incidentId ? await deps.lookupHolder(named) : undefined;
  const v = judgeHold(ops, incidentId, holder);
  if (v.held === 'unknown')
    return {
      check: 'safety-hold',
      outcome: 'unknown',
      text: v.text,
      data: { holder: v.holder, held: null, holderStatus: null },
    };
  return {
    check: 'safety-hold',
    outcome: 'answered',
    text: v.held
      ? v.text
      : v.holder === null
        ? 'the kill switch is no incident’s safety hold'
        : v.holder === incidentId
          ? 'the kill switch is this incident’s own safety hold'
          : `the kill switch was set by the engine for incident ${v.holder}, which is no longer open`,
    data: { holder: v.holder, held: v.held, holderStatus: holder?.status ?? null },
  };
}
