// engineHeartbeat: the engine's own heartbeat out (`heartbeats.outbound`). Every period a worker beats the
// `engine` monitor through the ingress and, only if the ingress accepted that beat, calls the external
// dead-man's switch. The ping stops when Temporal (no timer fires), every worker (no activity runs) or the
// ingress (no beat accepted) stops, and only then: docs/alerting.md "Heartbeats" says what a missing ping proves.
import * as wf from '@temporalio/workflow';
import type { IncidentActivities } from '../activities';
import { heartbeatsConfigSchema, type HeartbeatsConfig } from '../playbook/contract/heartbeat';
import { configureSignal } from './heartbeat-definitions';
import { errorMessage } from './util';

type Outbound = NonNullable<HeartbeatsConfig['outbound']>;

/** One try per period: a ping that cannot go now is not sent late (a late ping would hide an outage). */
const ping = wf.proxyActivities<IncidentActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 1 },
});

const outboundSchema = heartbeatsConfigSchema.shape.outbound;

/** Pings before a run continues as new (a day of pings once a minute stays far under the history limits). */
const PINGS_PER_RUN = 500;

export interface EngineHeartbeatInput {
  outbound: Outbound;
  pings?: number;
  failures?: number;
}

export async function engineHeartbeat(input: EngineHeartbeatInput): Promise<void> {
  let outbound: Outbound | undefined = input.outbound;
  let pings = input.pings ?? 0;
  let failures = input.failures ?? 0;
  let changed = false;
  wf.setHandler(configureSignal, (raw: unknown) => {
    const c = outboundSchema.safeParse((raw as { outbound?: unknown } | null)?.outbound ?? undefined);
    if (!c.success) {
      wf.log.warn('engineHeartbeat: configure refused', { issues: c.error.issues.length });
      return;
    }
    outbound = c.data;
    changed = true;
  });
  for (let i = 0; i < PINGS_PER_RUN; i++) {
    if (!outbound) return; // switched off by the deployment
    changed = false;
    await wf.condition(() => changed, outbound.periodSeconds * 1000);
    if (changed || !outbound) continue;
    try {
      await ping.pingOutbound(outbound);
      pings += 1;
    } catch (err) {
      failures += 1;
      wf.log.warn('engineHeartbeat: no ping this period', { error: errorMessage(err) });
    }
  }
  await wf.condition(wf.allHandlersFinished);
  if (!outbound) return;
  return wf.continueAsNew<typeof engineHeartbeat>({ outbound, pings, failures });
}
