// Every row of the 3.1-3.4 decision tables (src/playbook/procedures.ts), boundaries included.
import {
  APPROVAL_MAX_ESCALATIONS,
  DATA_FRESH_MAX_MINUTES,
  DATA_OUTAGE_KILL_SWITCH_AFTER_MINUTES,
  DATA_OUTAGE_WAIT_MAX_MINUTES,
  KILL_SWITCH_DATA_OUTAGE_ACTION,
  LOG_ERROR_PATTERN,
  OUT_OF_MEMORY_PATTERN,
  SHARPE_MINOR_MAX,
  SHARPE_SEVERE_MAX,
  SHARPE_SIGNIFICANT_MAX,
  TRADING_DOWN_CAUSES,
  consecutiveLosses,
  decideDataOutage,
  decideModelDegradation,
  degradedAgain,
  diagnoseDatabase,
  diagnoseTradingSystemDown,
  formatDuration,
  freshDataArrived,
  tradingStopped,
  verifyDataRecovery,
  type DatabaseFacts,
  type ServiceFacts,
  type TradingDownFacts,
} from '../../src/playbook/procedures';
import { admit, type Evidence, type Reading } from '../../src/playbook/evidence';

const reading = (check: string, evidence: Evidence, text = `${check} ${evidence}`): Reading => ({
  check,
  evidence,
  text,
});
const svc = (container: string, over: Partial<ServiceFacts> = {}): ServiceFacts => ({
  container,
  health: reading(`health:${container}`, 'ok'),
  reachError: null,
  databaseConnected: true,
  modelLoaded: true,
  ...over,
});
const down = (container: string, reachError: ServiceFacts['reachError']) =>
  svc(container, {
    health: reading(`health:${container}`, 'unknown', `${container} unreachable (${reachError})`),
    reachError,
    databaseConnected: null,
    modelLoaded: null,
  });
const running = [
  { name: 'trading-api', state: 'running' as const, oomKilled: false },
  { name: 'inference-api', state: 'running' as const, oomKilled: false },
];

const healthy = (over: Partial<TradingDownFacts> = {}): TradingDownFacts => ({
  services: [svc('trading-api'), svc('inference-api')],
  containers: { reading: reading('containers', 'ok'), list: running },
  database: reading('database', 'ok'),
  redis: reading('redis', 'ok'),
  models: { reading: reading('models', 'ok'), notLoaded: [] },
  logs: [],
  killSwitch: { reading: reading('operations-status', 'ok'), active: false, reason: null, activatedBy: null },
  apiContainers: ['trading-api', 'inference-api'],
  databaseContainer: 'postgres',
  ...over,
});
const causes = (f: TradingDownFacts) => diagnoseTradingSystemDown(f).causes.map((c) => c.cause);

describe('3.1 trading system down: cause -> resolution, on positive evidence only', () => {
  test('a healthy system matches no row and asks nothing', () => {
    expect(diagnoseTradingSystemDown(healthy())).toEqual({ causes: [], resumeRequest: null, unverified: [] });
  });

  test('connection refused with the container state unknown is no crash: a human step, no restart', () => {
    const d = diagnoseTradingSystemDown(
      healthy({
        services: [down('trading-api', 'refused'), svc('inference-api')],
        containers: {
          reading: reading('containers', 'unknown', 'Cannot connect to the Docker daemon'),
          list: null,
        },
      }),
    );
    expect(d.causes).toEqual([]);
    expect(d.unverified.join('\n')).toMatch(/could not verify trading-api.*Docker daemon/);
  });

  test('API container crashed (docker shows it exited) -> restart trading-api inference-api', () => {
    const d = diagnoseTradingSystemDown(
      healthy({
        services: [down('trading-api', 'refused'), svc('inference-api')],
        containers: {
          reading: reading('containers', 'failed'),
          list: [{ name: 'trading-api', state: 'exited', oomKilled: false }, running[1]!],
        },
      }),
    );
    expect(d.causes.map((c) => c.cause)).toEqual(['api-container-crashed']);
    expect(d.causes[0]!.remediation).toEqual({
      kind: 'restart-containers',
      containers: ['trading-api', 'inference-api'],
    });
    expect(admit(d.causes[0]!.justification).admitted).toBe(true);
  });

  test('an unreachable platform (DNS, Docker daemon down, SELECT 1 not connecting) asks for nothing', () => {
    const d = diagnoseTradingSystemDown(
      healthy({
        services: [down('trading-api', 'unresolved'), down('inference-api', 'unresolved')],
        containers: { reading: reading('containers', 'unknown'), list: null },
        database: reading('database', 'unknown', 'getaddrinfo ENOTFOUND postgres'),
        models: { reading: reading('models', 'unknown'), notLoaded: [] },
        killSwitch: {
          reading: reading('operations-status', 'unknown'),
          active: null,
          reason: null,
          activatedBy: null,
        },
      }),
    );
    expect(d.causes).toEqual([]);
    expect(d.resumeRequest).toBeNull();
    expect(d.unverified.length).toBeGreaterThanOrEqual(4);
  });

  test('Database connection lost: PostgreSQL answered with an error -> restart it (gated), else a human step', () => {
    const f = healthy({ database: reading('database', 'failed', 'too many clients (SQLSTATE 53300)') });
    const d = diagnoseTradingSystemDown(f);
    expect(d.causes[0]!.remediation).toEqual({ kind: 'restart-containers', containers: ['postgres'] });
    expect(admit(d.causes[0]!.justification).admitted).toBe(true);
    expect(diagnoseTradingSystemDown({ ...f, databaseContainer: null }).causes[0]!.remediation.kind).toBe(
      'human',
    );
  });

  test('an API reporting the database disconnected while SELECT 1 answers: no restart of PostgreSQL', () => {
    const d = diagnoseTradingSystemDown(
      healthy({ services: [svc('trading-api', { databaseConnected: false }), svc('inference-api')] }),
    );
    expect(d.causes).toEqual([]);
    expect(d.unverified.join()).toMatch(/SELECT 1 answers/);
    // ... and while SELECT 1 does not answer: the row, but the restart is not admitted (human step).
    const u = diagnoseTradingSystemDown(
      healthy({
        services: [svc('trading-api', { databaseConnected: false }), svc('inference-api')],
        database: reading('database', 'unknown'),
      }),
    );
    expect(u.causes.map((c) => c.cause)).toEqual(['database-connection-lost']);
    expect(admit(u.causes[0]!.justification).admitted).toBe(false);
  });

  test('Model file corrupted -> rollback to previous model version', () => {
    const d = diagnoseTradingSystemDown(
      healthy({ models: { reading: reading('models', 'failed'), notLoaded: ['ppo_v1'] } }),
    );
    expect(d.causes.map((c) => c.cause)).toEqual(['model-file-corrupted']);
    expect(d.causes[0]!.remediation).toEqual({ kind: 'rollback-model' });
  });

  test('Memory exhaustion (OOM-killed container) -> restart that container; not also "crashed"', () => {
    const d = diagnoseTradingSystemDown(
      healthy({
        services: [down('trading-api', 'refused'), svc('inference-api')],
        containers: {
          reading: reading('containers', 'failed'),
          list: [{ name: 'trading-api', state: 'exited', oomKilled: true }, running[1]!],
        },
      }),
    );
    expect(d.causes.map((c) => c.cause)).toEqual(['memory-exhaustion']);
    expect(d.causes[0]!.remediation).toEqual({ kind: 'restart-containers', containers: ['trading-api'] });
  });

  test('Memory exhaustion from the logs alone -> restart both APIs', () => {
    expect(
      causes(healthy({ logs: [{ reading: reading('logs:trading-api', 'failed'), outOfMemory: true }] })),
    ).toEqual(['memory-exhaustion']);
  });

  test('Network partition: unreachable while its container runs -> human step', () => {
    const d = diagnoseTradingSystemDown(
      healthy({ services: [down('trading-api', 'timeout'), svc('inference-api')] }),
    );
    expect(d.causes.map((c) => c.cause)).toEqual(['network-partition']);
    expect(d.causes[0]!.remediation.kind).toBe('human');
  });

  test('kill switch active with both APIs healthy -> resume request; with a cause, or health unknown -> none', () => {
    const ks = {
      reading: reading('operations-status', 'failed'),
      active: true,
      reason: 'x',
      activatedBy: 'y',
    };
    expect(admit(diagnoseTradingSystemDown(healthy({ killSwitch: ks })).resumeRequest!).admitted).toBe(true);
    expect(
      diagnoseTradingSystemDown(
        healthy({ killSwitch: ks, models: { reading: reading('models', 'failed'), notLoaded: ['m'] } }),
      ).resumeRequest,
    ).toBeNull();
    expect(
      diagnoseTradingSystemDown(
        healthy({ killSwitch: ks, services: [down('trading-api', 'timeout'), svc('inference-api')] }),
      ).resumeRequest,
    ).toBeNull();
  });

  test('every row id is reachable', () => {
    const all = causes(
      healthy({
        services: [down('trading-api', 'refused'), down('inference-api', 'timeout')],
        containers: {
          reading: reading('containers', 'failed'),
          list: [
            { name: 'trading-api', state: 'exited', oomKilled: false },
            { name: 'inference-api', state: 'running', oomKilled: false },
          ],
        },
        database: reading('database', 'failed'),
        models: { reading: reading('models', 'failed'), notLoaded: ['m'] },
        logs: [{ reading: reading('logs:inference-api', 'failed'), outOfMemory: true }],
      }),
    );
    expect(new Set(all)).toEqual(new Set(TRADING_DOWN_CAUSES));
  });

  test('log patterns of 3.1 diagnosis', () => {
    expect(OUT_OF_MEMORY_PATTERN.test('MemoryError: unable to allocate')).toBe(true);
    expect(OUT_OF_MEMORY_PATTERN.test('all good')).toBe(false);
    expect(LOG_ERROR_PATTERN.test('2026-11-27 ERROR boom')).toBe(true);
    expect(LOG_ERROR_PATTERN.test('info: fine')).toBe(false);
    expect(
      OUT_OF_MEMORY_PATTERN.test('[ 812.3] Killed process 4242 (python) total-vm:8 kB: out of memory'),
    ).toBe(true);
  });

  test('the out-of-memory pattern is linear on a long unmatched line (a quadratic one took seconds at 120k)', () => {
    // "killed process " repeated, never followed by "out of memory": every start position used to scan the rest.
    const line = 'killed process '.repeat(70_000);
    const t0 = process.hrtime.bigint();
    expect(OUT_OF_MEMORY_PATTERN.test(line)).toBe(false);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    // About 1M characters: linear takes milliseconds; the unbounded pattern took minutes.
    expect(ms).toBeLessThan(5_000);
  });
});

describe('3.2 model degradation: Sharpe -> action', () => {
  test.each([
    [1.42, 'none'],
    [SHARPE_MINOR_MAX, 'none'],
    [0.79, 'monitor'],
    [0.65, 'monitor'],
    [SHARPE_SIGNIFICANT_MAX, 'monitor'],
    [0.49, 'shadow-comparison'],
    [0.4, 'shadow-comparison'],
    [SHARPE_SEVERE_MAX, 'shadow-comparison'],
    [0.29, 'rollback'],
    [0.25, 'rollback'],
    [-1, 'rollback'],
    [null, 'unknown'],
    [Number.NaN, 'unknown'],
  ] as const)('Sharpe %p -> %s', (sharpe, action) => {
    expect(decideModelDegradation(sharpe).action).toBe(action);
  });

  test('playbook words per row', () => {
    expect(decideModelDegradation(0.6).playbookAction).toBe('Monitor closely, no immediate action');
    expect(decideModelDegradation(0.4).playbookAction).toBe('Activate shadow mode comparison');
    expect(decideModelDegradation(0.2).playbookAction).toBe('Execute rollback to previous model');
  });

  test('degraded again after rollback = significant or severe', () => {
    expect(degradedAgain(0.45)).toBe(true);
    expect(degradedAgain(0.1)).toBe(true);
    expect(degradedAgain(0.6)).toBe(false);
    expect(degradedAgain(1.3)).toBe(false);
    expect(degradedAgain(null)).toBe(false);
  });

  test('consecutive losses counted from the newest trade', () => {
    expect(consecutiveLosses([-1, -2, -3, 4, -5])).toBe(3);
    expect(consecutiveLosses([1, -2])).toBe(0);
    expect(consecutiveLosses([-1, -1, -1, -1, -1, -1])).toBe(6);
    expect(consecutiveLosses([-1, null, -1])).toBe(1);
    expect(consecutiveLosses([])).toBe(0);
  });
});

describe('3.3 data source down: outage duration -> mitigation', () => {
  test.each([
    [0, 'wait'],
    [5, 'wait'],
    [DATA_OUTAGE_WAIT_MAX_MINUTES - 0.01, 'wait'],
    [DATA_OUTAGE_WAIT_MAX_MINUTES, 'confirm-pause'],
    [30, 'confirm-pause'],
    [DATA_OUTAGE_KILL_SWITCH_AFTER_MINUTES, 'confirm-pause'],
    [DATA_OUTAGE_KILL_SWITCH_AFTER_MINUTES + 0.01, 'kill-switch'],
    [75, 'kill-switch'],
  ] as const)('%p minutes -> %s', (minutes, action) => {
    expect(decideDataOutage(minutes).action).toBe(action);
  });

  test('the kill switch row is the pre-approvable action', () => {
    expect(KILL_SWITCH_DATA_OUTAGE_ACTION).toBe('kill-switch:data-outage-60m');
    expect(decideDataOutage(61).playbookAction).toBe('Activate kill switch, notify team');
  });

  test('auto-paused means paused or killed', () => {
    expect(tradingStopped('paused')).toBe(true);
    expect(tradingStopped('killed')).toBe(true);
    expect(tradingStopped('normal')).toBe(false);
    expect(tradingStopped(null)).toBe(false);
  });

  test('recovery verification: freshness restored and consistency OK', () => {
    expect(verifyDataRecovery({ stalenessMinutes: 2, consistency: 'passed' })).toEqual({
      recovered: true,
      reasons: [],
    });
    expect(verifyDataRecovery({ stalenessMinutes: 2, consistency: 'warning' }).recovered).toBe(true);
    expect(verifyDataRecovery({ stalenessMinutes: 45, consistency: 'passed' }).reasons).toEqual([
      'data still 45.0 minutes old',
    ]);
    expect(
      verifyDataRecovery({ stalenessMinutes: DATA_FRESH_MAX_MINUTES, consistency: 'passed' }).recovered,
    ).toBe(true);
    expect(verifyDataRecovery({ stalenessMinutes: 8, consistency: 'passed' }).reasons).toEqual([
      'data still 8.0 minutes old',
    ]);
    expect(verifyDataRecovery({ stalenessMinutes: 2, consistency: 'failed' }).reasons).toEqual([
      'feature consistency failed',
    ]);
    expect(verifyDataRecovery({ stalenessMinutes: null, consistency: null }).reasons).toEqual([
      'no OHLCV data',
      'feature consistency unknown',
    ]);
  });
});

describe('3.4 database connection issues: cause -> resolution, on positive evidence only', () => {
  const db = (over: Partial<DatabaseFacts> = {}): DatabaseFacts => ({
    database: reading('database', 'ok'),
    connectError: null,
    pingMs: 3,
    connectionsReading: reading('database-connections', 'ok'),
    connections: 12,
    connectionLimit: 100,
    activeBackends: 2,
    longQueriesReading: reading('long-running-queries', 'ok'),
    longQueries: [],
    logsReading: reading('logs:postgres', 'ok'),
    diskFull: false,
    appContainers: ['trading-api', 'inference-api'],
    ...over,
  });
  const rows = (f: DatabaseFacts) => diagnoseDatabase(f).decisions.map((d) => d.cause);

  test('a healthy database matches no row', () => {
    expect(diagnoseDatabase(db())).toEqual({ decisions: [], unverified: [] });
  });

  test('Connection pool exhausted (90% of the limit, or "too many clients" from PostgreSQL) -> restart application containers', () => {
    const d = diagnoseDatabase(
      db({ connectionsReading: reading('database-connections', 'failed'), connections: 90 }),
    );
    expect(d.decisions[0]).toMatchObject({
      cause: 'connection-pool-exhausted',
      remediation: { kind: 'restart-containers', containers: ['trading-api', 'inference-api'] },
    });
    expect(admit(d.decisions[0]!.justification).admitted).toBe(true);
    expect(
      rows(db({ database: reading('database', 'failed'), connectError: 'sorry, too many clients already' })),
    ).toEqual(['connection-pool-exhausted']);
    // The same words from a connection that never reached PostgreSQL are no evidence.
    expect(rows(db({ database: reading('database', 'unknown'), connectError: 'too many clients' }))).toEqual(
      [],
    );
  });

  test('Long-running queries -> terminate each (pid, duration and query in the evidence)', () => {
    const q = {
      pid: 4242,
      durationSeconds: 400,
      query: 'SELECT pg_sleep(600)',
      queryStart: '2026-11-27T14:00:00.000Z',
      state: 'active',
    };
    const d = diagnoseDatabase(
      db({ longQueriesReading: reading('long-running-queries', 'failed'), longQueries: [q] }),
    );
    expect(d.decisions[0]).toMatchObject({
      cause: 'long-running-queries',
      remediation: { kind: 'terminate-backends', pids: [4242] },
    });
    expect(d.decisions[0]!.evidence[0]).toContain('pid 4242 running 6m40s');
  });

  test('Database overload (active backends or slow SELECT 1) -> scale up or optimize (human step)', () => {
    expect(rows(db({ activeBackends: 60 }))).toEqual(['database-overload']);
    expect(rows(db({ pingMs: 2500 }))).toEqual(['database-overload']);
  });

  test('Disk full (logs or PostgreSQL error) -> clear logs, archive old data (human step)', () => {
    expect(rows(db({ logsReading: reading('logs:postgres', 'failed'), diskFull: true }))).toEqual([
      'disk-full',
    ]);
    expect(
      rows(
        db({
          database: reading('database', 'failed'),
          connectError: 'could not extend file: No space left on device',
        }),
      ),
    ).toEqual(['disk-full']);
  });

  test('readings that did not answer are human steps, never rows', () => {
    const d = diagnoseDatabase(
      db({
        database: reading('database', 'unknown', 'ECONNREFUSED'),
        connectionsReading: reading('database-connections', 'unknown'),
        connections: null,
        longQueriesReading: reading('long-running-queries', 'unknown'),
      }),
    );
    expect(d.decisions).toEqual([]);
    expect(d.unverified).toHaveLength(3);
  });

  test('durations as operators read them', () => {
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(95)).toBe('1m35s');
    expect(formatDuration(3 * 3600 + 120)).toBe('3h02m');
  });
});

test('approval gate gives up after a bounded number of escalations', () => {
  expect(APPROVAL_MAX_ESCALATIONS).toBeGreaterThanOrEqual(1);
});

test('3.3 recovery is fresh data arriving: a newer bar within the fresh age, not an age under a threshold once', () => {
  const start = '2026-12-01T10:00:00.000Z';
  expect(freshDataArrived(start, { latest: start, stalenessMinutes: 5 })).toBe(false);
  expect(freshDataArrived(start, { latest: '2026-12-01T10:05:00.000Z', stalenessMinutes: 1 })).toBe(true);
  expect(
    freshDataArrived(start, {
      latest: '2026-12-01T10:05:00.000Z',
      stalenessMinutes: DATA_FRESH_MAX_MINUTES + 1,
    }),
  ).toBe(false);
  expect(freshDataArrived(start, { latest: null, stalenessMinutes: null })).toBe(false);
  expect(freshDataArrived(null, { latest: start, stalenessMinutes: 2 })).toBe(true);
});
