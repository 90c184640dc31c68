// The incident's imperative shell: it holds the state, feeds each input to the pure core (step) and runs the
// effects the core returns as activities, child workflows and signals. What to do is decided in the core
// (src/playbook/lifecycle); this only knows how Temporal does it.
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import type { IncidentActivities } from '../../activities';
import { packBatch } from '../../playbook/lifecycle/batch';
import { decide, recover, type Effect, type Input, type Outcome } from '../../playbook/lifecycle/decide';
import { fanOut, type Delivery } from '../../playbook/lifecycle/fan-out';
import type { IncidentState } from '../../playbook/lifecycle/state';
import type { PolicyOverrides } from '../../playbook/policy';
import { DELIVERY, LEDGER, SETUP } from '../activity-options';
import type { ProcedureResult } from '../../playbook/contract/procedure';
import { approvalDecisionSignal } from '../definitions';
import { errorMessage } from '../util';

const paging = wf.proxyActivities<IncidentActivities>(DELIVERY);
const ledger = wf.proxyActivities<IncidentActivities>(LEDGER);
const setup = wf.proxyActivities<IncidentActivities>(SETUP);

/**
 * 1.2: an acknowledgement or resolution that came from PagerDuty is not sent back to it. Asked where such a
 * notification is delivered, so a history in which an older worker did send it still replays.
 */
const PATCH_NO_ECHO = 'no-echo-to-origin-v1';

type Run<T extends Effect['type']> = Extract<Effect, { type: T }>;

export class IncidentShell {
  /** Side effects in flight: waited for (a while) before continue-as-new and at close. */
  readonly inflight = new Set<Promise<unknown>>();
  /** Deliveries in flight: carried into the next run if still running at continue-as-new (same keys). */
  private readonly delivering = new Map<number, Delivery>();
  private deliverySeq = 0;
  /** Set by every input and fired timer: the main loop wakes on it. */
  dirty = false;
  /** The post-mortem's start, once the core asked for it: the close waits for it. */
  postmortem: Promise<void> | null = null;
  // The worker's /metrics (SDK Runtime telemetry; never emitted while replaying): counted here, where it is
  // known for sure, whichever ingress replica or tool started the incident.
  private readonly deduplicated = wf.metricMeter.createCounter(
    'incident_alerts_deduplicated_total',
    'alerts',
    'Alerts that joined an incident already open (same dedup key; repeats included), by kind.',
  );

  constructor(
    public s: IncidentState,
    /** The start input's own policy overrides: they win over the deployment's. */
    private readonly startPolicy: PolicyOverrides,
  ) {}

  /** Human, ingress and procedure inputs: stamped with the task's time (never before the decision clock). */
  stamp(): number {
    return Math.max(Date.now(), this.s.clock);
  }

  /** Feeds one input to the core, keeps its state, runs its effects. Never throws (a handler must not). */
  step(input: Input, now: number = this.s.clock): Outcome | undefined {
    try {
      const received = this.s.alerts.received;
      const result = decide(this.s, input, now);
      this.s = result.state;
      // The first alert of an incident opened it; every later one (and every repeat) was deduplicated.
      const joined = this.s.alerts.received - Math.max(received, 1);
      if (joined > 0) this.deduplicated.add(joined, { kind: this.s.kind });
      this.run(result.effects);
      return result.outcome;
    } catch (err) {
      this.s = recover(this.s, input, errorMessage(err)).state;
      return { ok: false, kind: 'refused', reason: errorMessage(err) };
    } finally {
      this.dirty = true;
    }
  }

  /** What is still being delivered, for the next run to send again. */
  undelivered(): Delivery[] {
    return [...this.delivering.values()];
  }

  private track(p: Promise<unknown>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private run(effects: Effect[]): void {
    // Pages first, one delivery per channel for everything this input composed.
    const noEcho = () => wf.patched(PATCH_NO_ECHO);
    for (const d of fanOut(effects, this.s.policy.channels, noEcho)) this.deliver(d);
    for (const e of effects) this.runOne(e);
  }

  private runOne(e: Effect): void {
    switch (e.type) {
      case 'notify':
        break; // delivered above
      case 'deliver':
        this.deliver(e);
        break;
      case 'ledger.write':
        this.writeLedger(e);
        break;
      case 'ledger.approval':
        this.recordApproval(e);
        break;
      case 'procedure.start':
        this.startProcedure(e);
        break;
      case 'procedure.cancel':
        // Already finished: nothing to cancel.
        this.track(
          wf
            .getExternalWorkflowHandle(e.workflowId)
            .cancel()
            .catch(() => undefined),
        );
        break;
      case 'procedure.decision':
        this.handDecision(e);
        break;
      case 'deployment.load':
        this.loadDeployment(e);
        break;
      case 'postmortem.start':
        this.postmortem = this.startPostmortem(e);
        break;
    }
  }

  private deliver({ channel, notifications }: Delivery): void {
    const id = ++this.deliverySeq;
    this.delivering.set(id, { channel, notifications });
    this.track(
      paging
        .deliverNotifications(channel, packBatch(notifications))
        .then(
          (r) =>
            this.step({
              type: 'delivered',
              channel,
              pages: notifications.some((n) => n.kind === 'page'),
              taken: r.delivered + r.duplicates,
              at: r.at,
            }),
          (err: unknown) => {
            const keys = notifications.map((n) => n.idempotencyKey).join(', ');
            this.step({
              type: 'failed',
              eventType: 'notify.failed',
              text: `${channel} delivery of ${keys} failed: ${errorMessage(err)}`,
            });
          },
        )
        .finally(() => this.delivering.delete(id)),
    );
  }

  private writeLedger({ write }: Run<'ledger.write'>): void {
    this.track(
      ledger.ledgerWriteIncident(write).then(
        () => this.step({ type: 'ledger.written', upTo: write.upTo }),
        (err: unknown) =>
          this.step({
            type: 'ledger.failed',
            write: true,
            text: `ledger write failed: ${errorMessage(err)}`,
          }),
      ),
    );
  }

  private recordApproval({ approval }: Run<'ledger.approval'>): void {
    this.track(
      ledger.ledgerRecordApproval(this.s.incidentId, approval).catch((err: unknown) =>
        this.step({
          type: 'ledger.failed',
          write: false,
          text: `ledger approval ${approval.actionId} failed: ${errorMessage(err)}`,
        }),
      ),
    );
  }

  private startProcedure({ workflowType, workflowId, input }: Run<'procedure.start'>): void {
    // ABANDON: continue-as-new must not cancel it; resolution cancels it explicitly. Not waited for: a
    // procedure may run for hours; it signals this incident by workflow id and reports its end.
    const started = wf.startChild(workflowType, { workflowId, args: [input], parentClosePolicy: 'ABANDON' });
    const failed = (started: boolean) => (err: unknown) =>
      this.step({ type: 'procedure.error', error: errorMessage(err), started, workflowId });
    this.track(
      started.then((child) => {
        this.step({ type: 'procedure.started', workflowId });
        void child
          .result()
          .then(
            (result: ProcedureResult) => this.step({ type: 'procedure.finished', result, workflowId }),
            failed(true),
          );
      }, failed(false)),
    );
  }

  private handDecision({ workflowId, decision }: Run<'procedure.decision'>): void {
    this.track(
      wf
        .getExternalWorkflowHandle(workflowId)
        .signal(approvalDecisionSignal, decision)
        .catch((err: unknown) =>
          this.step({
            type: 'failed',
            eventType: 'approval.undelivered',
            text: `Could not hand ${decision.actionId} to ${workflowId}: ${errorMessage(err)}`,
          }),
        ),
    );
  }

  private loadDeployment({ want }: Run<'deployment.load'>): void {
    const start = this.startPolicy;
    this.track(
      setup.loadPolicyOverrides().then(
        (overrides) => this.step({ type: 'deployment.loaded', want, overrides, start }),
        (err: unknown) => this.step({ type: 'deployment.failed', want, error: errorMessage(err), start }),
      ),
    );
  }

  private async startPostmortem({ workflowType, workflowId, input }: Run<'postmortem.start'>): Promise<void> {
    try {
      await wf.startChild(workflowType, { workflowId, args: [input], parentClosePolicy: 'ABANDON' });
      this.step({ type: 'postmortem.started', workflowId });
    } catch (err) {
      const error =
        err instanceof WorkflowExecutionAlreadyStartedError
          ? `${workflowId} already exists`
          : errorMessage(err);
      this.step({ type: 'postmortem.failed', error });
    }
  }
}
