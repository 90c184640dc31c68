// The worker's start-up sync of the deployment's `heartbeats:` section with Temporal: every declared monitor
// runs (created `waiting` if it never heard a beat) with the spec the config gives it now, and the engine's
// outbound ping runs when configured and stops when it no longer is.
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import {
  ENGINE_MONITOR,
  HEARTBEAT_WORKFLOW_TYPE,
  heartbeatWorkflowId,
  OUTBOUND_WORKFLOW_ID,
  OUTBOUND_WORKFLOW_TYPE,
  type HeartbeatsConfig,
} from '../playbook/contract/heartbeat';
import { HeartbeatStateKey } from '../workflows/definitions';
import { configureSignal, monitorStatusQuery } from '../workflows/heartbeat-definitions';

export interface HeartbeatSyncReport {
  monitors: string[];
  /** Monitors the config made and no longer declares: ended (an incident they opened stays for a human). */
  retired: string[];
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
  const retired = await retireUndeclared(client, config, opts.taskQueue);
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
    return { monitors, retired, outbound: 'started-or-configured' };
  }
  try {
    await client.workflow.getHandle(OUTBOUND_WORKFLOW_ID).signal(configureSignal, { outbound: null });
    return { monitors, retired, outbound: 'stopped' };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return { monitors, retired, outbound: 'off' };
    throw err;
  }
}

/**
 * Running monitors of this task queue that the config made (`config`, or `outbound` for the engine's) and no
 * longer declares: their beats would now be refused (404), so left running they would call a silence. Ended
 * with the reason; monitors made by the Watchdog or by a first beat are left alone.
 */
async function retireUndeclared(
  client: Client,
  config: HeartbeatsConfig | undefined,
  taskQueue: string,
): Promise<string[]> {
  const declared = new Set((config?.monitors ?? []).map((m) => m.name));
  if (config?.outbound) declared.add(ENGINE_MONITOR);
  const retired: string[] = [];
  for await (const w of client.workflow.list({
    query: `WorkflowType = '${HEARTBEAT_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`,
  })) {
    const handle = client.workflow.getHandle(w.workflowId);
    const st = await handle.query(monitorStatusQuery).catch(() => null);
    if (!st || declared.has(st.name) || (st.createdBy !== 'config' && st.createdBy !== 'outbound')) continue;
    await handle
      .terminate(`monitor ${st.name} is no longer declared in INCIDENT_CONFIG heartbeats`)
      .catch((err: unknown) => {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      });
    retired.push(st.name);
  }
  return retired;
}
