// Activities of the playbook procedures 3.1-3.4: the "Immediate actions" and "Diagnosis" checks, and the
// mutating remediations the approval gate lets through. Side effects only; every decision is taken by
// src/playbook/procedures.ts in the workflow.
//
// Findings, not crashes: a check answers a finding (ok | failed | unavailable | unknown) for anything the
// platform does (down, 5xx, 404, a body that says unhealthy or carries `error`); it throws only for our
// own mistakes (a 4xx other than 404 -> non-retryable ApplicationFailure: fix the config, not retry).
//
// One module per backend: trading-api.ts, inference-api.ts, database.ts (pg), redis.ts, commands.ts (the
// allow-list: docker ps/inspect/logs), airflow.ts, data-provider.ts; every mutating call is in
// remediations.ts, whose header lists how each is guarded against a retried activity.
import type { Dispatcher } from 'undici';
import type { PlatformConfig } from '../../platform/config';
import { createAirflowChecks } from './airflow';
import { createCommandChecks, createCommandRunner } from './commands';
import { withHeartbeat, type PlatformContext } from './context';
import { createDataProviderChecks } from './data-provider';
import { createDatabaseChecks, createWithDb } from './database';
import { createPlatformHttp } from './http';
import { createInferenceApiChecks } from './inference-api';
import { createRedisChecks } from './redis';
import { createRemediations } from './remediations';
import { checkSafetyHold, temporalHolderLookup, type GuardDeps, type HolderLookup } from './safety-holds';
import { createTradingApiChecks, readOperationsStatus } from './trading-api';

export type { CheckFinding, FindingOutcome } from './finding';
export { classifyReachError } from './http';

export interface ProcedureActivityDeps {
  platform: PlatformConfig;
  /** undici dispatcher (tests point it anywhere); default an Agent with the config's timeouts. */
  dispatcher?: Dispatcher;
  /** Who holds a kill switch the engine set: default, that incident's `status` through the worker's client. */
  lookupHolder?: HolderLookup;
}

export function createProcedureActivities(deps: ProcedureActivityDeps) {
  const cfg = deps.platform;
  const ctx: PlatformContext = {
    cfg,
    http: createPlatformHttp(cfg, deps.dispatcher),
    commands: createCommandRunner(cfg),
    withDb: createWithDb(cfg),
  };
  const database = createDatabaseChecks(ctx);
  const guard: GuardDeps = {
    async operations() {
      const out = await readOperationsStatus(ctx);
      if (out.kind !== 'ok') return null;
      const b = out.body;
      return {
        mode: b.mode,
        killSwitchActive: b.kill_switch_active,
        activatedAt: b.activated_at ?? null,
        activatedBy: b.activated_by ?? null,
        reason: b.reason ?? null,
      };
    },
    async stalenessMinutes() {
      const f = await database.checkDataFreshness();
      return f.outcome === 'answered' ? f.data.stalenessMinutes : null;
    },
    lookupHolder: deps.lookupHolder ?? temporalHolderLookup(),
  };

  return heartbeating({
    /** What this worker's platform config offers; the procedure plans its steps from it (recorded in history). */
    async platformCapabilities(): Promise<{
      profile: string;
      championModelId: string;
      apiContainers: string[];
      databaseContainer: string;
      airflowScheduler: string;
      commands: string[];
      airflowConfigured: boolean;
      dataProviderConfigured: boolean;
      databaseThresholds: {
        poolExhaustedRatio: number;
        overloadActiveBackends: number;
        overloadPingMs: number;
      };
    }> {
      return {
        profile: cfg.profile,
        championModelId: cfg.championModelId,
        apiContainers: [cfg.containers.apis.trading, cfg.containers.apis.inference],
        databaseContainer: cfg.containers.database,
        airflowScheduler: cfg.containers.airflowScheduler,
        commands: Object.keys(cfg.commands).sort(),
        airflowConfigured: cfg.airflow !== undefined,
        dataProviderConfigured: cfg.dataProvider !== undefined,
        databaseThresholds: {
          poolExhaustedRatio: cfg.database.poolExhaustedRatio,
          overloadActiveBackends: cfg.database.overloadActiveBackends,
          overloadPingMs: cfg.database.overloadPingMs,
        },
      };
    },

    ...createTradingApiChecks(ctx),
    ...createInferenceApiChecks(ctx),
    ...database,
    ...createRedisChecks(ctx),
    ...createCommandChecks(ctx),
    ...createAirflowChecks(ctx),
    ...createDataProviderChecks(ctx),

    /** Before a resume request (3.1): is the active kill switch another open incident's safety hold? */
    async checkSafetyHold(input: { incidentId: string }) {
      return checkSafetyHold(guard, input.incidentId);
    },

    // mutating: only behind the approval gate, each guarded (remediations.ts)
    ...createRemediations(ctx, guard),
  });
}

/**
 * Every activity heartbeats while it runs (checks may wait on several commands or timeouts), so the
 * workflows can use a short heartbeatTimeout and a killed worker's activity is retried within seconds.
 */
function heartbeating<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    out[name] = (...args: never[]) => withHeartbeat(() => fn(...args));
  }
  return out as T;
}

export type ProcedureActivities = ReturnType<typeof createProcedureActivities>;
