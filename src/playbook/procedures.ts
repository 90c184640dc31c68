// Playbook 3.1-3.4 decision tables as pure functions: the procedure child workflows gather findings with
// activities, then ask these functions what the playbook says to do. No I/O, no clock: deterministic and
// tested row by row in test/playbook/procedures.test.ts.

import { unverifiedStep, type Justification, type Reading, type Requirement } from './evidence';

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
  /** The health reading: ok (healthy body), failed (an unhealthy body), unknown (no answer). */
  health: Reading;
  /** How the connection failed when there was no answer: refused = nothing listens on the port. */
  reachError: ReachError | null;
  /** From an answered health body (null when not reported or no answer). */
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
  /** Container status (allow-listed command): the reading and, when it answered, the containers. */
  containers: { reading: Reading; list: ContainerFacts[] | null };
  /** SELECT 1 from the engine itself: failed only when PostgreSQL answered with an error of its own. */
  database: Reading;
  redis: Reading;
  /** The models list: failed when a model is not loaded or a stub. */
  models: { reading: Reading; notLoaded: string[] };
  /** Service logs; `outOfMemory` from an answered read (MemoryError, OOMKilled, Cannot allocate memory). */
  logs: { reading: Reading; outOfMemory: boolean }[];
  killSwitch: { reading: Reading; active: boolean | null; reason: string | null; activatedBy: string | null };
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
  /** The readings the remediation rests on (admitted by src/playbook/evidence.ts before any request). */
  justification: Justification;
}

export interface TradingDownDiagnosis {
  causes: TradingDownDecision[];
  /** 3.1 immediate step 5: a kill switch is active while both APIs are healthy and nothing explains it. */
  resumeRequest: Justification | null;
  /** Human steps for what could not be verified (a check that did not answer is never a row). */
  unverified: string[];
}

/**
 * Lines in service logs that mean the process ran out of memory. The gap in "killed process ... out of
 * memory" is bounded: an unbounded `.*` made one unmatched 120k-character line cost seconds (quadratic).
 */
export const OUT_OF_MEMORY_PATTERN =
  /\b(MemoryError|OOMKilled|Out of memory|Cannot allocate memory|killed process .{0,200}? out of memory)\b/i;
/** 3.1 diagnosis: `grep -E "(ERROR|CRITICAL|Exception)"`. */
export const LOG_ERROR_PATTERN = /(ERROR|CRITICAL|Exception)/;
/** Container states that mean the process is not serving (3.1 "API container crashed"). */
export const STOPPED_CONTAINER_STATES: readonly ContainerState[] = [
  'exited',
  'dead',
  'restarting',
  'created',
];

const needs = (reading: Reading, expect: 'ok' | 'failed'): Requirement => ({ reading, expect });

/**
 * 3.1 "Resolution Actions": which rows positive evidence points to. Several rows may match (memory
 * exhaustion crashes a container: the OOM row wins for that container, since it adds the leak check). A
 * service that did not answer is a finding for a human unless another reading shows why.
 */
export function diagnoseTradingSystemDown(f: TradingDownFacts): TradingDownDiagnosis {
  const causes: TradingDownDecision[] = [];
  const unverified: string[] = [];
  const list = f.containers.list; // per-container states, present only when the status command answered
  const containerOf = (name: string) => list?.find((c) => c.name === name) ?? null;

  // Memory exhaustion: docker says OOM-killed, or the logs say out of memory.
  const oom = list?.filter((c) => c.oomKilled === true).map((c) => c.name) ?? [];
  const oomLogs = f.logs.filter((l) => l.reading.evidence === 'failed' && l.outOfMemory);
  if (oom.length > 0 || oomLogs.length > 0) {
    const evidence = [
      ...oom.map((n) => `container ${n} was OOM-killed`),
      ...oomLogs.map((l) => `service logs report out-of-memory errors (${l.reading.check})`),
    ];
    const oomApis = oom.filter((n) => f.apiContainers.includes(n));
    causes.push(
      decision(
        'memory-exhaustion',
        evidence,
        { kind: 'restart-containers', containers: oomApis.length ? oomApis : f.apiContainers },
        [
          ...(oom.length ? [needs(f.containers.reading, 'failed')] : []),
          ...oomLogs.map((l) => needs(l.reading, 'failed')),
        ],
      ),
    );
  }

  // Crashed: docker shows the container stopped. "Connection refused" alone is not a crash we can prove.
  const crashed = f.services.filter((s) => {
    const c = containerOf(s.container);
    return c !== null && STOPPED_CONTAINER_STATES.includes(c.state) && !oom.includes(s.container);
  });
  if (crashed.length > 0) {
    causes.push(
      decision(
        'api-container-crashed',
        crashed.map((s) => `container ${s.container} is ${containerOf(s.container)?.state}`),
        { kind: 'restart-containers', containers: f.apiContainers },
        [needs(f.containers.reading, 'failed')],
      ),
    );
  }

  for (const s of f.services) {
    if (s.health.evidence !== 'unknown' || crashed.includes(s) || oom.includes(s.container)) continue;
    const c = containerOf(s.container);
    if (c?.state === 'running' && s.reachError !== 'refused') {
      // Partition: the container runs, yet the network does not get through.
      causes.push(
        decision(
          'network-partition',
          [`${s.container} unreachable (${s.reachError ?? 'error'}) while its container is running`],
          { kind: 'human', step: 'Check Docker network (`docker network inspect`), recreate if needed' },
          [],
        ),
      );
    } else {
      unverified.push(
        `${unverifiedStep(s.health, s.container)}; container state ${c ? c.state : `unknown (${f.containers.reading.text})`}: check it by hand (\`docker ps\`, \`docker logs ${s.container}\`)`,
      );
    }
  }

  // Database connection lost: PostgreSQL answered with an error, or an API reports it disconnected while
  // the engine's own SELECT 1 does not answer. A restart needs PostgreSQL's own error.
  const apiSaysDown = f.services.filter(
    (s) => s.health.evidence !== 'unknown' && s.databaseConnected === false,
  );
  if (f.database.evidence === 'failed' || (apiSaysDown.length > 0 && f.database.evidence === 'unknown')) {
    causes.push(
      decision(
        'database-connection-lost',
        [
          ...(f.database.evidence === 'failed'
            ? [`PostgreSQL answered SELECT 1 with an error: ${f.database.text}`]
            : []),
          ...apiSaysDown.map((s) => `${s.container} reports database disconnected`),
        ],
        f.databaseContainer
          ? { kind: 'restart-containers', containers: [f.databaseContainer] }
          : { kind: 'human', step: 'Check PostgreSQL (`pg_isready`, logs) and restart it if needed' },
        [needs(f.database, 'failed')],
      ),
    );
  } else if (apiSaysDown.length > 0) {
    unverified.push(
      `${apiSaysDown.map((s) => s.container).join(', ')} report the database disconnected while the engine's SELECT 1 answers (${f.database.text}): check the APIs' database settings and pools, not PostgreSQL`,
    );
  }

  // Model file corrupted: the models list or a health body says a model is not loaded.
  const modelDown = f.services.filter((s) => s.health.evidence !== 'unknown' && s.modelLoaded === false);
  if (f.models.reading.evidence === 'failed' || modelDown.length > 0) {
    causes.push(
      decision(
        'model-file-corrupted',
        [
          ...(f.models.reading.evidence === 'failed'
            ? [`models not loaded or stub: ${f.models.notLoaded.join(', ')}`]
            : []),
          ...modelDown.map((s) => `${s.container} reports model not loaded`),
        ],
        { kind: 'rollback-model' },
        f.models.reading.evidence === 'failed'
          ? [needs(f.models.reading, 'failed')]
          : modelDown.map((s) => needs(s.health, 'failed')),
      ),
    );
  }

  for (const [r, what] of [
    [f.database, 'the database'],
    [f.models.reading, 'the models'],
    [f.killSwitch.reading, 'the kill switch'],
  ] as const) {
    if (r.evidence === 'unknown') unverified.push(unverifiedStep(r, what));
  }

  const healthy = f.services.length > 0 && f.services.every((s) => s.health.evidence === 'ok');
  const resumeRequest =
    f.killSwitch.active === true &&
    f.killSwitch.reading.evidence === 'failed' &&
    causes.length === 0 &&
    healthy
      ? {
          row: '3.1 immediate step 5: kill switch active unintentionally -> resume',
          requires: [needs(f.killSwitch.reading, 'failed'), ...f.services.map((s) => needs(s.health, 'ok'))],
        }
      : null;
  return { causes, resumeRequest, unverified };
}

function decision(
  cause: TradingDownCause,
  evidence: string[],
  remediation: Remediation,
  requires: Requirement[],
): TradingDownDecision {
  const row = TRADING_DOWN_TABLE[cause];
  return {
    cause,
    row,
    evidence,
    remediation,
    justification: { row: `3.1 ${row.playbookCause}: ${row.playbookResolution}`, requires },
  };
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

/** One freshness reading as the 3.3 loop sees it. */
export interface FreshnessReading {
  reading: Reading;
  /** Age of the latest bar in minutes, from an answered query with at least one bar. */
  stalenessMinutes: number | null;
  /** The latest bar's time (ISO), from the same answer. */
  latest?: string | null;
}

export type DataOutagePlan =
  | (DataOutageDecision & { outageMinutes: number; justification: Justification })
  | { action: 'unverified'; playbookAction: string; humanStep: string };

/**
 * 3.3 "Mitigation Actions" for one reading. A freshness query that failed, or found no bar at all (empty or
 * wrong table, wrong symbol), measures no outage: no row, a human step, and the next poll reads again.
 */
export function planDataOutage(f: FreshnessReading): DataOutagePlan {
  if (f.reading.evidence === 'unknown' || f.stalenessMinutes === null) {
    return {
      action: 'unverified',
      playbookAction: 'no row of the 3.3 table: the outage duration is not known',
      humanStep: `${unverifiedStep(f.reading, 'the data freshness')}; check the OHLCV table and the pipeline by hand`,
    };
  }
  const d = decideDataOutage(f.stalenessMinutes);
  return {
    ...d,
    outageMinutes: f.stalenessMinutes,
    justification: {
      row: `3.3 ${d.action === 'kill-switch' ? '> 60 minutes' : d.action === 'confirm-pause' ? '10-60 minutes' : '< 10 minutes'}: ${d.playbookAction}`,
      requires: [{ reading: f.reading, expect: d.action === 'wait' ? 'ok' : 'failed' }],
    },
  };
}

/** 3.3 step 5 "Verify trading auto-paused": paused or killed both stop trading. */
export function tradingStopped(mode: string | null): boolean {
  return mode === 'paused' || mode === 'killed';
}

/**
 * 3.3 "Data freshness restored" means fresh data arriving, not an age under a threshold once: the latest bar
 * is at most DATA_FRESH_MAX_MINUTES old AND newer than the latest bar when the procedure started (new bars
 * came in). A feed that was 5 minutes old at the start and keeps aging has not recovered; it is watched until
 * it does, or until a row of the table applies. `startLatest` null: nothing was known at the start.
 */
export function freshDataArrived(
  startLatest: string | null,
  now: { latest?: string | null; stalenessMinutes: number | null },
): boolean {
  if (now.stalenessMinutes === null || now.stalenessMinutes > DATA_FRESH_MAX_MINUTES) return false;
  if (startLatest === null) return true;
  return typeof now.latest === 'string' && Date.parse(now.latest) > Date.parse(startLatest);
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
  /** SELECT 1: ok, failed (PostgreSQL answered with an error), unknown (no connection). */
  database: Reading;
  /** Error text when SELECT 1 failed (too many clients, no space left, ...). */
  connectError: string | null;
  pingMs: number | null;
  /** pg_stat_activity counts and the limit. */
  connectionsReading: Reading;
  connections: number | null;
  connectionLimit: number | null;
  activeBackends: number | null;
  /** Queries over LONG_QUERY_MINUTES. */
  longQueriesReading: Reading;
  longQueries: LongQuery[];
  /** Database logs (allow-listed command) mention a full disk. */
  logsReading: Reading;
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
  justification: Justification;
}

export interface DatabaseDiagnosis {
  decisions: DatabaseDecision[];
  /** Human steps for the readings that did not answer. */
  unverified: string[];
}

/** 3.4 "Resolution" table: every row whose positive evidence is present, in table order. */
export function diagnoseDatabase(f: DatabaseFacts): DatabaseDiagnosis {
  const ratio = f.thresholds?.poolExhaustedRatio ?? POOL_EXHAUSTED_RATIO;
  const maxActive = f.thresholds?.overloadActiveBackends ?? OVERLOAD_ACTIVE_BACKENDS;
  const maxPing = f.thresholds?.overloadPingMs ?? OVERLOAD_PING_MS;
  const out: DatabaseDecision[] = [];
  const row = (cause: DatabaseCause, evidence: string[], remediation: Remediation, requires: Requirement[]) =>
    out.push({
      cause,
      ...DATABASE_TABLE[cause],
      evidence,
      remediation,
      justification: {
        row: `3.4 ${DATABASE_TABLE[cause].playbookCause}: ${DATABASE_TABLE[cause].playbookResolution}`,
        requires,
      },
    });
  // PostgreSQL's own error text counts; a connection that never reached it does not.
  const serverError = f.database.evidence === 'failed' ? f.connectError : null;
  const counted = f.connectionsReading.evidence !== 'unknown';

  const poolEvidence: string[] = [];
  const poolRequires: Requirement[] = [];
  if (serverError && TOO_MANY_CONNECTIONS_PATTERN.test(serverError)) {
    poolEvidence.push(`connect failed: ${serverError}`);
    poolRequires.push({ reading: f.database, expect: 'failed' });
  }
  if (
    counted &&
    f.connections !== null &&
    f.connectionLimit !== null &&
    f.connectionLimit > 0 &&
    f.connections >= ratio * f.connectionLimit
  ) {
    poolEvidence.push(
      `${f.connections} connections of a limit of ${f.connectionLimit} (>= ${Math.round(ratio * 100)}%)`,
    );
    poolRequires.push({ reading: f.connectionsReading, expect: 'failed' });
  }
  if (poolEvidence.length)
    row(
      'connection-pool-exhausted',
      poolEvidence,
      { kind: 'restart-containers', containers: f.appContainers },
      poolRequires.slice(0, 1),
    );

  if (f.longQueriesReading.evidence === 'failed' && f.longQueries.length) {
    row(
      'long-running-queries',
      f.longQueries.map(
        (q) => `pid ${q.pid} running ${formatDuration(q.durationSeconds)}: ${truncate(q.query, 200)}`,
      ),
      { kind: 'terminate-backends', pids: f.longQueries.map((q) => q.pid) },
      [{ reading: f.longQueriesReading, expect: 'failed' }],
    );
  }

  const overload: string[] = [];
  if (counted && f.activeBackends !== null && f.activeBackends >= maxActive)
    overload.push(`${f.activeBackends} active backends (>= ${maxActive})`);
  if (f.database.evidence === 'ok' && f.pingMs !== null && f.pingMs >= maxPing)
    overload.push(`SELECT 1 took ${Math.round(f.pingMs)} ms (>= ${maxPing} ms)`);
  if (overload.length)
    row(
      'database-overload',
      overload,
      { kind: 'human', step: 'Scale up the database or optimize the slow queries' },
      [],
    );

  const disk: string[] = [];
  if (f.logsReading.evidence === 'failed' && f.diskFull) disk.push('database logs report a full disk');
  if (serverError && DISK_FULL_PATTERN.test(serverError)) disk.push(`connect failed: ${serverError}`);
  if (disk.length)
    row('disk-full', disk, { kind: 'human', step: 'Clear logs and archive old data to free disk space' }, []);

  const unverified = (
    [
      [f.database, 'PostgreSQL (SELECT 1)'],
      [f.connectionsReading, 'the active connections'],
      [f.longQueriesReading, 'the long-running queries'],
    ] as const
  )
    .filter(([r]) => r.evidence === 'unknown')
    .map(([r, what]) => unverifiedStep(r, what));
  return { decisions: out, unverified };
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
