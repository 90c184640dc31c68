// Playbook 3.1-3.4 decision tables as pure functions: the procedure child workflows gather findings with
// activities, then ask these functions what the playbook says to do. No I/O, no clock: deterministic and
// tested row by row in test/playbook/procedures.test.ts.

// ---------- 3.1 P0: Trading System Down ----------

/** 3.1 "Resolution Actions" table, one id per row. */
export const TRADING_DOWN_CAUSES = [
  'api-container-crashed',
  'database-connection-lost',
  'model-file-corrupted',
  'memory-exhaustion',
  'network-partition',
] as const;
export type TradingDownCause = (typeof TRADING_DOWN_CAUSES)[number];

/** What the procedure does for a row: a gated remediation it can perform, or a step left to a human. */
export type Remediation =
  | { kind: 'restart-containers'; containers: string[] }
  | { kind: 'rollback-model' }
  | { kind: 'terminate-backends'; pids: number[] }
  | { kind: 'human'; step: string };

export interface TradingDownRow {
  cause: TradingDownCause;
  /** The playbook's words, quoted in findings and approval requests. */
  playbookCause: string;
  playbookResolution: string;
}

export const TRADING_DOWN_TABLE: Record<TradingDownCause, TradingDownRow> = {
  'api-container-crashed': {
    cause: 'api-container-crashed',
    playbookCause: 'API container crashed',
    playbookResolution: '`docker-compose restart trading-api inference-api`',
  },
  'database-connection-lost': {
    cause: 'database-connection-lost',
    playbookCause: 'Database connection lost',
    playbookResolution: 'Check PostgreSQL, restart if needed',
  },
  'model-file-corrupted': {
    cause: 'model-file-corrupted',
    playbookCause: 'Model file corrupted',
    playbookResolution: 'Rollback to previous model version',
  },
  'memory-exhaustion': {
    cause: 'memory-exhaustion',
    playbookCause: 'Memory exhaustion',
    playbookResolution: 'Restart containers, check for memory leaks',
  },
  'network-partition': {
    cause: 'network-partition',
    playbookCause: 'Network partition',
    playbookResolution: 'Check Docker network, recreate if needed',
  },
};

export type ReachError = 'refused' | 'timeout' | 'unresolved' | 'unreachable' | 'other';

/** One API as the 3.1 immediate checks saw it. */
export interface ServiceFacts {
  /** Logical container name of the service (e.g. trading-api, backtest-api). */
  container: string;
  reachable: boolean;
  /** How the connection failed when not reachable: refused = nothing listens (process gone). */
  reachError: ReachError | null;
  /** Health body says healthy (null when not reachable or not judged). */
  healthy: boolean | null;
  databaseConnected: boolean | null;
  modelLoaded: boolean | null;
}

export type ContainerState = 'running' | 'exited' | 'restarting' | 'dead' | 'paused' | 'created' | 'unknown';

export interface ContainerFacts {
  name: string;
  state: ContainerState;
  oomKilled: boolean | null;
}

export interface TradingDownFacts {
  services: ServiceFacts[];
  /** Container status (allow-listed command); null when not configured or it failed. */
  containers: ContainerFacts[] | null;
  /** SELECT 1 from the engine itself. */
  databaseReachable: boolean | null;
  redisReachable: boolean | null;
  /** Any model reported not loaded / stub (models list, health model_loaded, router ready). */
  modelNotLoaded: boolean;
  /** The service logs mention out-of-memory (MemoryError, OOMKilled, Cannot allocate memory). */
  logsShowOutOfMemory: boolean;
  killSwitch: { active: boolean; reason: string | null; activatedBy: string | null } | null;
  /** Containers the app restart acts on (config: the two APIs). */
  apiContainers: string[];
  /** Container that holds PostgreSQL, when restarting it is allow-listed. */
  databaseContainer: string | null;
}

export interface TradingDownDecision {
  cause: TradingDownCause;
  row: TradingDownRow;
  /** Why this row matched, in plain words. */
  evidence: string[];
  remediation: Remediation;
}

export interface TradingDownDiagnosis {
  causes: TradingDownDecision[];
  /** 3.1 immediate step 5: a kill switch is active while nothing in the table explains it. */
  resumeRequest: boolean;
}

/** Lines in service logs that mean the process ran out of memory. */
export const OUT_OF_MEMORY_PATTERN =
  /\b(MemoryError|OOMKilled|Out of memory|Cannot allocate memory|killed process .* out of memory)\b/i;
/** 3.1 diagnosis: `grep -E "(ERROR|CRITICAL|Exception)"`. */
export const LOG_ERROR_PATTERN = /(ERROR|CRITICAL|Exception)/;

/**
 * 3.1 "Resolution Actions": which rows the findings point to. Several rows may match (e.g. memory
 * exhaustion crashes a container: the OOM row wins for that container, since it adds the leak check).
 */
export function diagnoseTradingSystemDown(f: TradingDownFacts): TradingDownDiagnosis {
  const causes: TradingDownDecision[] = [];
  const containerOf = (name: string) => f.containers?.find((c) => c.name === name) ?? null;
  const down = f.services.filter((s) => !s.reachable);

  const oom = f.containers?.filter((c) => c.oomKilled === true).map((c) => c.name) ?? [];
  if (oom.length > 0 || f.logsShowOutOfMemory) {
    const evidence = [
      ...oom.map((n) => `container ${n} was OOM-killed`),
      ...(f.logsShowOutOfMemory ? ['service logs report out-of-memory errors'] : []),
    ];
    const oomApis = oom.filter((n) => f.apiContainers.includes(n));
    causes.push(
      decision('memory-exhaustion', evidence, {
        kind: 'restart-containers',
        containers: oomApis.length ? oomApis : f.apiContainers,
      }),
    );
  }

  // Crashed: nothing listens (connection refused) or the container is not running.
  const crashed = f.services.filter((s) => {
    const c = containerOf(s.container);
    const stopped = c !== null && ['exited', 'dead', 'restarting', 'created'].includes(c.state);
    return (!s.reachable && s.reachError === 'refused') || stopped;
  });
  const crashedNotOom = crashed.filter((s) => !oom.includes(s.container));
  if (crashedNotOom.length > 0) {
    causes.push(
      decision(
        'api-container-crashed',
        crashedNotOom.map((s) => {
          const c = containerOf(s.container);
          return c && c.state !== 'running'
            ? `container ${s.container} is ${c.state}`
            : `${s.container} refuses connections`;
        }),
        { kind: 'restart-containers', containers: f.apiContainers },
      ),
    );
  }

  // Partition: the process is up (or unknown) but the network does not get through.
  const partitioned = down.filter((s) => s.reachError !== 'refused' && !crashed.includes(s));
  if (partitioned.length > 0) {
    causes.push(
      decision(
        'network-partition',
        partitioned.map(
          (s) =>
            `${s.container} unreachable (${s.reachError ?? 'error'}) while its container is ${containerOf(s.container)?.state ?? 'of unknown state'}`,
        ),
        { kind: 'human', step: 'Check Docker network (`docker network inspect`), recreate if needed' },
      ),
    );
  }

  const dbDown = f.services
    .filter((s) => s.databaseConnected === false)
    .map((s) => `${s.container} reports database disconnected`);
  if (f.databaseReachable === false) dbDown.unshift('SELECT 1 from the incident engine failed');
  if (dbDown.length > 0) {
    causes.push(
      decision(
        'database-connection-lost',
        dbDown,
        f.databaseContainer
          ? { kind: 'restart-containers', containers: [f.databaseContainer] }
          : { kind: 'human', step: 'Check PostgreSQL (`pg_isready`, logs) and restart it if needed' },
      ),
    );
  }

  if (f.modelNotLoaded) {
    causes.push(
      decision('model-file-corrupted', ['a model is reported not loaded or a stub'], {
        kind: 'rollback-model',
      }),
    );
  }

  const resumeRequest = f.killSwitch?.active === true && causes.length === 0;
  return { causes, resumeRequest };
}

function decision(
  cause: TradingDownCause,
  evidence: string[],
  remediation: Remediation,
): TradingDownDecision {
  return { cause, row: TRADING_DOWN_TABLE[cause], evidence, remediation };
}

// ---------- 3.2 P1: Model Performance Degradation ----------

/** 3.2 "Resolution Options": Sharpe 0.5-0.8 minor, 0.3-0.5 significant, under 0.3 severe. */
export const SHARPE_MINOR_MAX = 0.8;
export const SHARPE_SIGNIFICANT_MAX = 0.5;
export const SHARPE_SEVERE_MAX = 0.3;
/** 3.2 rollback procedure step 4: "Monitor for 30 minutes post-rollback". */
export const POST_ROLLBACK_MONITOR_MINUTES = 30;
/** How often the Sharpe is read again while monitoring (our choice; the playbook says "closely"). */
export const MODEL_MONITOR_INTERVAL_MINUTES = 5;
/** 3.2 symptoms, reported with the findings. */
export const LOSS_STREAK_THRESHOLD = 5;
export const DRIFT_PSI_THRESHOLD = 0.2;
export const PREDICTION_ERROR_RATE_THRESHOLD = 0.05;
export const WIN_RATE_THRESHOLD = 0.4;

export type DegradationAction = 'none' | 'monitor' | 'shadow-comparison' | 'rollback' | 'unknown';

export interface DegradationDecision {
  action: DegradationAction;
  severity: 'none' | 'minor' | 'significant' | 'severe' | 'unknown';
  playbookAction: string;
}

/**
 * 3.2 table. Boundaries: a Sharpe of exactly 0.5 is "minor" (0.5-0.8), exactly 0.3 "significant"
 * (0.3-0.5); 0.8 and above is outside the table (no degradation by Sharpe).
 */
export function decideModelDegradation(sharpe: number | null): DegradationDecision {
  if (sharpe === null || !Number.isFinite(sharpe)) {
    return {
      action: 'unknown',
      severity: 'unknown',
      playbookAction: 'Sharpe ratio not available: a human judges the degradation',
    };
  }
  if (sharpe < SHARPE_SEVERE_MAX)
    return { action: 'rollback', severity: 'severe', playbookAction: 'Execute rollback to previous model' };
  if (sharpe < SHARPE_SIGNIFICANT_MAX)
    return {
      action: 'shadow-comparison',
      severity: 'significant',
      playbookAction: 'Activate shadow mode comparison',
    };
  if (sharpe < SHARPE_MINOR_MAX)
    return { action: 'monitor', severity: 'minor', playbookAction: 'Monitor closely, no immediate action' };
  return {
    action: 'none',
    severity: 'none',
    playbookAction: 'Sharpe ratio within normal range: no action from the 3.2 table',
  };
}

/** After a rollback (or while monitoring), the model degraded again: back to significant or severe. */
export function degradedAgain(sharpe: number | null): boolean {
  const a = decideModelDegradation(sharpe).action;
  return a === 'shadow-comparison' || a === 'rollback';
}

/** Consecutive losing trades from the newest one (3.2 symptom "Unusual loss streak (>5 consecutive losses)"). */
export function consecutiveLosses(pnlNewestFirst: readonly (number | null)[]): number {
  let n = 0;
  for (const p of pnlNewestFirst) {
    if (p === null || p >= 0) break;
    n++;
  }
  return n;
}

// ---------- 3.3 P1: Data Source Down (TwelveData) ----------

/** 3.3 "Mitigation Actions": <10 minutes, 10-60 minutes, >60 minutes. */
export const DATA_OUTAGE_WAIT_MAX_MINUTES = 10;
export const DATA_OUTAGE_KILL_SWITCH_AFTER_MINUTES = 60;
/** 3.3 symptom "OHLCV data stale (>10 minutes old)". */
export const DATA_STALE_AFTER_MINUTES = 10;
/**
 * "Data freshness restored": the latest 5-minute bar is at most one bar interval plus a minute of delivery
 * old (our threshold; the playbook gives none). The outage duration of the 3.3 table is the age of the latest bar.
 */
export const DATA_FRESH_MAX_MINUTES = 6;
/** Config may pre-approve this action: the playbook itself prescribes the kill switch after 60 minutes. */
export const KILL_SWITCH_DATA_OUTAGE_ACTION = 'kill-switch:data-outage-60m';
/** How often freshness is read while waiting for recovery, and how long before giving up to a human. */
export const DATA_OUTAGE_POLL_MINUTES = 1;
export const DATA_OUTAGE_MONITOR_MAX_MINUTES = 240;

export type DataOutageAction = 'wait' | 'confirm-pause' | 'kill-switch';

export interface DataOutageDecision {
  action: DataOutageAction;
  playbookAction: string;
}

/** 3.3 table. Boundaries: exactly 10 minutes is "10-60", exactly 60 is still "10-60"; over 60 kill switch. */
export function decideDataOutage(outageMinutes: number): DataOutageDecision {
  if (outageMinutes < DATA_OUTAGE_WAIT_MAX_MINUTES)
    return { action: 'wait', playbookAction: 'Wait for recovery, trading auto-paused' };
  if (outageMinutes <= DATA_OUTAGE_KILL_SWITCH_AFTER_MINUTES)
    return { action: 'confirm-pause', playbookAction: 'Manual pause confirmation, monitor status' };
  return { action: 'kill-switch', playbookAction: 'Activate kill switch, notify team' };
}

/** 3.3 step 5 "Verify trading auto-paused": paused or killed both stop trading. */
export function tradingStopped(mode: string | null): boolean {
  return mode === 'paused' || mode === 'killed';
}

export const CONSISTENCY_OK = ['passed', 'warning'] as const;

/** 3.3 "Recovery Verification": freshness restored and feature quality OK, then resume if trading was killed. */
export function verifyDataRecovery(v: { stalenessMinutes: number | null; consistency: string | null }): {
  recovered: boolean;
  reasons: string[];
} {
  const reasons: string[] = [];
  if (v.stalenessMinutes === null) reasons.push('no OHLCV data');
  else if (v.stalenessMinutes > DATA_FRESH_MAX_MINUTES)
    reasons.push(`data still ${v.stalenessMinutes.toFixed(1)} minutes old`);
  if (v.consistency === null) reasons.push('feature consistency unknown');
  else if (!(CONSISTENCY_OK as readonly string[]).includes(v.consistency))
    reasons.push(`feature consistency ${v.consistency}`);
  return { recovered: reasons.length === 0, reasons };
}

// ---------- 3.4 P2: Database Connection Issues ----------

export const DATABASE_CAUSES = [
  'connection-pool-exhausted',
  'long-running-queries',
  'database-overload',
  'disk-full',
] as const;
export type DatabaseCause = (typeof DATABASE_CAUSES)[number];

export const DATABASE_TABLE: Record<DatabaseCause, { playbookCause: string; playbookResolution: string }> = {
  'connection-pool-exhausted': {
    playbookCause: 'Connection pool exhausted',
    playbookResolution: 'Restart application containers',
  },
  'long-running-queries': {
    playbookCause: 'Long-running queries',
    playbookResolution: 'Identify and terminate',
  },
  'database-overload': {
    playbookCause: 'Database overload',
    playbookResolution: 'Scale up or optimize queries',
  },
  'disk-full': { playbookCause: 'Disk full', playbookResolution: 'Clear logs, archive old data' },
};

/** 3.4 immediate actions: "queries running over 1 minute". */
export const LONG_QUERY_MINUTES = 1;
/** Connections at or over this share of the limit count as an exhausted pool (our threshold). */
export const POOL_EXHAUSTED_RATIO = 0.9;
/** Active (non-idle) backends at or over this count, or SELECT 1 this slow, count as overload (our thresholds). */
export const OVERLOAD_ACTIVE_BACKENDS = 50;
export const OVERLOAD_PING_MS = 2000;
/** PostgreSQL's words for a full disk. */
export const DISK_FULL_PATTERN = /(No space left on device|could not extend file|disk full)/i;
/** PostgreSQL's words for a full connection table. */
export const TOO_MANY_CONNECTIONS_PATTERN =
  /(too many clients|remaining connection slots are reserved|too many connections)/i;

export interface LongQuery {
  pid: number;
  durationSeconds: number;
  query: string;
  queryStart: string;
  state: string | null;
}

export interface DatabaseFacts {
  reachable: boolean;
  /** Error text when SELECT 1 failed (too many clients, no space left, ...). */
  connectError: string | null;
  pingMs: number | null;
  connections: number | null;
  connectionLimit: number | null;
  activeBackends: number | null;
  longQueries: LongQuery[];
  /** Database logs (allow-listed command) or disk usage mention a full disk. */
  diskFull: boolean;
  appContainers: string[];
  thresholds?: { poolExhaustedRatio?: number; overloadActiveBackends?: number; overloadPingMs?: number };
}

export interface DatabaseDecision {
  cause: DatabaseCause;
  playbookCause: string;
  playbookResolution: string;
  evidence: string[];
  remediation: Remediation;
}

/** 3.4 "Resolution" table: every row whose evidence is present, in table order. */
export function diagnoseDatabase(f: DatabaseFacts): DatabaseDecision[] {
  const ratio = f.thresholds?.poolExhaustedRatio ?? POOL_EXHAUSTED_RATIO;
  const maxActive = f.thresholds?.overloadActiveBackends ?? OVERLOAD_ACTIVE_BACKENDS;
  const maxPing = f.thresholds?.overloadPingMs ?? OVERLOAD_PING_MS;
  const out: DatabaseDecision[] = [];
  const row = (cause: DatabaseCause, evidence: string[], remediation: Remediation) =>
    out.push({ cause, ...DATABASE_TABLE[cause], evidence, remediation });

  const poolEvidence: string[] = [];
  if (f.connectError && TOO_MANY_CONNECTIONS_PATTERN.test(f.connectError))
    poolEvidence.push(`connect failed: ${f.connectError}`);
  if (
    f.connections !== null &&
    f.connectionLimit !== null &&
    f.connectionLimit > 0 &&
    f.connections >= ratio * f.connectionLimit
  ) {
    poolEvidence.push(
      `${f.connections} connections of a limit of ${f.connectionLimit} (>= ${Math.round(ratio * 100)}%)`,
    );
  }
  if (poolEvidence.length)
    row('connection-pool-exhausted', poolEvidence, {
      kind: 'restart-containers',
      containers: f.appContainers,
    });

  if (f.longQueries.length) {
    row(
      'long-running-queries',
      f.longQueries.map(
        (q) => `pid ${q.pid} running ${formatDuration(q.durationSeconds)}: ${truncate(q.query, 200)}`,
      ),
      { kind: 'terminate-backends', pids: f.longQueries.map((q) => q.pid) },
    );
  }

  const overload: string[] = [];
  if (f.activeBackends !== null && f.activeBackends >= maxActive)
    overload.push(`${f.activeBackends} active backends (>= ${maxActive})`);
  if (f.pingMs !== null && f.pingMs >= maxPing)
    overload.push(`SELECT 1 took ${Math.round(f.pingMs)} ms (>= ${maxPing} ms)`);
  if (overload.length)
    row('database-overload', overload, {
      kind: 'human',
      step: 'Scale up the database or optimize the slow queries',
    });

  const disk: string[] = [];
  if (f.diskFull) disk.push('database logs or disk usage report a full disk');
  if (f.connectError && DISK_FULL_PATTERN.test(f.connectError))
    disk.push(`connect failed: ${f.connectError}`);
  if (disk.length)
    row('disk-full', disk, { kind: 'human', step: 'Clear logs and archive old data to free disk space' });

  return out;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m < 60
    ? `${m}m${String(s).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

// ---------- approval gate ----------

/** An unanswered approval request is escalated this many times, then the procedure gives up to a human. */
export const APPROVAL_MAX_ESCALATIONS = 3;
export const CONFIRM_RESUME = 'CONFIRM_RESUME';
