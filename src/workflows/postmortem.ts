// postmortemWorkflow: the post-incident obligation of playbook 6.1-6.3, started by incidentWorkflow when
// an incident closes (id `postmortem-<incident id>`, ParentClosePolicy ABANDON). A thin interpreter of the
// pure core (src/playbook/postmortem-core): handlers validate and delegate, every action and timer is one
// input to decide(state, input, now), and the effects it returns run here as activities.
// Time without a clock activity: decisions are taken against the decision clock in the state, which starts
// at the run's start event and moves to a timer's target when it fires (both in history). Date.now() (the
// workflow task's time) only stamps what people do and sizes timers. Why not for decisions: the first
// workflow task a new worker runs after the previous worker was SIGKILLed and its task timed out reads the
// time of the task before on the live run, but the right time on replay (test/postmortem/worker-kill.test.ts).
import type { UpdateDefinition } from '@temporalio/common';
import * as wf from '@temporalio/workflow';
import type { IncidentActivities } from '../activities';
import type { Notification } from '../playbook/contract/notification';
import {
  ACTION_NAMES,
  validateAction,
  type ActionName,
  type Outcome,
} from '../playbook/postmortem-core/actions';
import { decide, type Input } from '../playbook/postmortem-core/decide';
import { nextWakeup } from '../playbook/postmortem-core/due';
import {
  isTerminal,
  openState,
  parseInput,
  type PostmortemWorkflowState,
} from '../playbook/postmortem-core/state';
import { nextLedgerWrite, statusOf } from '../playbook/postmortem-core/views';
import { DELIVERY, LEDGER } from './activity-options';
import {
  actionItemDoneSignal,
  actionItemDoneUpdate,
  completePostmortemSignal,
  completePostmortemUpdate,
  postmortemStatusQuery,
} from './postmortem-definitions';
import type {
  PostmortemActionResult,
  PostmortemInput,
  PostmortemStatus,
} from '../playbook/contract/postmortem';
import { errorMessage } from './util';

export type { PostmortemWorkflowState };

const notify = wf.proxyActivities<IncidentActivities>(DELIVERY);
const ledger = wf.proxyActivities<IncidentActivities>(LEDGER);

const CONTINUE_AS_NEW_AFTER_EVENTS = 5_000;

const SIGNALS: Record<ActionName, wf.SignalDefinition<[unknown]>> = {
  completePostmortem: completePostmortemSignal,
  actionItemDone: actionItemDoneSignal,
};
// The handlers take the raw payload (validated by the core), whatever type the clients' definitions carry.
const UPDATES: Record<ActionName, UpdateDefinition<PostmortemActionResult, [unknown]>> = {
  completePostmortem: completePostmortemUpdate as UpdateDefinition<PostmortemActionResult, [unknown]>,
  actionItemDone: actionItemDoneUpdate as UpdateDefinition<PostmortemActionResult, [unknown]>,
};

export interface PostmortemWorkflowInput extends PostmortemInput {
  /** Set by continue-as-new only. */
  continued?: PostmortemWorkflowState;
}

export async function postmortemWorkflow(rawInput: PostmortemWorkflowInput): Promise<PostmortemStatus> {
  const { continued, ...rest } = rawInput ?? ({} as PostmortemWorkflowInput);
  const parsed = parseInput(rest);
  if (!parsed.ok && !continued)
    throw wf.ApplicationFailure.nonRetryable(parsed.reason, 'InvalidPostmortemInput');
  // A continued run goes on with the state it carries, whatever a later schema says of its first input.
  const input = parsed.ok ? parsed.input : (rest as PostmortemInput);
  const pm = new Postmortem(continued ?? openState(input, wf.workflowInfo().startTime.getTime()), !continued);
  registerHandlers(pm);

  // Do what is due, then wait for an action or the next due time.
  for (;;) {
    pm.step({ type: 'tick' });
    pm.flushLedgerIfChanged();
    if (isTerminal(pm.s)) break;
    const info = wf.workflowInfo();
    if (info.historyLength > CONTINUE_AS_NEW_AFTER_EVENTS || info.continueAsNewSuggested) {
      await pm.drain();
      await wf.continueAsNew<typeof postmortemWorkflow>({ ...input, continued: pm.s });
    }
    const wake = nextWakeup(pm.s);
    pm.dirty = false;
    if (wake === null) await wf.condition(() => pm.dirty);
    else if (await sleepUntil(wake, () => pm.dirty)) pm.step({ type: 'clock', at: wake });
  }
  await pm.drain();
  return statusOf(pm.s);
}

/** The running post-mortem: its state, and the effects the core asked for, carried out as activities. */
class Postmortem {
  /** An action came in: the loop wakes. */
  dirty = false;
  private readonly inflight = new Set<Promise<unknown>>();
  private ledgerPending = false;
  private ledgerLoop: Promise<void> | null = null;

  constructor(
    public s: PostmortemWorkflowState,
    /** The ledger row is behind the state: written when the loop next runs. */
    private changed: boolean,
  ) {}

  /** Feeds one input to the core, keeps its state, runs its effects. */
  step(input: Input, now: number = this.s.clock): Outcome | undefined {
    const result = decide(this.s, input, now);
    this.s = result.state;
    for (const e of result.effects) {
      if (e.type === 'ledger.changed') this.changed = true;
      else this.deliver(e.channel, e.notification);
    }
    return result.outcome;
  }

  /** A person's action, stamped with the task's time (never before the decision clock). Never throws. */
  act(name: ActionName, raw: unknown, via: 'signal' | 'update'): Outcome {
    try {
      return this.step({ type: 'action', name, payload: raw, via }, Math.max(Date.now(), this.s.clock))!;
    } catch (err) {
      // A handler that throws would fail the workflow task: record and carry on.
      const reason = errorMessage(err);
      const data = { action: name, via };
      this.step({ type: 'failed', eventType: 'signal.rejected', text: `${name} failed: ${reason}`, data });
      return { ok: false, kind: 'rejected', reason };
    } finally {
      this.dirty = true;
    }
  }

  private deliver(channel: string, n: Notification): void {
    const p = notify.deliverNotification(channel, n).then(
      () => undefined,
      (err: unknown) =>
        this.step({
          type: 'failed',
          eventType: 'notify.failed',
          text: `${channel} delivery of ${n.idempotencyKey} failed: ${errorMessage(err)}`,
        }),
    );
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /** The latest whole state, one write at a time. */
  flushLedgerIfChanged(): void {
    if (!this.changed) return;
    this.changed = false;
    this.ledgerPending = true;
    if (this.ledgerLoop) return;
    this.ledgerLoop = (async () => {
      while (this.ledgerPending) {
        this.ledgerPending = false;
        const write = nextLedgerWrite(this.s, wf.workflowInfo().workflowId);
        this.s = write.state;
        try {
          await ledger.ledgerRecordPostmortem(write.record, write.items);
        } catch (err) {
          const text = `ledger write failed: ${errorMessage(err)}`;
          this.step({ type: 'failed', eventType: 'ledger.failed', text });
        }
      }
      this.ledgerLoop = null;
    })();
  }

  /** Before returning or continuing as new: deliveries, ledger writes and handlers finish. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.inflight]);
    while (this.ledgerLoop) await this.ledgerLoop;
    await wf.condition(wf.allHandlersFinished);
  }
}

/** Signals first, then Updates (their validator refuses a bad one before it reaches history), then the query. */
function registerHandlers(pm: Postmortem): void {
  for (const name of ACTION_NAMES)
    wf.setHandler(SIGNALS[name], (raw: unknown) => void pm.act(name, raw, 'signal'));
  for (const name of ACTION_NAMES)
    wf.setHandler(
      UPDATES[name],
      (raw: unknown): PostmortemActionResult => {
        const outcome = pm.act(name, raw, 'update');
        if (!outcome.ok) throw wf.ApplicationFailure.nonRetryable(outcome.reason, 'ActionRejected');
        return { accepted: true, status: pm.s.status, message: outcome.message };
      },
      {
        validator: (raw: unknown) => {
          const verdict = validateAction(pm.s, name, raw);
          if (!verdict.ok)
            throw new Error(
              verdict.kind === 'invalid' ? verdict.reason : `${name} rejected: ${verdict.reason}`,
            );
        },
      },
    );
  wf.setHandler(postmortemStatusQuery, () => statusOf(pm.s));
}

/**
 * Waits for `woken` or until `wake`; true when the timer fired. The same commands as condition(woken,
 * timeout), a timer cancelled if an action comes first, but it also tells a timer that fired in the same
 * activation as an action (condition answers true then, and the due time would be missed).
 */
async function sleepUntil(wake: number, woken: () => boolean): Promise<boolean> {
  let fired = false;
  await wf.CancellationScope.cancellable(async () => {
    try {
      // The duration may differ on replay (it is not compared): decisions take the target, `wake`.
      const timer = wf.sleep(Math.max(1, Math.ceil(wake - Date.now()))).then(() => {
        fired = true;
      });
      await Promise.race([timer, wf.condition(woken)]);
    } finally {
      wf.CancellationScope.current().cancel();
    }
  });
  return fired;
}
