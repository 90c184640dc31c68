// Wire contracts of the simulated trading platform (../shared/trading-platform.md) and of the
// simulator's own fault API. Request types are inferred from these schemas, never written twice.
import { z } from 'zod';

export const PROFILES = ['playbook', 'deployed'] as const;
export const ProfileSchema = z.enum(PROFILES);
export type Profile = z.infer<typeof ProfileSchema>;

export const SERVICES = ['trading', 'inference'] as const;
export const ServiceSchema = z.enum(SERVICES);
export type Service = z.infer<typeof ServiceSchema>;

// The operations router's pydantic models: defaults as in the real code, `reason` and
// `confirmation_code` required (missing -> 400 validation envelope).
export const KillSwitchBody = z.object({
  reason: z.string(),
  activated_by: z.string().default('dashboard'),
  close_positions: z.boolean().default(true),
  notify_team: z.boolean().default(true),
});
export const ResumeBody = z.object({
  resumed_by: z.string().default('dashboard'),
  confirmation_code: z.string(),
});
export const PauseBody = z.object({
  paused_by: z.string().default('dashboard'),
  reason: z.string().default('Manual pause'),
});
export const RollbackBody = z.object({
  target_version: z.number().int().optional(),
  reason: z.string(),
  initiated_by: z.string().default('dashboard'),
});

/** The playbook's only resume code (3.1 step 5, 3.3 recovery step 3). */
export const CONFIRM_RESUME = 'CONFIRM_RESUME';

export const HistoryQuery = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(20) });
export const MetricsQuery = z.object({
  window: z
    .string()
    .regex(/^[1-9][0-9]{0,2}[hd]$/, 'window must look like 24h or 7d')
    .default('7d'),
});
export const ModelIdParams = z.object({ model_id: z.string().min(1) });

// ---- fault injection (simulator only) --------------------------------------------------------

const HttpMethod = z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
/** An exact path (no query string), or a prefix ending in `*`. */
const RoutePattern = z.string().regex(/^\/[^?\s]*\*?$/, 'path must start with / and may end with *');

export const HttpErrorFault = z.strictObject({
  service: ServiceSchema.optional(),
  method: HttpMethod.optional(),
  path: RoutePattern,
  status: z.number().int().min(500).max(599).default(500),
});
export type HttpErrorFault = z.infer<typeof HttpErrorFault>;

export const SlowResponseFault = z.strictObject({
  service: ServiceSchema.optional(),
  method: HttpMethod.optional(),
  path: RoutePattern.default('/*'),
  delayMs: z.number().int().min(0).max(600_000),
});
export type SlowResponseFault = z.infer<typeof SlowResponseFault>;

export const ModelFault = z.enum(['loaded', 'not_loaded', 'stub']);
export const RollbackFault = z.enum(['ok', 'fail', 'no_target']);

/**
 * POST /__sim/faults body. Every key is optional and sets that one fault; the neutral value
 * (`[]`, `null`, `0`, `false`, `"loaded"`, `"ok"`) clears it. Unknown keys are rejected (400).
 */
export const FaultPatch = z.strictObject({
  /** 3.1: connection refused; the listener is really closed and reopened on clear. */
  serviceDown: z.array(ServiceSchema).optional(),
  /** 3.1/3.4: "API returning 5xx errors consistently" / "Intermittent 500 errors". */
  httpErrors: z.array(HttpErrorFault).optional(),
  slowResponses: z.array(SlowResponseFault).optional(),
  /** 3.1: "Kill switch triggered unexpectedly". */
  killSwitch: z
    .strictObject({ reason: z.string().min(1), activated_by: z.string().min(1).default('risk_monitor') })
    .nullable()
    .optional(),
  /** 3.3 "trading auto-paused": puts operations in mode `paused` without counting a pause call. */
  tradingPaused: z
    .strictObject({
      reason: z.string().min(1).default('Data source stale: auto-pause'),
      paused_by: z.string().min(1).default('data_monitor'),
    })
    .nullable()
    .optional(),
  /** 3.2 resolution table thresholds 0.8 / 0.5 / 0.3. */
  sharpeRatio: z.number().min(-10).max(10).nullable().optional(),
  /** 3.2 symptom "Feature drift alerts triggered (PSI >0.2)". */
  driftScore: z.number().min(0).max(10).nullable().optional(),
  /** The deployed /monitoring/drift may answer canned `_demo: true` data. */
  driftDemoData: z.boolean().optional(),
  /** 3.3: the latest USD/COP bar is moved this many minutes into the past (0 = fresh again). */
  staleDataMinutes: z.number().min(0).max(100_000).optional(),
  /** 3.4: a real `SELECT pg_sleep(seconds)` in another backend; null cancels it. */
  longRunningQuery: z
    .strictObject({ seconds: z.number().positive().max(86_400) })
    .nullable()
    .optional(),
  /** 3.1 "Check Redis": the simulator cannot stop Redis, so it closes its relay in front of it. */
  redisUnreachable: z.boolean().optional(),
  /** 3.1 "Model file corrupted" / NoModelsLoaded. */
  model: ModelFault.optional(),
  /** 3.2 rollback procedure failure modes. */
  rollback: RollbackFault.optional(),
  /** 3.2 symptom "Unusual loss streak (>5 consecutive losses)": losing trades really inserted. */
  consecutiveLosses: z.number().int().min(0).max(500).optional(),
  /** 3.4 "PostgreSQL not responding" as the services report it (health says disconnected). */
  databaseDisconnected: z.boolean().optional(),
});
export type FaultPatch = z.input<typeof FaultPatch>;

export interface ActiveFaults {
  serviceDown: Service[];
  httpErrors: HttpErrorFault[];
  slowResponses: SlowResponseFault[];
  killSwitch: { reason: string; activated_by: string } | null;
  tradingPaused: { reason: string; paused_by: string } | null;
  sharpeRatio: number | null;
  driftScore: number | null;
  driftDemoData: boolean;
  staleDataMinutes: number;
  longRunningQuery: { seconds: number } | null;
  redisUnreachable: boolean;
  model: z.infer<typeof ModelFault>;
  rollback: z.infer<typeof RollbackFault>;
  consecutiveLosses: number;
  databaseDisconnected: boolean;
}

export function noFaults(): ActiveFaults {
  return {
    serviceDown: [],
    httpErrors: [],
    slowResponses: [],
    killSwitch: null,
    tradingPaused: null,
    sharpeRatio: null,
    driftScore: null,
    driftDemoData: false,
    staleDataMinutes: 0,
    longRunningQuery: null,
    redisUnreachable: false,
    model: 'loaded',
    rollback: 'ok',
    consecutiveLosses: 0,
    databaseDisconnected: false,
  };
}

export const SimulatorOptionsSchema = z.strictObject({
  profile: ProfileSchema,
  host: z.string().min(1).default('127.0.0.1'),
  tradingPort: z.number().int().min(0).max(65535).default(0),
  inferencePort: z.number().int().min(0).max(65535).default(0),
  /** A third listener serving only /__sim, so faults can be cleared while both services are down. */
  controlPort: z.number().int().min(0).max(65535).default(0),
  databaseUrl: z
    .string()
    .min(1)
    .default(process.env.SIM_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/usdcop_trading_sim'),
  /** Truncate and reseed the tables at start (default true); false keeps existing rows. */
  resetData: z.boolean().default(true),
  /** The real Redis behind the relay (the simulator never touches it: it only forwards bytes). */
  redisUrl: z
    .string()
    .min(1)
    .default(process.env.SIM_REDIS_URL ?? 'redis://127.0.0.1:6379'),
  /** The relay to `redisUrl` that the engine's config points at; `redisUnreachable` closes it. */
  redisPort: z.number().int().min(0).max(65535).default(0),
  /** Optional auth as designed (X-API-Key or Bearer); the real deployment enforces none. */
  apiKey: z.string().min(1).optional(),
  /** How often a fresh 5-minute bar is appended while data is not faulted stale. */
  freshnessTickMs: z.number().int().min(100).default(30_000),
  logger: z.boolean().default(false),
});
export type SimulatorOptions = z.input<typeof SimulatorOptionsSchema>;
export type ResolvedOptions = z.infer<typeof SimulatorOptionsSchema>;

export const MUTATING_CALLS = ['killSwitch', 'resume', 'pause', 'rollback', 'reload'] as const;
export type MutatingCall = (typeof MUTATING_CALLS)[number];
