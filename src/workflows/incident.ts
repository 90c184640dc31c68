// incidentWorkflow: one incident, from the first alert to close (DESIGN "Lifecycle rules"). A thin
// interpreter of the pure lifecycle core (src/playbook/lifecycle): every handler and timer feeds one input to
// decide(state, input, now), and the effects it returns run here as activities, child workflows and signals.
// Time without a clock activity: decisions are taken against the decision clock in the state, which moves
// to a timer's target when it fires and to the worker time that deliveries report (both in history), so a
// late timer catches up in one step. Date.now() (the workflow task's time) only stamps what people do.
// Why not Date.now() for decisions: the first workflow task a new worker runs after the previous worker was
// SIGKILLed and its task timed out reads the time of the task before on the live run, but the right time on
// replay (test/incident/worker-kill.test.ts recorded it: a re-page decided on it did not replay).
import { WorkflowExecutionAlreadyStartedError, type UpdateDefinition } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import type { IncidentActivities } from '../activities';
import type { Notification } from '../playbook/contract/notification';
import { packBatch } from '../playbook/lifecycle/batch';
import {
  continueAsNewDue,
  currentDetails,
  decide,
  nextWakeup,
  searchAttributes,
  validateAction,
  type Effect,
  type Input,
} from '../playbook/lifecycle/decide';
import {
  carriedState,
  openState,
  PATCHES,
  patchedIn,
  snapshot,
  type PatchKey,
  stripContinued,
  type IncidentState,
  type IncidentWorkflowInput,
} from '../playbook/lifecycle/state';
import { severityRank, type Severity } from '../playbook/severity';
import { formatUtcAndCot, isoOf } from '../playbook/time';
import { DELIVERY, LEDGER, SETUP } from './activity-options';
import * as defs from './definitions';
import { IncidentKindKey, IncidentSeverityKey, IncidentStatusKey } from './definitions';
import {
  incidentInputSchema,
  type ActionName,
  type ActionResult,
  type IncidentInput,
  type IncidentStatus,
} from '../playbook/contract/incident';
import type { ProcedureResult } from '../playbook/contract/procedure';
import {
  POSTMORTEM_WORKFLOW_TYPE,
  postmortemWorkflowId,
  type PostmortemInput,
} from '../playbook/contract/postmortem';
import { errorMessage } from './util';
import { formatIssues } from '../playbook/contract/payload';

const paging = wf.proxyActivities<IncidentActivities>(DELIVERY);
// 1.1 (CHANGELOG): a new incident's opening time from its start event.
const PATCH_OPENED_AT = 'opened-at-start-event-v1';
/**
 * 1.2: an acknowledgement or resolution that came from PagerDuty is not sent back to it. Asked where such a
 * notification is delivered, so a history in which an older worker did send it still replays.
 */
const PATCH_NO_ECHO = 'no-echo-to-origin-v1';
const ledger = wf.proxyActivities<IncidentActivities>(LEDGER);
const setup = wf.proxyActivities<IncidentActivities>(SETUP);

const SIGNALS: Record<ActionName, wf.SignalDefinition<[unknown]>> = {
  acknowledge: defs.acknowledgeSignal,
  resolve: defs.resolveSignal,
  postUpdate: defs.postUpdateSignal,
  escalate: defs.escalateSignal,
  setSeverity: defs.setSeveritySignal,
  addNote: defs.addNoteSignal,
  approve: defs.approveSignal,
  reject: defs.rejectSignal,
  reportLoss: defs.reportLossSignal,
  alertFired: defs.alertFiredSignal,
  alertResolved: defs.alertResolvedSignal,
  postExternalStatus: defs.postExternalStatusSignal,
};
const UPDATES = {
  acknowledge: defs.acknowledgeUpdate,
  resolve: defs.resolveUpdate,
  postUpdate: defs.postUpdateUpdate,
  escalate: defs.escalateUpdate,
  setSeverity: defs.setSeverityUpdate,
  addNote: defs.addNoteUpdate,
  approve: defs.approveUpdate,
  reject: defs.rejectUpdate,
  reportLoss: defs.reportLossUpdate,
  postExternalStatus: defs.postExternalStatusUpdate,
} as const;
const PROCEDURE_SIGNALS = {
  procedureEvent: defs.procedureEventSignal,
  approvalRequested: defs.approvalRequestedSignal,
  approvalExpired: defs.approvalExpiredSignal,
  approvalClosed: defs.approvalClosedSignal,
} as const;

/** What each operator action does, for the Web UI's signal and update pickers. */
const ACTION_DESCRIPTIONS: Record<ActionName, string> = {
  acknowledge: 'Acknowledge the incident ({"by": "<you>"}): stops the re-paging (playbook 3.x step 1).',
  resolve:
    'Resolve it ({"by", "resolution", "rootCause"?, "missedTrades"?, "financialImpactUsd"?}): 4.3 message, post-mortem clock.',
  postUpdate:
    'Post a 4.2 status update ({"by", "status": "Investigating|Mitigating|Monitoring|Resolved", ...}).',
  escalate: 'Engage the next role of the 2.3 matrix now ({"by", "reason"}).',
  setSeverity: 'Change the severity ({"by", "severity": "P0..P3", "reason"}); the matrix is re-planned.',
  addNote: 'Add a note to the timeline ({"by", "text"}).',
  approve:
    'Approve a pending remediation ({"by", "actionId", "confirmationCode"?: "CONFIRM_RESUME" for resume}).',
  reject: 'Reject a pending remediation ({"by", "actionId", "reason"?}).',
  reportLoss: 'Report a financial loss so far ({"by", "amountUsd"}); over $1000 pages the CTO.',
  postExternalStatus: 'Send the 4.4 external status ({"by", "currentStatus", "summary", "impact", ...}).',
  alertFired: 'From the alert ingress: alerts firing for this incident.',
  alertResolved: 'From the alert ingress: alerts resolved.',
};

/** Said beside every action in the Web UI: an origin typed there does not make anyone verified. */
const ORIGIN_NOTE =
  ' An "origin" is set by the ingress only, with its signature; one typed here is ignored and the action recorded as typed (unverified).';

/**
 * An action refused (an operator's mistake or a state that does not allow it): a non-retryable failure with
 * the reason and no stack trace, which the Web UI would show as if the workflow had crashed.
 */
function rejection(message: string): wf.ApplicationFailure {
  const failure = wf.ApplicationFailure.create({ message, type: 'ActionRejected', nonRetryable: true });
  failure.stack = '';
  return failure;
}

export async function incidentWorkflow(rawInput: IncidentWorkflowInput): Promise<IncidentStatus> {
  const continued = rawInput.continued;
  const parsed = incidentInputSchema.safeParse(stripContinued(rawInput));
  if (!parsed.success && !continued) {
    // A bad start must say why; the workflow fails at once instead of paging with garbage.
    throw wf.ApplicationFailure.nonRetryable(
      `invalid incidentWorkflow input: ${formatIssues(parsed.error.issues)}`,
      'InvalidIncidentInput',
    );
  }
  const input = parsed.success ? parsed.data : (stripContinued(rawInput) as IncidentInput);

  // State first, then every handler, all before the first await, so a query, signal or update that arrives
  // with the start is served.
  // Behind PATCH_OPENED_AT: a new incident opens at its start event (when the alert reached Temporal), not
  // at its first workflow task, so a backlog of new incidents does not push every matrix step and target
  // later. `startTime` is that event's time, from history; not `runStartTime`, which is the time of the
  // first activation the worker runs (it differed on a replay without cache: test/incident/no-cache and
  // TEST_MAX_CACHED_WORKFLOWS=0 caught it). The next incident after a close (continue-as-new without
  // state) opens at its first task, as before. Asked once, before anything else.
  const startInfo = wf.workflowInfo();
  const openedAtStartEvent = wf.patched(PATCH_OPENED_AT) && !startInfo.continuedFromExecutionRunId;
  // The core's later behaviour changes, asked once when an incident opens (state.ts PATCHES): a run carried
  // on from an older one keeps what that one had.
  let s: IncidentState = continued
    ? carriedState(continued)
    : openState(input, {
        openedAt: openedAtStartEvent ? startInfo.startTime.getTime() : Date.now(),
        workflowId: wf.workflowInfo().workflowId,
        carriedAlerts: rawInput.carriedAlerts ?? [],
        patches: Object.fromEntries(
          (Object.entries(PATCHES) as [PatchKey, string][]).map(([key, id]) => [key, wf.patched(id)]),
        ),
      });
  // Counted here, where it is known for sure (issue 10 item 5): the worker's /metrics (SDK Runtime telemetry;
  // never emitted while replaying) gets one `incidents_opened_total` per incident, whichever ingress replica or
  // tool started it, and `incident_alerts_deduplicated_total` for every alert that joined it once open. A
  // continued run carries its state (`continued`) and opens nothing.
  const meter = {
    opened: wf.metricMeter.createCounter(
      'incidents_opened_total',
      'incidents',
      'Incidents opened, by severity and kind (a continue-as-new run is the same incident).',
    ),
    deduplicated: wf.metricMeter.createCounter(
      'incident_alerts_deduplicated_total',
      'alerts',
      'Alerts that joined an incident already open (same dedup key; repeats included), by kind.',
    ),
  };
  if (!continued) meter.opened.add(1, { severity: s.severity, kind: s.kind });
  const inflight = new Set<Promise<unknown>>();
  /** Deliveries in flight: carried into the next run if still running at continue-as-new (same keys). */
  const delivering = new Map<number, { channel: string; notifications: Notification[] }>();
  let deliverySeq = 0;
  let ledgerBusy = false;
  let dirty = false;

  const track = (p: Promise<unknown>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };

  /** Human, ingress and procedure inputs: stamped with the task's time (never before the decision clock). */
  const stamp = () => Math.max(Date.now(), s.clock);
  /** Feeds one input to the core, keeps its state, runs its effects. Never throws (a handler must not). */
  const step = (inputNow: Input, now: number = s.clock) => {
    try {
      const received = s.alerts.received;
      const result = decide(s, inputNow, now);
      s = result.state;
      // The first alert of an incident opened it; every later one (and every repeat) was deduplicated.
      const joined = s.alerts.received - Math.max(received, 1);
      if (joined > 0) meter.deduplicated.add(joined, { kind: s.kind });
      run(result.effects);
      return result.outcome;
    } catch (err) {
      // A bug in the core must not wedge the incident: the input is dropped, and the timeline says so.
      const fallback = decide(
        s,
        { type: 'failed', eventType: 'input.failed', text: `${inputNow.type} failed: ${errorMessage(err)}` },
        s.clock,
      );
      s = fallback.state;
      return { ok: false as const, reason: errorMessage(err) };
    } finally {
      dirty = true;
    }
  };

  const deliver = (channel: string, notifications: Notification[]) => {
    const id = ++deliverySeq;
    delivering.set(id, { channel, notifications });
    track(
      paging
        .deliverNotifications(channel, packBatch(notifications))
        .then(
          (r) =>
            step({
              type: 'delivered',
              channel,
              pages: notifications.some((n) => n.kind === 'page'),
              taken: r.delivered + r.duplicates,
              at: r.at,
            }),
          (err: unknown) => {
            const keys = notifications.map((n) => n.idempotencyKey).join(', ');
            step({
              type: 'failed',
              eventType: 'notify.failed',
              text: `${channel} delivery of ${keys} failed: ${errorMessage(err)}`,
            });
          },
        )
        .finally(() => delivering.delete(id)),
    );
  };

  const run = (effects: Effect[]) => {
    // Pages first, one delivery per channel for everything this input composed (a round with all its roles).
    const byChannel = new Map<string, Notification[]>();
    for (const e of effects)
      if (e.type === 'notify')
        for (const channel of (e.channels ?? s.policy.channels).filter(
          (c) => !(e.except === c && wf.patched(PATCH_NO_ECHO)),
        )) {
          const list = byChannel.get(channel) ?? [];
          list.push(e.notification);
          byChannel.set(channel, list);
        }
    for (const [channel, notifications] of byChannel) deliver(channel, notifications);
    for (const e of effects) {
      switch (e.type) {
        case 'notify':
          break;
        case 'ledger.write': {
          ledgerBusy = true;
          const { write } = e;
          track(
            ledger.ledgerWriteIncident(write).then(
              () => {
                ledgerBusy = false;
                step({ type: 'ledger.written', upTo: write.upTo });
              },
              (err: unknown) => {
                ledgerBusy = false;
                step({
                  type: 'ledger.failed',
                  write: true,
                  text: `ledger write failed: ${errorMessage(err)}`,
                });
              },
            ),
          );
          break;
        }
        case 'ledger.approval':
          track(
            ledger.ledgerRecordApproval(s.incidentId, e.approval).catch((err: unknown) =>
              step({
                type: 'ledger.failed',
                write: false,
                text: `ledger approval ${e.approval.actionId} failed: ${errorMessage(err)}`,
              }),
            ),
          );
          break;
        case 'procedure.start':
          startProcedure(e);
          break;
        case 'procedure.cancel':
          track(
            wf
              .getExternalWorkflowHandle(e.workflowId)
              .cancel()
              .catch(() => undefined),
          ); // already finished
          break;
        case 'procedure.decision':
          track(
            wf
              .getExternalWorkflowHandle(e.workflowId)
              .signal(defs.approvalDecisionSignal, e.decision)
              .catch((err: unknown) =>
                step({
                  type: 'failed',
                  eventType: 'approval.undelivered',
                  text: `Could not hand ${e.decision.actionId} to ${e.workflowId}: ${errorMessage(err)}`,
                }),
              ),
          );
          break;
      }
    }
  };

  const startProcedure = (e: Extract<Effect, { type: 'procedure.start' }>) => {
    // ABANDON: continue-as-new must not cancel it; resolution cancels it explicitly. Not waited for: a
    // procedure may run for hours; it signals this incident by workflow id and reports its end.
    const started = wf.startChild(e.workflowType, {
      workflowId: e.workflowId,
      args: [e.input],
      parentClosePolicy: 'ABANDON',
    });
    track(
      started.then(
        (child) => {
          step({ type: 'procedure.started', workflowId: e.workflowId });
          void child.result().then(
            (r: ProcedureResult) => step({ type: 'procedure.finished', result: r, workflowId: e.workflowId }),
            (err: unknown) =>
              step({
                type: 'procedure.error',
                error: errorMessage(err),
                started: true,
                workflowId: e.workflowId,
              }),
          );
        },
        (err: unknown) =>
          step({
            type: 'procedure.error',
            error: errorMessage(err),
            started: false,
            workflowId: e.workflowId,
          }),
      ),
    );
  };

  // ---------- handlers (all before the first await) ----------
  for (const name of Object.keys(SIGNALS) as ActionName[])
    wf.setHandler(
      SIGNALS[name],
      (payload: unknown) => {
        step({ type: 'action', name, payload, via: 'signal' }, stamp());
      },
      {
        description: `${ACTION_DESCRIPTIONS[name]} Fire-and-forget (tctl, scripts): a rejection only shows in the timeline; operators, use the Update of the same name.${ORIGIN_NOTE}`,
      },
    );
  for (const name of Object.keys(UPDATES) as (keyof typeof UPDATES)[])
    wf.setHandler(
      UPDATES[name] as UpdateDefinition<ActionResult, [unknown]>,
      (payload: unknown): ActionResult => {
        const outcome = step({ type: 'action', name, payload, via: 'update' }, stamp());
        if (!outcome?.ok) throw rejection(outcome?.reason ?? 'rejected');
        return {
          accepted: true,
          action: name,
          status: s.status,
          severity: s.severity,
          message: outcome.message,
        };
      },
      {
        description: `${ACTION_DESCRIPTIONS[name]} Answers "accepted" or the reason it was rejected.${ORIGIN_NOTE}`,
        // Validators reject before anything is written to history, so the caller gets the reason at once.
        validator: (payload: unknown) => {
          const verdict = validateAction(s, name, payload, stamp());
          if (!verdict.ok)
            throw rejection(
              verdict.reason.startsWith('invalid ') ? verdict.reason : `${name} rejected: ${verdict.reason}`,
            );
        },
      },
    );
  for (const name of Object.keys(PROCEDURE_SIGNALS) as (keyof typeof PROCEDURE_SIGNALS)[])
    wf.setHandler(
      PROCEDURE_SIGNALS[name] as wf.SignalDefinition<[unknown]>,
      (payload: unknown) => {
        step({ type: 'procedure', name, payload }, stamp());
      },
      {
        description:
          "INTERNAL: sent by the incident's playbook procedure (child workflow). Not for operators.",
      },
    );
  wf.setHandler(defs.statusQuery, () => snapshot(s, s.clock), {
    description:
      'The incident now: severity, status, who acknowledged and resolved, engaged roles, alerts, deadlines.',
  });
  wf.setHandler(
    defs.timelineQuery,
    () =>
      s.timelineDropped > 0
        ? [
            {
              at: s.timeline[0]?.at ?? isoOf(s.openedAt),
              actor: 'system',
              type: 'timeline.truncated',
              text: `${s.timelineDropped} earlier events are in the incident ledger (incident_events of ${s.incidentId})`,
            },
            ...s.timeline,
          ]
        : s.timeline,
    { description: 'Every step taken, newest last, rejected signals included (the ledger keeps the whole).' },
  );

  // A start without the deployment's policy (the CLI): it loads beside the first page, not before it.
  const loadPolicy = () =>
    track(
      setup.loadPolicyOverrides().then(
        (overrides) => {
          // The origin key from the worker's own config, never from the start's overrides.
          if (patchedIn(s, 'verifiedOrigin'))
            step({ type: 'originKey', key: overrides.originVerifyKey ?? null });
          step({ type: 'policy', overrides: { ...overrides, ...(input.policy ?? {}) } });
        },
        (err: unknown) => {
          step({
            type: 'failed',
            eventType: 'policy.failed',
            text: `deployment policy not loaded, playbook defaults kept: ${errorMessage(err)}`,
          });
          step({ type: 'policy', overrides: input.policy ?? {} });
        },
      ),
    );

  // A start that carried the policy (the ingress): the origin key still comes from the worker, beside the
  // first page. A start input is anyone's to write; the key must not be.
  const loadOriginKey = () =>
    track(
      setup.loadPolicyOverrides().then(
        (overrides) => step({ type: 'originKey', key: overrides.originVerifyKey ?? null }),
        (err: unknown) =>
          step({
            type: 'failed',
            eventType: 'origin.key.failed',
            text: `origin key not loaded, Slack and PagerDuty actions are recorded as unverified: ${errorMessage(err)}`,
          }),
      ),
    );

  // ---------- the first workflow task: the first page ----------
  if (continued) {
    const again = s.undelivered;
    s = { ...s, undelivered: [] };
    for (const d of again) deliver(d.channel, d.notifications);
    // The previous run continued as new before its policy arrived: the procedure still waits for it.
    if (s.policyPending && patchedIn(s, 'procedureAfterPolicy')) loadPolicy();
  } else {
    step({ type: 'open' });
    if (s.policyPending) loadPolicy();
    else if (patchedIn(s, 'verifiedOrigin')) loadOriginKey();
  }

  let visible = '';
  const syncVisibility = () => {
    const a = searchAttributes(s);
    const key = `${a.severity}|${a.status}|${a.kind}`;
    if (key !== visible) {
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
      visible = key;
    }
    wf.setCurrentDetails(currentDetails(s, s.clock, formatUtcAndCot));
  };
  const flushLedger = (force: boolean) => {
    if (!ledgerBusy) step({ type: 'ledger.flush', force });
  };

  // One timer for the next due time, kept while that time stands: an input that does not move it (a delivery
  // done, a note) costs no timer cancelled and started again. Whether it fired is in history.
  let timer: { at: number; fired: boolean; scope: wf.CancellationScope } | null = null;
  const disarm = () => {
    timer?.scope.cancel();
    timer = null;
  };
  /** The due time of the timer that fired (and forgets it), or null. */
  const firedTimer = (): number | null => {
    if (!timer?.fired) return null;
    const { at } = timer;
    timer = null;
    return at;
  };
  const arm = (at: number) => {
    if (timer && timer.at === at && !timer.fired) return;
    disarm();
    const scope = new wf.CancellationScope();
    const armed = { at, fired: false, scope };
    timer = armed;
    // The duration may differ on replay (it is not compared).
    scope
      .run(() => wf.sleep(Math.max(1, Math.ceil(at - Date.now()))))
      .then(
        () => {
          armed.fired = true;
          dirty = true;
        },
        () => undefined, // cancelled: the due time moved
      );
  };

  // ---------- the loop: wait for an input or the next due time ----------
  for (;;) {
    step({ type: 'tick' });
    syncVisibility();
    flushLedger(false);
    if (s.status === 'closed') break;
    const info = wf.workflowInfo();
    if (
      continueAsNewDue(s, {
        length: info.historyLength,
        bytes: info.historySize,
        suggested: info.continueAsNewSuggested,
      })
    ) {
      // Give side effects a moment; deliveries still running (a channel down) go to the next run.
      if (inflight.size > 0) await wf.condition(() => inflight.size === 0, '10 seconds');
      await wf.condition(wf.allHandlersFinished);
      if (!ledgerBusy) flushLedger(true);
      if (ledgerBusy) await wf.condition(() => !ledgerBusy, '10 seconds');
      s = { ...s, undelivered: [...delivering.values()] };
      await wf.continueAsNew<typeof incidentWorkflow>({ ...input, continued: s });
    }
    const wake = nextWakeup(s, s.clock);
    if (wake === null) disarm();
    else arm(wake);
    dirty = false;
    await wf.condition(() => dirty);
    const fired = firedTimer();
    if (fired !== null) step({ type: 'clock', at: fired });
  }

  await startPostmortem();
  flushLedger(true);
  await Promise.allSettled([...inflight]);
  await wf.condition(wf.allHandlersFinished);
  if (!ledgerBusy) flushLedger(true); // anything recorded while draining (late failures, alerts after close)
  await Promise.allSettled([...inflight]);
  if (s.afterClose.length > 0) await wf.continueAsNew<typeof incidentWorkflow>(nextIncident(input, s));
  return snapshot(s, null);

  /** 6.1: the post-mortem obligation outlives the incident, in its own workflow (ABANDON on close). */
  async function startPostmortem() {
    const args: [PostmortemInput] = [
      {
        incidentId: s.incidentId,
        title: s.title,
        severity: s.highestSeverity,
        resolvedAt: isoOf(s.resolvedAt ?? s.closedAt ?? s.clock),
        timeScale: s.timeScale,
        channels: s.policy.channels,
      },
    ];
    const workflowId = postmortemWorkflowId(s.incidentId);
    try {
      await wf.startChild(POSTMORTEM_WORKFLOW_TYPE, { workflowId, args, parentClosePolicy: 'ABANDON' });
      step({ type: 'postmortem.started', workflowId });
    } catch (err) {
      step({
        type: 'postmortem.failed',
        error:
          err instanceof WorkflowExecutionAlreadyStartedError
            ? `${workflowId} already exists`
            : errorMessage(err),
      });
    }
  }
}

/**
 * The alerts that fired while this incident was finishing open a fresh one on the same workflow id: detected
 * when the first late alert started, at the most severe routed severity, named after it, without the
 * previous incident's alerts.
 */
function nextIncident(input: IncidentInput, s: IncidentState): IncidentWorkflowInput {
  const first = s.afterClose[0];
  const routed = s.afterClose
    .filter((a): a is typeof a & { routedSeverity: Severity } => a.routedSeverity !== undefined)
    .sort((a, b) => severityRank(a.routedSeverity) - severityRank(b.routedSeverity));
  const top = routed[0];
  const severity = top?.routedSeverity ?? input.severity;
  return {
    ...input,
    ...(severity ? { severity } : {}),
    ...(top?.routedTitle ? { title: top.routedTitle } : {}),
    // Not detected before the previous incident on this id closed: that one was about the issue until then.
    ...(first?.startsAt
      ? {
          detectedAt:
            patchedIn(s, 'detectionBound') && s.closedAt !== null
              ? isoOf(Math.max(Date.parse(first.startsAt), s.closedAt))
              : first.startsAt,
        }
      : {}),
    source: input.source ? { ...input.source, alerts: undefined } : undefined,
    carriedAlerts: s.afterClose,
  };
}
