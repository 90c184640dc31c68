// heartbeatMonitor: a dead-man's switch as a durable timer (DESIGN "Heartbeats"). Each `beat` pushes the
// deadline back; past period + grace with no beat, the silence opens a `monitoring-gap` incident through the
// normal path (signalWithStart of alertFired on the incident's dedup workflow id), once per silence; a beat
// during a silence clears that alert. The rules are in src/playbook/heartbeat.ts; here: the clock, the timer,
// the activities and the history bound.
//
// A beat does not restart the timer: the timer waits for the deadline it was set for, and when it fires the
// loop sets one for the deadline the beats moved it to. Steady beats cost one signal and one workflow task
// each, and a timer per period.
import * as wf from '@temporalio/workflow';
import type { IncidentActivities } from '../activities';
import { beatSchema, configureSchema, type HeartbeatMonitorInput } from '../playbook/contract/heartbeat';
import {
  applyBeat,
  carry,
  deadlineOf,
  initMonitor,
  reconfigure,
  silenceOpened,
  stateOf,
  statusOf,
  tick,
  type MonitorCore,
  type MonitorEffect,
} from '../playbook/heartbeat';
import { DELIVERY } from './activity-options';
import { HeartbeatStateKey } from './definitions';
import { beatSignal, configureSignal, monitorStatusQuery } from './heartbeat-definitions';
import { errorMessage } from './util';

/**
 * Opening a silence's incident pages people: retried like a page, with no end (a Temporal or worker outage
 * longer than an hour must not lose it). Clearing is retried like a page too.
 */
const incidents = wf.proxyActivities<IncidentActivities>({
  ...DELIVERY,
  scheduleToCloseTimeout: undefined,
});

/** Events after which a run continues as new (about 8 minutes of beats once a second). */
export const MONITOR_HISTORY_LIMIT = 2_000;

export async function heartbeatMonitor(input: HeartbeatMonitorInput): Promise<void> {
  const m = initMonitor(input, Date.now());
  /** Set when the loop must wake before its timer: a silence's effect, a new spec. */
  let wake = false;
  const gauge = wf.metricMeter
    .createGauge(
      'heartbeat_last_beat_timestamp_seconds',
      'float',
      's',
      'When each heartbeat monitor last heard a beat (Unix seconds); 0: never.',
    )
    .withTags({ monitor: m.spec.name });
  const state = wf.metricMeter
    .createGauge('heartbeat_silent', 'int', '1', '1 while the monitor is silent (its incident open), else 0.')
    .withTags({ monitor: m.spec.name });
  let shown = wf.workflowInfo().typedSearchAttributes.get(HeartbeatStateKey) ?? null;
  const publish = () => {
    gauge.set(m.lastBeatAt === null ? 0 : m.lastBeatAt / 1000);
    state.set(m.silence ? 1 : 0);
    // `workflow list` shows the state: upserted when it changes (a command only then, not per beat).
    const now = stateOf(m);
    if (now !== shown) {
      wf.upsertSearchAttributes([{ key: HeartbeatStateKey, value: now }]);
      shown = now;
    }
  };
  publish();

  wf.setHandler(beatSignal, (raw: unknown) => {
    const beat = beatSchema.safeParse(raw ?? {});
    if (!beat.success) {
      m.rejected += 1;
      wf.log.warn('heartbeat: beat refused (not {source?, at?})', { monitor: m.spec.name });
      return;
    }
    const before = m.effects.length;
    applyBeat(m, beat.data, Date.now());
    publish();
    if (m.effects.length > before) wake = true;
  });
  wf.setHandler(configureSignal, (raw: unknown) => {
    const c = configureSchema.safeParse(raw);
    if (!c.success || c.data.spec.name !== m.spec.name) {
      m.rejected += 1;
      wf.log.warn('heartbeat: configure refused', { monitor: m.spec.name });
      return;
    }
    if (reconfigure(m, c.data.spec)) wake = true;
  });
  wf.setHandler(monitorStatusQuery, () => statusOf(m));

  for (;;) {
    tick(m, Date.now());
    if (m.effects.length > 0) {
      // The state shows at once (search attribute, gauges), before the incident's opening answers.
      publish();
      await runEffects(m);
      publish();
      continue;
    }
    const info = wf.workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength >= MONITOR_HISTORY_LIMIT) {
      await wf.condition(wf.allHandlersFinished);
      // A beat in the last task's activation is in `m` already; one that came after it fails this command
      // and is delivered to this run again (the SDK's continue-as-new rule).
      if (m.effects.length > 0) continue;
      return wf.continueAsNew<typeof heartbeatMonitor>({ ...input, spec: m.spec, carried: carry(m) });
    }
    const deadline = deadlineOf(m);
    wake = false;
    const timeout = deadline === null ? undefined : Math.max(1, deadline - Date.now());
    // Woken by the deadline, an effect, a new spec, or a long history (checked on every activation).
    const historyDue = () =>
      wf.workflowInfo().continueAsNewSuggested || wf.workflowInfo().historyLength >= MONITOR_HISTORY_LIMIT;
    if (timeout === undefined) await wf.condition(() => wake || historyDue());
    else await wf.condition(() => wake || historyDue(), timeout);
  }
}

/**
 * Each effect in order, as an activity; an opened incident's workflow id is kept for status and clearing.
 * Retried without end; only a non-retryable failure (a bug: an input the incident refuses) ends one, which is
 * logged and the monitor goes on (its state stays as the core decided).
 */
async function runEffects(m: MonitorCore): Promise<void> {
  while (m.effects.length > 0) {
    const e = m.effects[0] as MonitorEffect;
    try {
      if (e.type === 'open') {
        const opened = await incidents.openSilenceIncident(e);
        silenceOpened(m, e.fingerprint, opened.workflowId);
      } else {
        await incidents.clearSilenceIncident(e);
      }
    } catch (err) {
      wf.log.error(`heartbeat: ${e.type} of a silence failed for good`, {
        monitor: m.spec.name,
        error: errorMessage(err),
      });
    }
    m.effects.shift();
  }
}
