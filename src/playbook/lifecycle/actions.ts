// The human and ingress actions (DESIGN "Signals"): one implementation for a signal and an update of the
// same name. A payload is validated here; a bad one, or one the incident's state refuses, is recorded as
// rejected and changes nothing else (a signal handler never throws).
import {
  ACTION_SCHEMAS,
  alertsOf,
  type ActionInput,
  type ActionName,
  type ActionOrigin,
  type PendingApproval,
  type RoutedAlert,
} from '../contract/incident';
import { formatIssues, actorOf } from '../contract/payload';
import { postmortemWorkflowId } from '../contract/postmortem';
import { nextEscalation } from '../escalation';
import { approvalAuthorityFor } from '../policy';
import { postmortemDueAt, POSTMORTEM_RULES } from '../postmortem';
import { severityRank, type Severity } from '../severity';
import { renderExternalStatus, renderIncidentResolved, renderIncidentUpdate } from '../templates';
import { isoOf, MINUTE_MS } from '../time';
import { engage, escalateNext, humanSteps, notify, record, startText, type Draft } from './draft';
import { clip, clipOrNull, LIMITS } from './limits';
import { checkOriginProof } from './origin-proof';
import { rerunProcedure } from './procedure';
import { releaseSafetyHolds } from './safety-holds';
import { severityChanged } from './severity-change';
import { alertLabel, isOpen, moreSevere, patchedIn, scaled, type IncidentState } from './state';

/**
 * An action's verdict. A refusal says which kind it is: `invalid`, the payload does not parse (the caller's
 * mistake, told as the parser put it); `refused`, the incident's state does not allow it now.
 */
export type Outcome =
  { ok: true; message: string } | { ok: false; kind: 'invalid' | 'refused'; reason: string };
const refuse = (reason: string): Outcome => ({ ok: false, kind: 'refused', reason });

/**
 * What a refused action is told and the timeline says: a payload that does not parse, as its parser put it;
 * one the incident's state refuses, named with the action.
 */
export function rejectionText(name: ActionName, verdict: Extract<Outcome, { ok: false }>): string {
  return verdict.kind === 'invalid' ? verdict.reason : `${name} rejected: ${verdict.reason}`;
}

type Parsed = { ok: true; value: unknown } | { ok: false; reason: string };
function parse(name: ActionName, raw: unknown): Parsed {
  const parsed = ACTION_SCHEMAS[name].safeParse(raw);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, reason: `invalid ${name} payload: ${formatIssues(parsed.error.issues)}` };
}

/**
 * How the record names who acted: `null` for a verified origin (its own text says where), otherwise why it
 * is unverified (typed; or an origin that was ignored, and why). Always null before the patch.
 */
type Provenance = { value: unknown; unverified: string | null; proof: string | null };

const ORIGIN_PROOFS_KEPT = 50;
const TYPED = 'typed, unverified';
const proofHead = (proof: string) => proof.slice(0, 32);

/**
 * The payload as the record may take it: its `origin` kept only when the ingress signed it for this incident,
 * this action and these fields, lately, and not already used; otherwise dropped, and the action is recorded as
 * typed (unverified), with what was ignored and why. Before the patch, the origin is taken as given.
 */
function provenance(s: IncidentState, name: ActionName, value: unknown, now: number): Provenance {
  if (!patchedIn(s, 'verifiedOrigin')) return { value, unverified: null, proof: null };
  const v = value as { origin?: ActionOrigin } & Record<string, unknown>;
  if (!v.origin) return { value, unverified: TYPED, proof: null };
  const { origin, ...rest } = v;
  let check = checkOriginProof(s.originKey, s.incidentId, name, v, now);
  if (check.ok && origin.proof && s.originProofs.includes(proofHead(origin.proof)))
    check = { ok: false, reason: 'its signature was already used' };
  if (check.ok) {
    // What the record keeps of a verified origin: who and where, not the signature.
    const { proof: _p, signedAt: _at, ...kept } = origin;
    return { value: { ...rest, origin: kept }, unverified: null, proof: origin.proof ?? null };
  }
  return {
    value: rest,
    unverified: `typed, unverified: origin ${origin.channel}:${origin.userId} ignored, ${check.reason}`,
    proof: null,
  };
}

/** Validation and state checks only, no change: update validators and the first half of applying. */
export function checkAction(
  s: IncidentState,
  name: ActionName,
  raw: unknown,
  now: number = s.clock,
): Outcome {
  const p = parse(name, raw);
  if (!p.ok) return { ok: false, kind: 'invalid', reason: p.reason };
  return checkParsed(s, name, provenance(s, name, p.value, now).value);
}

function checkParsed(s: IncidentState, name: ActionName, value: unknown): Outcome {
  // After close, a firing alert opens a new incident (DESIGN: "the same key opens a new one").
  if (s.status === 'closed' && name !== 'alertFired') return refuse('incident is closed');
  switch (name) {
    case 'acknowledge':
      if (s.status === 'acknowledged') return refuse(`already acknowledged by ${s.acknowledgedBy}`);
      if (s.status === 'resolved') return refuse('incident is resolved');
      return { ok: true, message: 'acknowledged' };
    case 'resolve':
      if (s.status === 'resolved') return refuse(`already resolved by ${s.resolvedBy}`);
      return { ok: true, message: 'resolved' };
    case 'escalate': {
      if (!isOpen(s)) return refuse('incident is resolved');
      const t = nextEscalation(
        s.policy.escalationMatrix,
        s.severity,
        s.engagements.map((e) => e.role),
        s.policy.escalationBeyondMatrix[s.severity],
      );
      if (t.kind === 'step') return { ok: true, message: 'escalated' };
      return {
        ok: true,
        message: `every role of the ${s.severity} matrix is engaged: they are told nobody is left; raise the severity to go further`,
      };
    }
    case 'setSeverity': {
      const sev = (value as ActionInput<'setSeverity'>).severity;
      if (sev === s.severity) return refuse(`severity is already ${sev}`);
      return { ok: true, message: `severity set to ${sev}` };
    }
    case 'approve':
    case 'reject': {
      const a = value as ActionInput<'approve'>;
      const pending = s.pendingApprovals.find((p) => p.actionId === a.actionId);
      if (!pending) return refuse(`no pending approval with actionId "${a.actionId}"`);
      if (pending.decisionInFlight)
        return refuse(
          `${a.actionId} already has a decision on its way to the procedure (${pending.decisionInFlight.decision} by ${pending.decisionInFlight.by})`,
        );
      const authority = authorityProblem(s, name, pending, a.by, a.origin);
      if (authority) return refuse(authority);
      if (name === 'approve' && pending.requiresConfirmationCode && a.confirmationCode !== 'CONFIRM_RESUME')
        return refuse("resume needs confirmationCode 'CONFIRM_RESUME'");
      return { ok: true, message: name === 'approve' ? 'approved' : 'rejected' };
    }
    default:
      return { ok: true, message: 'recorded' };
  }
}

/**
 * Why a verified person may not decide this approval, or null. Only a verified origin has a role to check: a
 * typed decision is taken as before (and recorded as typed, unverified).
 */
function authorityProblem(
  s: IncidentState,
  name: 'approve' | 'reject',
  pending: PendingApproval,
  by: string,
  origin: ActionOrigin | undefined,
): string | null {
  if (!origin || !patchedIn(s, 'approvalAuthority')) return null;
  const allowed = approvalAuthorityFor(s.policy, pending.action);
  if (allowed === null) return null;
  if (origin.known && origin.role && allowed.includes(origin.role)) return null;
  const who = origin.known && origin.role ? `${by} (${origin.role})` : `${by} (not in contacts)`;
  return `${who} may not ${name} ${pending.actionId}: a ${pending.action} is decided by ${allowed.join(', ')} (policy.approvalAuthority)`;
}

/** Validates, checks and applies one action; a refusal is recorded as `signal.rejected`. */
export function applyAction(d: Draft, name: ActionName, raw: unknown, via: 'signal' | 'update'): Outcome {
  const p = parse(name, raw);
  if (!p.ok) return rejected(d, name, raw, via, { ok: false, kind: 'invalid', reason: p.reason });
  const trusted = provenance(d.s, name, p.value, d.now);
  const verdict = checkParsed(d.s, name, trusted.value);
  if (!verdict.ok) return rejected(d, name, raw, via, verdict);
  if (trusted.proof !== null)
    d.s.originProofs = [...d.s.originProofs, proofHead(trusted.proof)].slice(-ORIGIN_PROOFS_KEPT);
  APPLY[name](d, trusted.value as never, trusted.unverified);
  return verdict;
}

/** A refused action changes nothing but the record: `signal.rejected`, with who sent it as far as it says. */
function rejected(
  d: Draft,
  name: ActionName,
  raw: unknown,
  via: 'signal' | 'update',
  verdict: Extract<Outcome, { ok: false }>,
): Outcome {
  record(d, actorOf(raw), 'signal.rejected', rejectionText(name, verdict), { action: name, via });
  return verdict;
}

/**
 * " in PagerDuty (verified, cto)": where a verified route's action came from, for the timeline; or why the
 * actor is unverified (" (typed, unverified)").
 */
function originText(origin: ActionOrigin | undefined, unverified: string | null = null): string {
  if (!origin) return unverified ? ` (${unverified})` : '';
  const where = origin.channel === 'pagerduty' ? 'PagerDuty' : 'Slack';
  return origin.known
    ? ` in ${where} (verified${origin.role ? `, ${origin.role}` : ''})`
    : ` in ${where} (user ${origin.userId}, not in contacts)`;
}

/** PagerDuty learns of its own acknowledgement and resolution: not sent back to it. */
function echoless(origin: ActionOrigin | undefined): string | undefined {
  return origin?.channel === 'pagerduty' ? 'pagerduty' : undefined;
}

/** `unverified`: why the actor is not verified (Provenance), null for a verified origin or before the patch. */
type Appliers = { [N in ActionName]: (d: Draft, a: ActionInput<N>, unverified: string | null) => void };

const APPLY: Appliers = {
  acknowledge(d, { by, note, origin }, unverified) {
    const s = d.s;
    s.status = 'acknowledged';
    s.acknowledgedBy = by;
    s.acknowledgedAt = d.now;
    s.firstAcknowledgedAt ??= d.now;
    record(
      d,
      by,
      'acknowledged',
      `Acknowledged by ${by}${originText(origin, unverified)}${note ? `: ${note}` : ''}`,
      origin ? { origin } : undefined,
    );
    // 3.1 step 1 in the channel; never echoed to the platform it came from.
    notify(
      d,
      'acknowledged',
      `ack-${s.reopenCount}`,
      'channel',
      `ACK: ${by} is investigating "${s.title}"`,
      undefined,
      undefined,
      echoless(origin),
    );
  },

  resolve(d, r, unverified) {
    const s = d.s;
    const now = d.now;
    if (s.acknowledgedAt === null) {
      // Resolving implies acknowledging: the resolver was on it.
      s.acknowledgedBy = r.by;
      s.acknowledgedAt = now;
      s.firstAcknowledgedAt ??= now;
    }
    if ((r.financialImpactUsd ?? 0) > s.policy.ctoLossThresholdUsd) {
      // 3.1 "Financial losses >$1000: Immediate CTO notification", whether reported during or at the end;
      // paged before the status turns resolved, so channels that mirror it (PagerDuty) still page.
      s.lossUsd = Math.max(s.lossUsd, r.financialImpactUsd ?? 0);
      engage(
        d,
        ['cto'],
        'loss-cto',
        `financial impact $${r.financialImpactUsd} over $${s.policy.ctoLossThresholdUsd} reported at resolution`,
      );
    }
    s.status = 'resolved';
    s.resolvedBy = r.by;
    s.resolvedAt = now;
    s.reopenUntil = now + scaled(s, s.policy.reopenWindowMinutes * MINUTE_MS);
    s.resolution = {
      rootCause: clipOrNull(r.rootCause, LIMITS.freeText),
      resolution: clipOrNull(r.resolution, LIMITS.freeText),
      financialImpactUsd: r.financialImpactUsd ?? (s.lossUsd > 0 ? s.lossUsd : null),
      missedTrades: r.missedTrades ?? null,
      tradingDowntimeMinutes: r.tradingDowntimeMinutes ?? null,
    };
    record(
      d,
      r.by,
      'resolved',
      `Resolved by ${r.by}${originText(r.origin, unverified)}${r.resolution ? `: ${r.resolution}` : ''}`,
      r.origin ? { origin: r.origin } : undefined,
    );
    // 4.3 "Follow-up Actions": what the procedure left to people, and approvals still open (read before
    // the procedure's open approvals are dropped).
    const followUps = [
      ...new Set([
        ...humanSteps(s),
        ...s.pendingApprovals.map((p) => `decide or redo ${p.action} (${p.actionId}): ${p.description}`),
      ]),
    ].slice(0, 15);
    cancelProcedure(d, 'incident resolved');
    if (patchedIn(s, 'reopenRerunsProcedure')) withdrawApprovals(d, 'incident resolved');
    releaseSafetyHolds(d, 'incident resolved');
    const rule = POSTMORTEM_RULES[s.highestSeverity];
    notify(
      d,
      'resolved',
      `resolved-${s.reopenCount}`,
      'channel',
      renderIncidentResolved({
        title: s.title,
        durationMs: (now - s.openedAt) * s.timeScale,
        tradingDowntimeMinutes: s.resolution.tradingDowntimeMinutes,
        missedTrades: s.resolution.missedTrades,
        financialImpactUsd: s.resolution.financialImpactUsd,
        rootCause: s.resolution.rootCause,
        resolution: s.resolution.resolution,
        postmortemDueAt: postmortemDueAt(s.highestSeverity, now, s.timeScale),
        postmortemRequirement: rule.requirement,
        followUps,
        postmortemLink: `workflow ${postmortemWorkflowId(s.incidentId)} (opens when the reopen window closes)`,
      }),
      '4.3',
      undefined,
      echoless(r.origin),
    );
  },

  postUpdate(d, u) {
    const s = d.s;
    s.seq += 1;
    s.lastUpdate = { at: d.now, by: u.by, status: u.status };
    record(d, u.by, 'update', `Update (${u.status}) by ${u.by}${u.theory ? `: theory ${u.theory}` : ''}`, {
      ...u,
    });
    notify(d, 'update', `update-${s.seq}`, 'channel', renderIncidentUpdate({ title: s.title, ...u }), '4.2');
  },

  escalate(d, { by, reason, origin }, unverified) {
    escalateNext(d, '', `escalated by ${by}${originText(origin, unverified)}: ${reason}`);
  },

  setSeverity(d, { by, severity, reason }) {
    const s = d.s;
    const from = s.severity;
    s.severity = severity;
    s.highestSeverity = moreSevere(s.highestSeverity, severity);
    // Re-planned from the opening time: steps already due fire now (or, before the patch, at the tick that
    // follows every input).
    record(d, by, 'severity', `Severity ${from} -> ${severity} by ${by}: ${reason}`, { from, to: severity });
    severityChanged(d, from, by, reason);
  },

  addNote(d, { by, text, origin }, unverified) {
    // A typed note stays as written (its actor says who); an origin it claimed and lost is said.
    const claimed = unverified !== null && unverified !== TYPED;
    record(
      d,
      by,
      'note',
      origin || claimed ? `${text}${originText(origin, unverified)}` : text,
      origin ? { origin } : undefined,
    );
  },

  approve(d, a, unverified) {
    decideApproval(d, 'approved', a, unverified);
  },
  reject(d, a, unverified) {
    decideApproval(d, 'rejected', a, unverified);
  },

  reportLoss(d, { by, amountUsd }) {
    const s = d.s;
    // Each report is the running loss figure; the incident keeps the largest reported.
    s.lossUsd = Math.max(s.lossUsd, amountUsd);
    record(d, by, 'loss', `Financial loss reported by ${by}: $${amountUsd}`, { amountUsd });
    // 3.1 "Financial losses >$1000: Immediate CTO notification": also once resolved, in the reopen window (a
    // loss is often counted after the fix). A page like any, PagerDuty included: its incident, resolved, is
    // triggered again, because a loss that large is not a closed matter.
    const reachable = isOpen(s) || (s.status === 'resolved' && patchedIn(s, 'lossPagesAfterResolve'));
    if (s.lossUsd > s.policy.ctoLossThresholdUsd && reachable)
      engage(d, ['cto'], 'loss-cto', `financial loss $${s.lossUsd} over $${s.policy.ctoLossThresholdUsd}`);
  },

  alertFired(d, e) {
    for (const a of alertsOf(e)) {
      if ((a.alert.status ?? 'firing') === 'resolved') alertCleared(d, a);
      else alertFiring(d, a);
    }
  },

  alertResolved(d, e) {
    for (const a of alertsOf(e)) alertCleared(d, a);
  },

  postExternalStatus(d, x) {
    const s = d.s;
    s.seq += 1;
    record(d, x.by, 'external', `External status (4.4) posted by ${x.by}: ${x.currentStatus}`);
    notify(
      d,
      'info',
      `external-${s.seq}`,
      'channel',
      renderExternalStatus({
        currentStatus: x.currentStatus,
        lastUpdated: d.now,
        summary: x.summary,
        impact: x.impact,
        resolutionEta: x.resolutionEta ?? null,
        nextUpdate: x.nextUpdate ?? 'when status changes',
      }),
      '4.4',
    );
  },
};

function decideApproval(
  d: Draft,
  decision: 'approved' | 'rejected',
  a: ActionInput<'approve'> & { reason?: string },
  unverified: string | null,
): void {
  const s = d.s;
  // Recorded as decided only when the gate takes it (approvalClosed): the gate may have just expired.
  s.pendingApprovals = s.pendingApprovals.map((p) =>
    p.actionId === a.actionId
      ? {
          ...p,
          decisionInFlight: {
            decision,
            by: a.by,
            at: isoOf(d.now),
            ...(a.reason ? { reason: a.reason } : {}),
          },
        }
      : p,
  );
  if (s.procedure)
    // The gate waits in the procedure child; the decision was validated here (CONFIRM_RESUME included).
    d.effects.push({
      type: 'procedure.decision',
      workflowId: s.procedure.workflowId,
      decision: {
        actionId: a.actionId,
        decision,
        by: a.by,
        ...(a.reason ? { reason: a.reason } : {}),
        ...(a.confirmationCode ? { confirmationCode: a.confirmationCode } : {}),
        decidedAt: isoOf(d.now),
      },
    });
  record(
    d,
    a.by,
    'approval.forwarded',
    `${a.actionId}: ${decision === 'approved' ? 'approval' : 'rejection'} by ${a.by}${originText(a.origin, unverified)} handed to the procedure's gate${a.reason ? ` (${a.reason})` : ''}`,
    { actionId: a.actionId, decision, ...(a.origin ? { origin: a.origin } : {}) },
  );
}

/** Resolution cancels the procedure child; its open approvals go with it (withdrawApprovals). */
export function cancelProcedure(d: Draft, why: string): void {
  const s = d.s;
  if (s.procedure?.status !== 'running') return;
  d.effects.push({ type: 'procedure.cancel', workflowId: s.procedure.workflowId });
  s.procedure = { ...s.procedure, status: 'cancelled', summary: why };
  if (!patchedIn(s, 'reopenRerunsProcedure')) s.pendingApprovals = [];
}

/**
 * Every approval still open is closed on the record (timeline and ledger: outcome `withdrawn`, decided by
 * `system`), so no ledger row keeps a NULL outcome for good. One whose decision is already on its way to
 * the gate waits for the gate's answer instead (closingApprovals): the gate may have acted on it.
 */
export function withdrawApprovals(d: Draft, why: string): void {
  const s = d.s;
  for (const p of s.pendingApprovals) {
    const inFlight = p.decisionInFlight;
    if (inFlight) {
      s.closingApprovals = [...s.closingApprovals, p].slice(-LIMITS.pendingApprovals);
      record(
        d,
        'system',
        'approval.closing',
        `${p.actionId} (${p.action}): ${why} while the ${inFlight.decision === 'approved' ? 'approval' : 'rejection'} by ${inFlight.by} was on its way to the procedure; its gate's answer is recorded when it comes`,
        { actionId: p.actionId },
      );
      continue;
    }
    closeWithdrawn(d, p, why);
  }
  s.pendingApprovals = [];
}

/** One approval closed undecided, on the record. */
export function closeWithdrawn(d: Draft, p: PendingApproval, why: string): void {
  record(d, 'system', 'approval.withdrawn', `${p.actionId} (${p.action}) withdrawn: ${why}`, {
    actionId: p.actionId,
  });
  d.effects.push({
    type: 'ledger.approval',
    approval: {
      actionId: p.actionId,
      outcome: 'withdrawn',
      decidedBy: 'system',
      decidedAt: isoOf(d.now),
      reason: why,
    },
  });
}

function alertFiring(d: Draft, { alert, severity: routed, title }: RoutedAlert): void {
  const s = d.s;
  if (s.status === 'closed') {
    if (s.afterClose.length < LIMITS.afterClose)
      s.afterClose.push({
        ...alert,
        ...(routed ? { routedSeverity: routed } : {}),
        ...(title ? { routedTitle: title } : {}),
      });
    record(
      d,
      'ingress',
      'alert.after-close',
      `Alert firing after close: ${alertLabel(alert)}; it opens a new incident`,
    );
    return;
  }
  s.alerts.received += 1;
  s.alerts.lastSeenAt = d.now;
  // Alertmanager re-sends a still-firing alert with its group: counted, not a re-firing, not in the timeline.
  const alreadyFiring = alert.fingerprint in s.alerts.active;
  if (alreadyFiring) {
    s.alerts.repeats += 1;
    return;
  }
  s.alerts.active[alert.fingerprint] = alertLabel(alert);
  // Bounded: a storm of distinct alerts keeps the newest LIMITS.activeAlerts (counts stay exact).
  const fingerprints = Object.keys(s.alerts.active);
  for (const old of fingerprints.slice(0, Math.max(0, fingerprints.length - LIMITS.activeAlerts)))
    delete s.alerts.active[old];
  let raisedFrom: Severity | null = null;
  if (routed && severityRank(routed) < severityRank(s.severity)) {
    // A more severe alert joined (e.g. MarketDataStale P2, then MarketDataVeryStaleCritical P1): raise and
    // re-plan, as setSeverity would. Alerts never lower a severity; a human does.
    record(
      d,
      'ingress',
      'severity',
      `Severity ${s.severity} -> ${routed}: ${alertLabel(alert)} is ${routed}`,
      {
        from: s.severity,
        to: routed,
      },
    );
    raisedFrom = s.severity;
    s.severity = routed;
    s.highestSeverity = moreSevere(s.highestSeverity, routed);
  }
  // Told once the incident has its new name, and (a reopen) its new status.
  const raised = () => {
    if (raisedFrom) severityChanged(d, raisedFrom, 'ingress', `${alertLabel(alert)} is ${routed}`);
  };
  if (title && routed && (s.titleSeverity === null || severityRank(routed) < severityRank(s.titleSeverity))) {
    // The incident is named after its most severe alert.
    const from = s.title;
    s.title = clip(title, LIMITS.title);
    s.titleSeverity = routed;
    if (from !== s.title) record(d, 'ingress', 'title', `Title: "${s.title}" (was "${from}")`);
  }
  if (s.status === 'resolved') {
    // Inside the reopen window a re-firing alert reopens instead of opening a new incident.
    s.reopenCount += 1;
    s.status = 'triggered';
    s.resolvedAt = null;
    s.resolvedBy = null;
    s.reopenUntil = null;
    s.acknowledgedBy = null;
    s.acknowledgedAt = null;
    // Re-paging resumes a full cadence after the reopen.
    s.lastPagedAt = d.now;
    record(d, 'ingress', 'reopened', `Reopened: ${alertLabel(alert)} fired again`, {
      fingerprint: alert.fingerprint,
    });
    const roles = s.engagements.map((e) => e.role);
    const text = startText(s, `REOPENED: ${alertLabel(alert)} fired again`, roles);
    for (const role of roles) {
      s.rolePagedAt[role] = d.now;
      notify(d, 'reopened', `reopen-${s.reopenCount}`, role, text, '4.1', roles);
    }
    raised();
    if (patchedIn(s, 'reopenRerunsProcedure')) rerunProcedure(d);
    return;
  }
  record(d, 'ingress', 'alert.fired', `Alert firing: ${alertLabel(alert)}`, {
    fingerprint: alert.fingerprint,
  });
  raised();
}

function alertCleared(d: Draft, { alert }: RoutedAlert): void {
  const s = d.s;
  if (s.status === 'closed') return;
  s.alerts.resolved += 1;
  const wasActive = alert.fingerprint in s.alerts.active;
  delete s.alerts.active[alert.fingerprint];
  record(d, 'ingress', 'alert.resolved', `Alert resolved: ${alertLabel(alert)}`, {
    fingerprint: alert.fingerprint,
  });
  // Alerts clearing never resolves the incident: a human does (playbook); it is noted for them.
  if (wasActive && Object.keys(s.alerts.active).length === 0 && isOpen(s)) {
    record(
      d,
      'system',
      'alerts.cleared',
      'All alerts of this incident have cleared; resolve it when verified',
    );
    if (patchedIn(s, 'alertsClearedNotice'))
      notify(
        d,
        'info',
        `alerts-cleared-${s.alerts.resolved}`,
        'channel',
        `All alerts of "${s.title}" have cleared (last: ${alertLabel(alert)}). The incident stays ${s.status} until someone resolves it once verified.`,
      );
  }
}
