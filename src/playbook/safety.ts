// Remediation safety, written once (docs/procedures.md "The guard rule" and "Safety holds"):
//
// - The guard rule. A mutating call names the state the approver saw (the kill-switch activation it lifts,
//   the data freshness it rests on) and is refused at the moment of the call when that state is gone or
//   replaced. The activity reads the platform again right before acting and asks `judgePreconditions`; a
//   precondition it could not read is a refusal (DESIGN "Evidence rule"), never a reason to act.
// - Safety holds. A kill switch the engine applied for an incident still open is that incident's safety
//   hold: the activation carries the incident's id in `activated_by` (the platform keeps and reports it),
//   so any worker reading /operations/status knows who holds it, and asks that incident whether it is still
//   open. No other incident requests to undo it.
//
// Pure: no I/O, no clock. Tested exhaustively in test/playbook/safety.test.ts.
import { parseIncidentId } from './contract/incident-id';

/** One kill-switch activation as the platform reports it (GET /operations/status). */
export interface KillSwitchActivation {
  activatedAt: string | null;
  activatedBy: string | null;
  reason: string | null;
}

/** What GET /operations/status answered. */
export interface OperationsObservation extends KillSwitchActivation {
  mode: string | null;
  killSwitchActive: boolean | null;
}

/** The incident named in an active kill switch's `activated_by`, as that incident answers about itself. */
export interface HolderObservation {
  incidentId: string;
  /** Open (triggered or acknowledged) right now; false: resolved, closed, or that workflow runs another incident. */
  open: boolean;
  title?: string | null;
  kind?: string | null;
  status?: string | null;
}

/** What must still hold at the moment of a mutating call. */
export type Precondition =
  /** Resume: the active kill switch is the very activation the approver was shown. */
  | { kind: 'kill-switch-is'; activation: KillSwitchActivation }
  /** The active kill switch is not another open incident's safety hold. */
  | { kind: 'no-foreign-hold'; incidentId: string }
  /** 3.3 recovery: the latest bar is at most this old. */
  | { kind: 'data-fresh'; maxMinutes: number }
  /** 3.3 mitigation: the latest bar is at least this old (the outage row still applies). */
  | { kind: 'data-stale'; minMinutes: number };

/**
 * Observations read right before the call. `undefined`: not read (no precondition needs it); `null`: read
 * and not answered (unknown).
 */
export interface GuardObservations {
  operations?: OperationsObservation | null;
  stalenessMinutes?: number | null;
  /** The holder the active kill switch names, when it names an incident other than the caller's. */
  holder?: HolderObservation | null;
}

export type GuardVerdict = { ok: true } | { ok: false; reasons: string[] };

const ENGINE = 'incident-response';
const HOLDER_PATTERN = / for incident (\S+)$/;

/**
 * `activated_by` of a kill switch (or `paused_by`, `resumed_by`) the engine sends: who decided, through the
 * engine, for which incident. The trailing "for incident <id>" is what makes the activation a safety hold.
 */
export function engineActor(by: string | null, incidentId: string): string {
  const who = by === null || by === 'policy' ? `${ENGINE} (pre-approved)` : `${by} via ${ENGINE}`;
  return `${who} for incident ${incidentId}`;
}

/** The incident an activation was made for by the engine, or null (a person, the risk monitor, an old engine). */
export function holderOf(activatedBy: string | null | undefined): string | null {
  return (activatedBy ?? '').match(HOLDER_PATTERN)?.[1] ?? null;
}

/** The workflow id of an incident id (`<workflow id>@<opening time>`); null for anything else. */
export function workflowIdOfIncident(incidentId: string): string | null {
  return parseIncidentId(incidentId)?.workflowId ?? null;
}

/** "risk_monitor at 2026-12-07T12:00:00Z: Daily loss limit breached". */
export function describeActivation(a: KillSwitchActivation): string {
  return `${a.activatedBy ?? 'unknown'} at ${a.activatedAt ?? 'unknown time'}: ${a.reason ?? 'no reason given'}`;
}

/** Same activation: same time (compared as instants, any ISO spelling), same author, same reason. */
export function sameActivation(a: KillSwitchActivation, b: KillSwitchActivation): boolean {
  const t = (x: string | null) => (x === null ? null : Number.isNaN(Date.parse(x)) ? x : Date.parse(x));
  return t(a.activatedAt) === t(b.activatedAt) && a.activatedBy === b.activatedBy && a.reason === b.reason;
}

/** An active kill switch that is another open incident's safety hold (or may be: its holder did not answer). */
export type HoldVerdict =
  | { held: false; holder: string | null }
  | { held: true; holder: string; text: string }
  | { held: 'unknown'; holder: string; text: string };

/** Is the active kill switch held by an incident other than `incidentId`? `holder` as looked up (null: no answer). */
export function judgeHold(
  ops: OperationsObservation,
  incidentId: string,
  holder: HolderObservation | null | undefined,
): HoldVerdict {
  const named = ops.killSwitchActive ? holderOf(ops.activatedBy) : null;
  if (named === null || named === incidentId) return { held: false, holder: named };
  if (!holder)
    return {
      held: 'unknown',
      holder: named,
      text: `the kill switch was set by the engine for incident ${named}, which did not answer whether it is still open`,
    };
  if (holder.incidentId !== named || !holder.open) return { held: false, holder: named };
  const what = [holder.kind, holder.title].filter(Boolean).join(': ');
  return {
    held: true,
    holder: named,
    text: `the kill switch is a safety hold of incident ${named}${what ? ` (${what})` : ''}, still ${holder.status ?? 'open'}: set on purpose by the engine (${describeActivation(ops)})`,
  };
}

/**
 * The guard rule: every precondition must be shown to hold by what was read right before the call. Anything
 * unread or unanswered is a refusal, with the reason in plain words.
 */
export function judgePreconditions(pre: readonly Precondition[], obs: GuardObservations): GuardVerdict {
  const reasons: string[] = [];
  for (const p of pre) {
    switch (p.kind) {
      case 'kill-switch-is': {
        const ops = obs.operations;
        if (!ops || ops.killSwitchActive === null) reasons.push('could not read the kill switch state');
        else if (!ops.killSwitchActive)
          reasons.push(`the kill switch it names (${describeActivation(p.activation)}) is no longer active`);
        else if (!sameActivation(ops, p.activation))
          reasons.push(
            `the kill switch it names (${describeActivation(p.activation)}) was replaced by another (${describeActivation(ops)})`,
          );
        break;
      }
      case 'no-foreign-hold': {
        const ops = obs.operations;
        if (!ops || ops.killSwitchActive === null) {
          reasons.push('could not read the kill switch state');
          break;
        }
        const hold = judgeHold(ops, p.incidentId, obs.holder);
        if (hold.held !== false) reasons.push(hold.text);
        break;
      }
      case 'data-fresh':
      case 'data-stale': {
        const m = obs.stalenessMinutes;
        if (m === null || m === undefined) reasons.push('could not read the data freshness');
        else if (p.kind === 'data-fresh' && m > p.maxMinutes)
          reasons.push(`the data is stale again: latest bar ${m.toFixed(1)} minutes old (> ${p.maxMinutes})`);
        else if (p.kind === 'data-stale' && m < p.minMinutes)
          reasons.push(
            `the data is no longer that stale: latest bar ${m.toFixed(1)} minutes old (< ${p.minMinutes})`,
          );
        break;
      }
    }
  }
  return reasons.length === 0 ? { ok: true } : { ok: false, reasons };
}

/** Which observations the preconditions need read before the call. */
export function observationsNeeded(pre: readonly Precondition[]): {
  operations: boolean;
  freshness: boolean;
} {
  return {
    operations: pre.some((p) => p.kind === 'kill-switch-is' || p.kind === 'no-foreign-hold'),
    freshness: pre.some((p) => p.kind === 'data-fresh' || p.kind === 'data-stale'),
  };
}
