// The incident lifecycle as a pure state machine (STYLE "functional core, imperative shell"):
// decide(state, input, now) -> { state, effects }. Every rule of the playbook's lifecycle (1.1 targets,
// 2.3 escalation matrix, re-paging, 4.x messages, reopen and close) is decided here, without Temporal, so it
// is tested exhaustively in milliseconds (test/playbook/lifecycle*.test.ts). incidentWorkflow only feeds
// inputs in and carries effects out. The rules sit in one module per concern: ./due (what time brings),
// ./actions (people and the ingress), ./procedure (the procedure child), ./opening, ./ledger, ./after-close.
import type { ActionName } from '../contract/incident';
import type { ProcedureResult } from '../contract/procedure';
import type { PolicyOverrides } from '../policy';
import { applyAction, checkAction, rejectionText, type Outcome } from './actions';
import { postmortemStart } from './after-close';
import { record, type Draft, type Effect } from './draft';
import { processDue } from './due';
import { ledgerFailed, ledgerFlush, ledgerWritten } from './ledger';
import { clip, LIMITS } from './limits';
import { deploymentFailed, deploymentLoaded, earlierRun, open, resume } from './opening';
import { applyProcedureMessage, type ProcedureMessageName } from './procedure';
import { patchedIn, type IncidentState } from './state';

export type { Draft, Effect, Outcome };
export { rejectionText };

/** What can happen to an incident. Times come with `now`, the workflow's deterministic clock. */
export type Input =
  /** The first workflow task of a new incident: first page, start message, procedure. */
  | { type: 'open' }
  /** The first workflow task of a run carried on by continue-as-new. */
  | { type: 'resume' }
  /** The deployment's config as asked (`deployment.load`); `start`, the start input's own policy overrides. */
  | {
      type: 'deployment.loaded';
      want: 'policy' | 'originKey';
      overrides: PolicyOverrides;
      start: PolicyOverrides;
    }
  | { type: 'deployment.failed'; want: 'policy' | 'originKey'; error: string; start: PolicyOverrides }
  /** Fire what is due at `now` (the decision clock). */
  | { type: 'tick' }
  /** The decision clock moves: a timer fired at its target, or an activity reported the worker's time. */
  | { type: 'clock'; at: number }
  /**
   * A delivery activity finished on `channel` at the worker's time `at` (the clock moves to it): `pages`, the
   * batch held a page (kind `page`), and `taken` notifications were delivered or already had been.
   */
  | { type: 'delivered'; channel: string; pages: boolean; taken: number; at: number }
  /** A human or ingress action, raw: validated here, a bad payload recorded as rejected. */
  | { type: 'action'; name: ActionName; payload: unknown; via: 'signal' | 'update'; actor?: string }
  /** A message of the procedure child (3.1-3.4), raw like any signal. */
  | { type: 'procedure'; name: ProcedureMessageName; payload: unknown }
  | { type: 'procedure.started'; workflowId: string }
  /** `workflowId`: the child that ended (a reopen starts another; an earlier run's end is only noted). */
  | { type: 'procedure.finished'; result: ProcedureResult; workflowId?: string }
  | { type: 'procedure.error'; error: string; started: boolean; workflowId?: string }
  /** A side effect gave up: recorded in the timeline (`eventType`), the incident carries on. */
  | { type: 'failed'; eventType: string; text: string }
  /** Ask for a ledger write if one is due (`force`: before continue-as-new and at close). */
  | { type: 'ledger.flush'; force: boolean }
  /** The ledger confirmed the events up to `upTo` (absolute timeline position). */
  | { type: 'ledger.written'; upTo: number }
  /**
   * A ledger activity gave up: `write` the incident's write (backed off), otherwise an approval's record.
   * `text` says what failed and why.
   */
  | { type: 'ledger.failed'; write: boolean; text: string }
  /** The incident closed: its post-mortem (6.1) is asked for. */
  | { type: 'postmortem' }
  | { type: 'postmortem.started'; workflowId: string }
  | { type: 'postmortem.failed'; error: string };

export interface Decision {
  state: IncidentState;
  effects: Effect[];
  /** Actions only: accepted (with a message) or rejected (with the reason). */
  outcome?: Outcome;
}

/** Copies what a decision may change, so the input state is never mutated (property-tested). */
function draftOf(state: IncidentState, now: number): Draft {
  return {
    now,
    effects: [],
    s: {
      ...state,
      engagements: [...state.engagements],
      breaches: [...state.breaches],
      timeline: [...state.timeline],
      findings: [...state.findings],
      safetyHolds: [...state.safetyHolds],
      pendingApprovals: [...state.pendingApprovals],
      closingApprovals: [...state.closingApprovals],
      afterClose: [...state.afterClose],
      early: [...state.early],
      rolePagedAt: { ...state.rolePagedAt },
      undelivered: [...state.undelivered],
      alerts: { ...state.alerts, active: { ...state.alerts.active } },
    },
  };
}

export function decide(state: IncidentState, input: Input, now: number): Decision {
  const d = draftOf(state, now);
  let outcome: Outcome | undefined;
  switch (input.type) {
    case 'open':
      open(d);
      break;
    case 'resume':
      resume(d);
      break;
    case 'deployment.loaded':
      deploymentLoaded(d, input.want, input.overrides, input.start);
      break;
    case 'deployment.failed':
      deploymentFailed(d, input.want, input.error, input.start);
      break;
    case 'tick':
      processDue(d);
      break;
    case 'clock':
      d.s.clock = Math.max(d.s.clock, input.at);
      break;
    case 'delivered':
      d.s.clock = Math.max(d.s.clock, input.at);
      pageDelivered(d, input.channel, input.pages && input.taken > 0, input.at);
      break;
    case 'action':
      outcome = applyAction(d, input.name, input.payload, input.via);
      break;
    case 'procedure':
      applyProcedureMessage(d, input.name, input.payload);
      break;
    case 'procedure.started':
      record(d, 'system', 'procedure.started', `Playbook procedure ${d.s.procedure?.type ?? ''} started`, {
        workflowId: input.workflowId,
      });
      break;
    case 'procedure.finished':
    case 'procedure.error':
      procedureEnded(d, input);
      break;
    case 'failed':
      record(d, 'system', input.eventType, input.text);
      break;
    case 'ledger.flush':
      ledgerFlush(d, input.force);
      break;
    case 'ledger.written':
      ledgerWritten(d, input.upTo);
      break;
    case 'ledger.failed':
      ledgerFailed(d, input.write, input.text);
      break;
    case 'postmortem':
      d.effects.push(postmortemStart(d.s));
      break;
    case 'postmortem.started':
      d.s.postmortemWorkflowId = input.workflowId;
      record(d, 'system', 'postmortem.started', `Post-mortem (6.1) tracked in ${input.workflowId}`, {
        workflowId: input.workflowId,
      });
      break;
    case 'postmortem.failed':
      record(d, 'system', 'postmortem.failed', `Post-mortem workflow could not start: ${input.error}`);
      break;
  }
  return { state: d.s, effects: d.effects, ...(outcome ? { outcome } : {}) };
}

/** Update validators: the verdict an action would get at `now`, without changing anything. */
export function validateAction(
  state: IncidentState,
  name: ActionName,
  payload: unknown,
  now: number = state.clock,
): Outcome {
  return checkAction(state, name, payload, now);
}

/**
 * A bug in the core must not wedge the incident: the input that threw is dropped and the timeline says so.
 * A ledger answer still frees the ledger for the next write.
 */
export function recover(state: IncidentState, input: Input, error: string): Decision {
  const freed =
    input.type === 'ledger.written' || (input.type === 'ledger.failed' && input.write)
      ? { ...state, ledgerBusy: false }
      : state;
  const text = `${input.type} failed: ${error}`;
  return { ...decide(freed, { type: 'failed', eventType: 'input.failed', text }, state.clock), effects: [] };
}

/**
 * 6.4 counts from the moment a human could know: the first page a channel reported delivered. The outbox (a
 * local file nobody is paged through) counts only when it is the incident's only channel.
 */
function pageDelivered(d: Draft, channel: string, page: boolean, at: number): void {
  const s = d.s;
  if (!page || !patchedIn(s, 'pagedAtDelivery') || s.firstPagedAt !== null) return;
  // (While the deployment's policy loads, it may add the channels people are paged on.)
  if (channel === 'outbox' && (s.policyPending || s.policy.channels.some((c) => c !== 'outbox'))) return;
  s.firstPagedAt = Math.max(at, s.firstPageComposedAt ?? at);
  record(d, 'system', 'paged', `First page delivered (${channel})`, { channel });
}

/** The procedure child ended (its result, or the error it ended with, or could not start with). */
function procedureEnded(
  d: Draft,
  input: Extract<Input, { type: 'procedure.finished' | 'procedure.error' }>,
): void {
  if (input.type === 'procedure.finished') {
    const r = input.result;
    if (earlierRun(d.s, input.workflowId)) {
      record(
        d,
        r.procedure,
        'procedure.info',
        `Earlier run ${input.workflowId} ended: ${r.outcome}: ${r.summary}`,
      );
      return;
    }
    if (d.s.procedure?.status === 'running')
      d.s.procedure = { ...d.s.procedure, status: r.outcome, summary: clip(r.summary, LIMITS.freeText) };
    record(d, r.procedure, 'procedure.completed', `${r.procedure} ${r.outcome}: ${r.summary}`);
    return;
  }
  if (earlierRun(d.s, input.workflowId)) {
    record(d, 'system', 'procedure.info', `Earlier run ${input.workflowId} ended: ${input.error}`);
    return;
  }
  const p = d.s.procedure;
  if (p?.status === 'running')
    d.s.procedure = { ...p, status: 'failed', summary: clip(input.error, LIMITS.freeText) };
  if (p && p.status !== 'cancelled')
    record(
      d,
      'system',
      'procedure.failed',
      input.started ? `${p.type} failed: ${input.error}` : `${p.type} could not start: ${input.error}`,
    );
}
