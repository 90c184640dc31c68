// What every platform activity module shares: the context each backend's factory is built from, and the
// heartbeat that lets the workflows use a short heartbeatTimeout. The finding a check answers is in
// ./finding.
import { Context, heartbeat } from '@temporalio/activity';
import type { PlatformConfig } from '../../platform/config';
import type { CommandRunner } from './commands';
import type { WithDb } from './database';
import type { PlatformHttp } from './http';

/** Built once per worker by createProcedureActivities; every backend factory reads what it needs from it. */
export interface PlatformContext {
  cfg: PlatformConfig;
  /** The platform's APIs (and Airflow, the status page) over undici: http.ts. */
  http: PlatformHttp;
  /** The allow-listed commands (docker ps/inspect/logs/restart): commands.ts. */
  commands: CommandRunner;
  /** One short-lived connection to the trading database per call: database.ts. */
  withDb: WithDb;
}

function currentActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Heartbeats while a remediation runs, so a worker that dies is noticed within the heartbeat timeout. */
export async function withHeartbeat<T>(fn: () => Promise<T>): Promise<T> {
  if (!currentActivity()) return fn();
  heartbeat();
  const timer = setInterval(() => heartbeat(), 1_000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

export function logInfo(message: string, attrs: Record<string, unknown>): void {
  currentActivity()?.log.info(message, attrs);
}
