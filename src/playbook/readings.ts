// Judging the platform's readings (3.1-3.4 and 5.2): the activities observe and return raw measurements,
// these pure functions say what a measurement that *answered* shows, with every threshold named after its
// playbook section. A check that did not answer never reaches a judge: it is `unknown` (src/playbook/evidence.ts).
import type { Evidence } from './evidence';
import {
  DATA_STALE_AFTER_MINUTES,
  LOG_ERROR_PATTERN,
  DRIFT_PSI_THRESHOLD,
  LOSS_STREAK_THRESHOLD,
  OVERLOAD_ACTIVE_BACKENDS,
  POOL_EXHAUSTED_RATIO,
  PREDICTION_ERROR_RATE_THRESHOLD,
  SHARPE_MINOR_MAX,
  STOPPED_CONTAINER_STATES,
  WIN_RATE_THRESHOLD,
  type ContainerState,
} from './procedures';

/** Deployment overrides of the 3.4 thresholds (platform config), else the playbook defaults. */
export interface ReadingThresholds {
  poolExhaustedRatio?: number;
  overloadActiveBackends?: number;
}

/** 3.3 diagnosis: data pipeline log lines that say the provider is failing us. */
export const DATA_PROVIDER_TROUBLE_PATTERN = /timeout|rate limit|429/i;

/** Health bodies that mean healthy (5.2 "System health"). */
export const HEALTHY_STATUSES = ['healthy', 'ok'] as const;
/** Data sources in these states are fine (3.3 diagnosis "fallback data source"). */
export const SOURCE_OK_STATUSES = ['ok', 'healthy', 'standby', 'active'] as const;

/**
 * SQLSTATE classes that mean PostgreSQL itself is in trouble (3.1 "Database connection lost", 3.4): 53
 * insufficient resources (disk full, out of memory, too many connections), 57P0x shutting down or starting,
 * 58 system error, XX internal. Others (28 bad password, 3D no such database, 42 no such table) are the
 * engine's own configuration: no evidence against the database.
 */
export const DATABASE_FAULT_SQLSTATE = /^(53|57P0|58|XX)/;
export const isDatabaseFault = (sqlState: string | null): boolean =>
  sqlState !== null && DATABASE_FAULT_SQLSTATE.test(sqlState);

type Data = Record<string, unknown>;
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * Model statuses of GET /models, as the real inference API computes them (routers/models.py `list_models`):
 * `loaded` is in memory; `available` exists (its file is present, or the model is synthetic) and is loaded
 * on first use, so a healthy platform lists active models that are only `available` (the repository's own
 * seed does); `not_found` is an active model whose file is missing.
 */
export const MODEL_HEALTHY_STATUSES = ['loaded', 'available'] as const;
/** The statuses that show the 3.1 "Model file corrupted" fault: the model's file is not there. */
export const MODEL_FAULT_STATUSES = ['not_found'] as const;
/** The version a platform reports for a stub serving in place of the real artifact. */
export const STUB_MODEL_VERSION = 'stub';

export interface ModelStatus {
  modelId: string;
  status: string;
  version: string | null;
}

/** Models that show the 3.1 "Model file corrupted" fault: file missing (`not_found`) or a stub loaded. */
export function faultyModels(models: readonly ModelStatus[]): string[] {
  return models
    .filter(
      (m) =>
        (MODEL_FAULT_STATUSES as readonly string[]).includes(m.status) ||
        (m.status === 'loaded' && m.version === STUB_MODEL_VERSION),
    )
    .map((m) => m.modelId);
}

/** Models whose status is none the platform is known to report: no evidence either way. */
export function unrecognisedModels(models: readonly ModelStatus[]): string[] {
  return models
    .filter(
      (m) =>
        !(MODEL_HEALTHY_STATUSES as readonly string[]).includes(m.status) &&
        !(MODEL_FAULT_STATUSES as readonly string[]).includes(m.status),
    )
    .map((m) => m.modelId);
}

/**
 * What a models list shows. A fault anywhere is `failed`. An empty list is `unknown`: the real API answers
 * one when it cannot read its registry (`load_model_configs_from_db` swallows the error), which says
 * nothing about the models. A status nobody documented is `unknown` too, never a guess.
 */
export function judgeModels(models: readonly ModelStatus[]): Evidence {
  if (faultyModels(models).length > 0) return 'failed';
  if (models.length === 0 || unrecognisedModels(models).length > 0) return 'unknown';
  return 'ok';
}

/**
 * What an answered reading shows. `check` is the activity's check id (`health:<container>`, `logs:<c>`, ...).
 * Unknown ids and readings without the fields a judgement needs are `unknown`.
 */
export function judgeReading(check: string, d: Data, t: ReadingThresholds = {}): Evidence {
  const kind = check.includes(':') ? check.slice(0, check.indexOf(':')) : check;
  switch (kind) {
    case 'health': {
      const status = str(d.status);
      if (status === null) return 'unknown';
      const healthy =
        (HEALTHY_STATUSES as readonly string[]).includes(status.toLowerCase()) &&
        d.databaseConnected !== false &&
        d.modelLoaded !== false;
      return healthy ? 'ok' : 'failed';
    }
    case 'operations-status':
      return d.mode === 'normal' ? 'ok' : d.mode === 'paused' || d.mode === 'killed' ? 'failed' : 'unknown';
    case 'models':
      return Array.isArray(d.models) ? judgeModels(d.models as ModelStatus[]) : 'unknown';
    case 'router-status':
      if (d.enabled !== true) return 'unknown'; // a disabled router says nothing about the models
      return d.ready === false ? 'failed' : 'ok';
    case 'router-history':
    case 'shadow-comparison':
      return 'ok';
    case 'drift': {
      const score = num(d.score);
      const detected =
        typeof d.driftDetected === 'boolean'
          ? d.driftDetected
          : score === null
            ? null
            : score > DRIFT_PSI_THRESHOLD; // 3.2 "PSI > 0.2"
      return detected === null ? 'unknown' : detected ? 'failed' : 'ok';
    }
    case 'model-metrics': {
      const sharpe = num(d.sharpe);
      const errorRate = num(d.errorRate);
      const winRate = num(d.winRate);
      if (sharpe === null && errorRate === null && winRate === null) return 'unknown';
      // 3.2 symptoms: Sharpe under 0.8 (the table's top), prediction errors over 5%, win rate under 40%.
      const bad =
        (sharpe !== null && sharpe < SHARPE_MINOR_MAX) ||
        (errorRate !== null && errorRate > PREDICTION_ERROR_RATE_THRESHOLD) ||
        (winRate !== null && winRate < WIN_RATE_THRESHOLD);
      return bad ? 'failed' : 'ok';
    }
    case 'consistency': {
      const s = str(d.status);
      return s === null ? 'unknown' : s === 'passed' || s === 'warning' ? 'ok' : 'failed';
    }
    case 'data-status':
      return typeof d.stale === 'boolean' ? (d.stale ? 'failed' : 'ok') : 'unknown';
    case 'data-sources': {
      const sources = Array.isArray(d.sources) ? (d.sources as { status: string }[]) : null;
      if (sources === null || sources.length === 0) return 'unknown';
      return sources.some((s) => !(SOURCE_OK_STATUSES as readonly string[]).includes(s.status))
        ? 'failed'
        : 'ok';
    }
    case 'rollback-targets':
      return Array.isArray(d.targets) && d.targets.length > 0 ? 'ok' : 'failed';
    case 'recent-trades': {
      const losses = num(d.consecutiveLosses);
      return losses === null ? 'unknown' : losses > LOSS_STREAK_THRESHOLD ? 'failed' : 'ok'; // 3.2 "> 5 consecutive losses"
    }
    case 'data-freshness': {
      // No bar at all (empty table, wrong table or symbol) is no measurement of the outage: unknown.
      const minutes = num(d.stalenessMinutes);
      return minutes === null ? 'unknown' : minutes > DATA_STALE_AFTER_MINUTES ? 'failed' : 'ok'; // 3.3 "> 10 minutes old"
    }
    case 'database':
      // SELECT 1 answered: the database is up (slowness is 3.4's overload row, judged there). It answered
      // with an error of its own (SQLSTATE: too many clients, disk full): positive evidence of a fault. A
      // connection that failed says nothing about the database (our network, DNS, credentials): unknown.
      if (d.reachable === true) return 'ok';
      return isDatabaseFault(str(d.sqlState)) ? 'failed' : 'unknown';
    case 'database-connections': {
      const n = num(d.connections);
      const limit = num(d.limit);
      const active = num(d.active);
      if (n === null) return 'unknown';
      const exhausted =
        limit !== null && limit > 0 && n >= (t.poolExhaustedRatio ?? POOL_EXHAUSTED_RATIO) * limit;
      const overloaded = active !== null && active >= (t.overloadActiveBackends ?? OVERLOAD_ACTIVE_BACKENDS);
      return exhausted || overloaded ? 'failed' : 'ok';
    }
    case 'long-running-queries':
      return Array.isArray(d.queries) ? (d.queries.length ? 'failed' : 'ok') : 'unknown';
    case 'redis':
      return d.reachable === true ? 'ok' : 'unknown';
    case 'containers': {
      const cs = Array.isArray(d.containers)
        ? (d.containers as { state: string; oomKilled: boolean | null }[])
        : null;
      if (cs === null) return 'unknown';
      if (
        cs.some(
          (c) =>
            c.oomKilled === true ||
            [...STOPPED_CONTAINER_STATES, 'paused'].includes(c.state as ContainerState),
        )
      )
        return 'failed';
      return cs.every((c) => c.state === 'running') ? 'ok' : 'unknown';
    }
    case 'logs': {
      const lines = Array.isArray(d.lines) ? (d.lines as string[]) : [];
      // 3.1 `grep -E "(ERROR|CRITICAL|Exception)"`; 3.3 twelvedata lines that report errors or rate limits.
      const problems =
        d.filter === 'twelvedata'
          ? lines.some((l) => LOG_ERROR_PATTERN.test(l) || DATA_PROVIDER_TROUBLE_PATTERN.test(l))
          : lines.length > 0;
      return problems || d.outOfMemory === true || d.diskFull === true ? 'failed' : 'ok';
    }
    case 'airflow':
      return d.latestState === 'failed' ? 'failed' : d.dagId ? 'ok' : 'unknown';
    case 'data-provider':
      return str(d.indicator) === null ? 'unknown' : d.indicator === 'none' ? 'ok' : 'failed';
    default:
      return 'unknown';
  }
}
