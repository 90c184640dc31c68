// The Temporal surface of a heartbeat monitor (DESIGN "Heartbeats") and of the engine's outbound ping: signal
// and query names operators type. Payloads: src/playbook/contract/heartbeat.ts.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { MonitorStatus } from '../playbook/contract/heartbeat';

/** `beat {source?, at?}`: pushes the monitor's deadline back (checked inside; a bad payload is counted, not a beat). */
export const beatSignal = defineSignal<[unknown]>('beat');
/** `configure {spec, by}`: the deployment's current spec (the worker's start-up sync sends it). */
export const configureSignal = defineSignal<[unknown]>('configure');
/** `status` -> {name, periodSeconds, graceSeconds, lastBeatAt, deadline, state, incidentWorkflowId?, ...}. */
export const monitorStatusQuery = defineQuery<MonitorStatus>('status');
