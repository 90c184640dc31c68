// The heartbeat monitors' side effects: a silence opens its incident through the normal path (the ingress's
// own signalWithStart of alertFired, on the dedup workflow id of `heartbeat-<name>`), resumed beats clear
// that alert, and the engine's outbound ping goes through the ingress before it leaves the machine.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { request, type Dispatcher } from 'undici';
import { TemporalIncidentStarter } from '../ingress/starter';
import { workflowIdFor } from '../ingress/routing';
import {
  ENGINE_MONITOR,
  heartbeatDedupKey,
  MONITORING_GAP,
  type HeartbeatsConfig,
} from '../playbook/contract/heartbeat';
import { incidentInputSchema, type Alert, type IncidentInput } from '../playbook/contract/incident';
import { clearSummary, silenceSummary, type ClearSilence, type OpenSilence } from '../playbook/heartbeat';
import type { PolicyOverrides } from '../playbook/policy';

export const HEARTBEAT_ALERT = 'HeartbeatMissing';

export interface HeartbeatActivityDeps {
  /** The deployment's policy: sent in the start input, so the incident pages in its first workflow task. */
  policyOverrides: PolicyOverrides;
  /** undici dispatcher for the outbound ping (tests). */
  dispatcher?: Dispatcher;
  env?: NodeJS.ProcessEnv;
}

/** The incident workflow id a monitor's silences open on (the ingress's rule for every dedup key). */
export const silenceIncidentWorkflowId = (name: string): string =>
  workflowIdFor(MONITORING_GAP, heartbeatDedupKey(name));

/** One starter per worker client and task queue: its readiness check of Temporal is made once. */
const starters = new WeakMap<object, Map<string, TemporalIncidentStarter>>();
function starter(): TemporalIncidentStarter {
  const ctx = Context.current();
  let byQueue = starters.get(ctx.client);
  if (!byQueue) starters.set(ctx.client, (byQueue = new Map()));
  let s = byQueue.get(ctx.info.taskQueue);
  if (!s) {
    s = new TemporalIncidentStarter({ client: ctx.client, taskQueue: ctx.info.taskQueue, timeoutMs: 10_000 });
    byQueue.set(ctx.info.taskQueue, s);
  }
  return s;
}

export type OutboundPing = NonNullable<HeartbeatsConfig['outbound']>;

export function createHeartbeatActivities(deps: HeartbeatActivityDeps) {
  const env = deps.env ?? process.env;
  return {
    /**
     * A silence: its incident opens (or, running, hears the alert) exactly as an alert's would. Repeating it
     * is harmless: the same fingerprint is a repeat to a running incident.
     */
    async openSilenceIncident(e: OpenSilence): Promise<{ workflowId: string; runId: string }> {
      const workflowId = silenceIncidentWorkflowId(e.name);
      const summary = silenceSummary(e);
      const alert: Alert = {
        fingerprint: e.fingerprint,
        name: HEARTBEAT_ALERT,
        status: 'firing',
        summary,
        labels: { monitor: e.name },
        startsAt: e.since,
        source: 'heartbeat',
      };
      const parsed = incidentInputSchema.safeParse({
        title: e.title,
        severity: e.severity,
        kind: e.kind,
        summary: e.runbook ? `${summary}\n\nRunbook: ${e.runbook}` : summary,
        detectedAt: e.since,
        source: { system: 'heartbeat', dedupKey: heartbeatDedupKey(e.name) },
        timeScale: e.timeScale,
        policy: deps.policyOverrides,
        policyComplete: true,
      });
      // A bug, not an outage: retrying would not help.
      if (!parsed.success)
        throw ApplicationFailure.nonRetryable(
          `the silence's incident input is invalid: ${parsed.error.message.slice(0, 500)}`,
          'InvalidIncidentInput',
        );
      const input: IncidentInput = parsed.data;
      const details = [
        `**${e.severity} ${e.kind}** opened by heartbeat monitor \`${e.name}\` (workflow heartbeat-${e.name}).`,
        '',
        `- ${summary}`,
        `- Dedup key: \`${heartbeatDedupKey(e.name)}\``,
        ...(e.runbook ? [`- Runbook: ${e.runbook}`] : []),
      ].join('\n');
      const run = await starter().fireAlerts({
        workflowId,
        input,
        kind: e.kind,
        severity: e.severity,
        alerts: [{ alert, severity: e.severity, title: e.title }],
        details,
      });
      return { workflowId: run.workflowId, runId: run.runId };
    },

    /** Beats resumed: the silence's alert clears on its incident (a closed incident needs nothing). */
    async clearSilenceIncident(e: ClearSilence): Promise<'signaled' | 'no-incident'> {
      const alert: Alert = {
        fingerprint: e.fingerprint,
        name: HEARTBEAT_ALERT,
        status: 'resolved',
        summary: clearSummary(e),
        labels: { monitor: e.name },
        startsAt: e.since,
        endsAt: e.resumedAt,
        source: 'heartbeat',
      };
      return starter().resolveAlerts(e.incidentWorkflowId ?? silenceIncidentWorkflowId(e.name), [alert]);
    },

    /**
     * The engine's heartbeat out: a beat of the `engine` monitor through the ingress, and only when the
     * ingress accepted it (Temporal took the signal), the external dead-man's switch. A ping that leaves
     * proves that Temporal fired this activity's timer, a worker ran it and the ingress reached Temporal.
     */
    async pingOutbound(o: OutboundPing): Promise<{ ingress: number; outbound: number }> {
      const token = env[o.ingressTokenEnv];
      const beat = await request(`${o.ingressUrl.replace(/\/+$/, '')}/v1/heartbeats/${ENGINE_MONITOR}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ source: 'engine-outbound' }),
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
        ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
      });
      await beat.body.dump();
      if (beat.statusCode >= 300)
        throw ApplicationFailure.nonRetryable(
          `the ingress answered ${beat.statusCode} to the engine's beat: no outbound ping (the path is broken)`,
          'IngressRefusedBeat',
        );
      const ping = await request(o.url, {
        method: o.method,
        headers: { 'user-agent': 'incident-response-engine heartbeat' },
        headersTimeout: 10_000,
        bodyTimeout: 10_000,
        ...(deps.dispatcher ? { dispatcher: deps.dispatcher } : {}),
      });
      await ping.body.dump();
      if (ping.statusCode >= 300)
        throw ApplicationFailure.nonRetryable(
          `the dead-man's switch answered ${ping.statusCode}`,
          'OutboundPingRefused',
        );
      return { ingress: beat.statusCode, outbound: ping.statusCode };
    },
  };
}
