// The worker's start-up sync of the deployment's `heartbeats:` section with Temporal: every declared monitor
// runs (created `waiting` if it never heard a beat) with the spec the config gives it now, and the engine's
// outbound ping runs when configured and stops when it no longer is.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  HEARTBEAT_WORKFLOW_TYPE,
  heartbeatWorkflowId,
  OUTBOUND_WORKFLOW_ID,
  OUTBOUND_WORKFLOW_TYPE,
  type HeartbeatsConfig,
} from '../playbook/contract/heartbeat';
import { HeartbeatStateKey } from '../workflows/definitions';
import { configureSignal } from '../workflows/heartbeat-definitions';

export interface HeartbeatSyncReport {
  monitors: string[];
  outbound: 'started-or-configured' | 'stopped' | 'off';
}

export async function syncHeartbeats(
  client: Client,
  config: HeartbeatsConfig | undefined,
  opts: { taskQueue: string; incidentTimeScale?: number },
): Promise<HeartbeatSyncReport> {
  const monitors: string[] = [];
  for (const spec of config?.monitors ?? []) {
    await client.workflow.signalWithStart(HEARTBEAT_WORKFLOW_TYPE, {
      workflowId: heartbeatWorkflowId(spec.name),
      taskQueue: opts.taskQueue,
      args: [{ spec, createdBy: 'config', incidentTimeScale: opts.incidentTimeScale ?? 1 }],
      signal: configureSignal,
      signalArgs: [{ spec, by: 'config' }],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `Heartbeat monitor ${spec.name}`,
      typedSearchAttributes: [{ key: HeartbeatStateKey, value: 'waiting' }],
    });
    monitors.push(spec.name);
  }
  const outbound = config?.outbound;
  if (outbound) {
    await client.workflow.signalWithStart(OUTBOUND_WORKFLOW_TYPE, {
      workflowId: OUTBOUND_WORKFLOW_ID,
      taskQueue: opts.taskQueue,
      args: [{ outbound }],
      signal: configureSignal,
      signalArgs: [{ outbound }],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
      staticSummary: `Engine heartbeat out every ${outbound.periodSeconds} s`,
    });
    return { monitors, outbound: 'started-or-configured' };
  }
  try {
    await client.workflow.getHandle(OUTBOUND_WORKFLOW_ID).signal(configureSignal, { outbound: null });
    return { monitors, outbound: 'stopped' };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { monitors, outbound: 'off' };
    throw err;
  }
}
