// What every platform activity module shares: the finding a check answers, the context each backend's
// factory is built from, and the heartbeat that lets the workflows use a short heartbeatTimeout.
import { Context, heartbeat } from '@temporalio/activity';
import type { PlatformConfig, PlatformPaths } from '../../platform/config';
import type { CommandRunner } from './commands';
import type { WithDb } from './database';
import type { PlatformHttp } from './http';

/**
 * How a check went: `answered` (a measurement; src/playbook/readings.ts judges what it shows), `unknown` (no
 * answer: error, timeout, unreachable, unparseable) or `unavailable` (not on this deployment). Activities
 * observe; they never say ok or failed (DESIGN "Evidence rule").
 */
export type FindingOutcome = 'answered' | 'unavailable' | 'unknown';

/** What a check observed; `data` carries the raw measurement the judges and decision tables read. */
export interface CheckFinding<D> {
  check: string;
  outcome: FindingOutcome;
  text: string;
  data: D;
}

export type Service = 'trading' | 'inference';
export type PathKey = keyof PlatformPaths;

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
