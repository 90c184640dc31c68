// Shared plumbing of the procedure child workflows (playbook 3.1-3.4): activity proxies, the report channel
// to the parent incident (procedureEvent), the approval inbox, playbook-time sleeps and the state query.
// Pure orchestration: every side effect is an activity, every decision is in src/playbook/procedures.ts.
import * as wf from '@temporalio/workflow';
import { CHECK, REMEDIATION } from '../activity-options';
import { errorMessage } from '../util';
import type { CheckFinding, ProcedureActivities } from '../../activities/platform';
import type { Evidence, Reading } from '../../playbook/evidence';
import { judgeReading, type ReadingThresholds } from '../../playbook/readings';
import { MINUTE_MS } from '../../playbook/time';
import { approvalClosedSignal, approvalDecisionSignal, procedureEventSignal } from '../definitions';
import {
  type ApprovalDecision,
  type ApprovalRequest,
  type ProcedureEvent,
  type ProcedureInput,
  type ProcedureResult,
} from '../../playbook/contract/procedure';

export const fastChecks = wf.proxyActivities<ProcedureActivities>(CHECK);

// Each remediation runs in a non-cancellable scope: when the incident is resolved mid-call and the procedure
// is cancelled, the kill switch, resume or rollback already under way finishes and its result is in this
// workflow's history, rather than applying unseen while the workflow moves on.
export const remediations = nonCancellableCalls(wf.proxyActivities<ProcedureActivities>(REMEDIATION));

function nonCancellableCalls<T extends object>(activities: T): T {
  return new Proxy(activities, {
    get(target, name, receiver) {
      const fn: unknown = Reflect.get(target, name, receiver);
      if (typeof fn !== 'function') return fn;
      return (...args: unknown[]) =>
        wf.CancellationScope.nonCancellable(() => (fn as (...a: unknown[]) => Promise<unknown>)(...args));
    },
  });
}

// What a check's data holds when the check could not run at all (the activity failed): nothing known.
export const NO_OPERATIONS_STATUS = {
  mode: null,
  killSwitchActive: null,
  reason: null,
  activatedBy: null,
  activatedAt: null,
};
export const NO_ROUTER_STATUS = {
  enabled: null,
  ready: null,
  champion: null,
  shadow: null,
  shadowEnabled: null,
  agreementRate: null,
};

/** A check's observation with the evidence it gives: what every decision of 3.1-3.4 reads. */
export interface Judged<D> {
  check: string;
  /** How the check went: answered, unknown, unavailable. */
  outcome: CheckFinding<D>['outcome'];
  evidence: Evidence;
  text: string;
  data: D;
  reading: Reading;
}

/** The evidence of an observation: judged from what the check answered; no answer is `unknown`. */
export function evidenceOf<D>(f: CheckFinding<D>, thresholds: ReadingThresholds): Evidence {
  return f.outcome === 'answered'
    ? judgeReading(f.check, f.data as Record<string, unknown>, thresholds)
    : 'unknown';
}

export interface ProcedureEventRecord extends ProcedureEvent {
  at: string;
}

/** What the procedure knows so far: served by the `procedureState` query (tests, demo, operators). */
export interface ProcedureState {
  procedure: string;
  /** The incident (`<workflow id>@<opening time>`) and its workflow id (where this procedure reports). */
  incidentId: string;
  incidentWorkflowId: string;
  status: 'running' | ProcedureResult['outcome'];
  events: ProcedureEventRecord[];
  pendingApproval: ApprovalRequest | null;
  approvals: {
    actionId: string;
    action: string;
    outcome: 'approved' | 'rejected' | 'pre-approved' | 'needs-human' | 'unverified' | 'superseded';
    by: string | null;
    at: string;
    escalations: number;
  }[];
  result: ProcedureResult | null;
}
export const procedureStateQuery = wf.defineQuery<ProcedureState>('procedureState');

const isoNow = (): string => new Date(Date.now()).toISOString();

export interface ProcedureContext {
  readonly procedure: string;
  readonly input: ProcedureInput;
  readonly state: ProcedureState;
  /** Decisions received by actionId (set by the approvalDecision handler). */
  readonly inbox: Map<string, ApprovalDecision>;
  /** Fire a signal at the parent incident; a failure (parent gone) is logged, never thrown. */
  toParent<A extends unknown[]>(signal: wf.SignalDefinition<A>, ...args: A): void;
  report(event: Omit<ProcedureEvent, 'procedure'>): void;
  /**
   * Run a check activity, judge what it observed (src/playbook/readings.ts) and report the finding; an
   * activity failure or a check that did not answer is `unknown` (DESIGN "Evidence rule").
   */
  check<D>(step: string, run: () => Promise<CheckFinding<D>>, fallback: D): Promise<Judged<D>>;
  /** 3.4 thresholds of this deployment (platform config), used by the judges. */
  thresholds: ReadingThresholds;
  /** Sleep playbook minutes (divided by the incident's timeScale). */
  sleepMinutes(minutes: number): Promise<void>;
  playbookMs(minutes: number): number;
  nextSeq(): number;
  finish(outcome: ProcedureResult['outcome'], summary: string): Promise<ProcedureResult>;
}

/** Call first in every procedure, before any await: the signal and query handlers must exist at once. */
export function openProcedure(procedure: string, input: ProcedureInput): ProcedureContext {
  const state: ProcedureState = {
    procedure,
    incidentId: input.incidentId,
    incidentWorkflowId: input.incidentWorkflowId,
    status: 'running',
    events: [],
    pendingApproval: null,
    approvals: [],
    result: null,
  };
  const inbox = new Map<string, ApprovalDecision>();
  // Signals to the parent go one after the other: separate SignalExternal commands may arrive out of order,
  // and the incident's timeline must read in the order the procedure worked.
  let chain: Promise<void> = Promise.resolve();
  let seq = 0;
  const timeScale = input.timeScale > 0 ? input.timeScale : 1;

  const record = (event: ProcedureEvent) => {
    state.events.push({ ...event, at: isoNow() });
  };

  wf.setHandler(approvalDecisionSignal, (raw: unknown) => {
    // The decision comes from the parent (already validated there) or an operator's CLI: check its shape,
    // never throw from a handler.
    const d = raw as Partial<ApprovalDecision> | null;
    if (
      !d ||
      typeof d.actionId !== 'string' ||
      (d.decision !== 'approved' && d.decision !== 'rejected') ||
      typeof d.by !== 'string' ||
      !d.by.trim()
    ) {
      record({
        procedure,
        step: 'approval',
        type: 'info',
        text: `ignored a malformed approval decision: ${JSON.stringify(raw)?.slice(0, 300)}`,
      });
      return;
    }
    // Only the request waiting now can be decided (no approving an actionId before it is asked), and resume
    // needs CONFIRM_RESUME here too: a decision signalled to this workflow directly skips the parent's check.
    const pending = state.pendingApproval;
    const expired = state.approvals.find(
      (a) => a.actionId === d.actionId && (a.outcome === 'needs-human' || a.outcome === 'superseded'),
    );
    if ((!pending || pending.actionId !== d.actionId) && expired) {
      // The gate gave up on this request before the decision arrived: say so, never act on it.
      record({
        procedure,
        step: 'approval',
        type: 'info',
        text: `too late: ${d.actionId} expired at ${expired.at}; ${d.decision} by ${d.by} not applied`,
      });
      ctx.toParent(approvalClosedSignal, {
        actionId: d.actionId,
        outcome: 'too-late',
        by: d.by,
        expiredAt: expired.at,
        decision: d.decision,
      });
      return;
    }
    if (!pending || pending.actionId !== d.actionId) {
      record({
        procedure,
        step: 'approval',
        type: 'info',
        text: `ignored a decision for ${d.actionId}: no such request is waiting`,
      });
      return;
    }
    if (
      pending.requiresConfirmationCode &&
      d.decision === 'approved' &&
      d.confirmationCode !== 'CONFIRM_RESUME'
    ) {
      record({
        procedure,
        step: 'approval',
        type: 'info',
        text: `ignored approval of ${d.actionId} by ${d.by}: confirmationCode must be CONFIRM_RESUME`,
      });
      return;
    }
    if (!inbox.has(d.actionId))
      inbox.set(d.actionId, {
        actionId: d.actionId,
        decision: d.decision,
        by: d.by,
        ...(typeof d.reason === 'string' ? { reason: d.reason } : {}),
      });
  });
  wf.setHandler(procedureStateQuery, () => state);

  const parent = wf.getExternalWorkflowHandle(input.incidentWorkflowId);
  const ctx: ProcedureContext = {
    procedure,
    input,
    state,
    inbox,
    toParent(signal, ...args) {
      chain = chain.then(() =>
        parent.signal(signal, ...args).catch((err: unknown) => {
          wf.log.warn('signal to the parent incident failed', {
            signal: signal.name,
            incidentId: input.incidentId,
            error: String(err),
          });
        }),
      );
    },
    report(event) {
      const full: ProcedureEvent = { procedure, ...event };
      record(full);
      ctx.toParent(procedureEventSignal, full);
    },
    thresholds: {},
    async check(step, run, fallback) {
      let f: CheckFinding<typeof fallback>;
      try {
        f = await run();
      } catch (err) {
        f = {
          check: step,
          outcome: 'unknown',
          text: `${step}: check could not run: ${errorMessage(err)}`,
          data: fallback,
        };
      }
      const evidence = evidenceOf(f, ctx.thresholds);
      const at = isoNow();
      ctx.report({
        step,
        type: 'finding',
        outcome: f.outcome === 'unavailable' ? 'unavailable' : evidence,
        text: f.text,
        data: { check: f.check, evidence, ...(f.data as object) },
      });
      return { ...f, evidence, reading: { check: f.check, evidence, text: f.text, at } };
    },
    playbookMs(minutes) {
      return Math.max(1, Math.round((minutes * MINUTE_MS) / timeScale));
    },
    async sleepMinutes(minutes) {
      await wf.sleep(ctx.playbookMs(minutes));
    },
    nextSeq() {
      return ++seq;
    },
    async finish(outcome, summary) {
      const result: ProcedureResult = { procedure, outcome, summary };
      ctx.report({
        step: 'result',
        type: 'decision',
        outcome: outcome === 'completed' ? 'ok' : outcome === 'failed' ? 'failed' : 'unknown',
        text: `procedure ${outcome}: ${summary}`,
      });
      state.status = outcome;
      state.result = result;
      // Every signal to the parent is delivered (or has failed) before the child completes.
      await chain;
      return result;
    },
  };
  return ctx;
}

export { errorMessage };

/** The ApplicationFailure type of an activity failure (e.g. PlatformNotFound), if any. */
export function failureType(err: unknown): string | null {
  if (err instanceof wf.ActivityFailure && err.cause instanceof wf.ApplicationFailure)
    return err.cause.type ?? null;
  return null;
}
