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
  tradingStopped,
  verifyDataRecovery,
  type DatabaseFacts,
  type ServiceFacts,
  type TradingDownFacts,
} from '../../src/playbook/procedures';

const svc = (container: string, over: Partial<ServiceFacts> = {}): ServiceFacts => ({
  container,
  reachable: true,
  reachError: null,
  healthy: true,
  databaseConnected: true,
  modelLoaded: true,
  ...over,
});

const healthy = (over: Partial<TradingDownFacts> = {}): TradingDownFacts => ({
  services: [svc('trading-api'), svc('inference-api')],
  containers: [
    { name: 'trading-api', state: 'running', oomKilled: false },
    { name: 'inference-api', state: 'running', oomKilled: false },
  ],
  databaseReachable: true,
  redisReachable: true,
  modelNotLoaded: false,
  logsShowOutOfMemory: false,
  killSwitch: { active: false, reason: null, activatedBy: null },
  apiContainers: ['trading-api', 'inference-api'],
  databaseContainer: 'postgres',
  ...over,
});

describe('3.1 trading system down: cause -> resolution', () => {
  test('a healthy system matches no row and asks nothing', () => {
    expect(diagnoseTradingSystemDown(healthy())).toEqual({ causes: [], resumeRequest: false });
  });

  test('API container crashed (connection refused) -> restart trading-api inference-api', () => {
    const d = diagnoseTradingSystemDown(
      healthy({
        services: [
          svc('trading-api', { reachable: false, reachError: 'refused', healthy: null }),
          svc('inference-api'),
        ],
      }),
    );
    expect(d.causes.map((c) => c.cause)).toEqual(['api-container-crashed']);
    expect(d.causes[0]!.remediation).toEqual({
      kind: 'restart-containers',
      containers: ['trading-api', 'inference-api'],
    });
    expect(d.causes[0]!.row.playbookResolution).toContain('docker-compose restart trading-api inference-api');
  });

  test('API container crashed (container exited per docker ps) even when the status is unknown', () => {
    const d = diagnoseTradingSystemDown(
      healthy({
        containers: [
          { name: 'trading-api', state: 'exited', oomKilled: false },
          { name: 'inference-api', state: 'running', oomKilled: false },
        ],
      }),
    );
    expect(d.causes.map((c) => c.cause)).toEqual(['api-container-crashed']);
    expect(d.causes[0]!.evidence).toEqual(['container trading-api is exited']);
  });

  test('Database connection lost -> restart PostgreSQL (gated) when allow-listed, else a human step', () => {
    const facts = healthy({
      databaseReachable: false,
      services: [svc('trading-api', { databaseConnected: false }), svc('inference-api')],
    });
    const d = diagnoseTradingSystemDown(facts);
    expect(d.causes.map((c) => c.cause)).toEqual(['database-connection-lost']);
    expect(d.causes[0]!.remediation).toEqual({ kind: 'restart-containers', containers: ['postgres'] });
    expect(d.causes[0]!.evidence).toEqual([
      'SELECT 1 from the incident engine failed',
      'trading-api reports database disconnected',
    ]);
    const human = diagnoseTradingSystemDown({ ...facts, databaseContainer: null });
    expect(human.causes[0]!.remediation.kind).toBe('human');
  });

  test('Model file corrupted -> rollback to previous model version', () => {
    const d = diagnoseTradingSystemDown(healthy({ modelNotLoaded: true }));
    expect(d.causes.map((c) => c.cause)).toEqual(['model-file-corrupted']);
    expect(d.causes[0]!.remediation).toEqual({ kind: 'rollback-model' });
  });

  test('Memory exhaustion (OOM-killed container) -> restart that container and check for leaks; not also "crashed"', () => {
    const d = diagnoseTradingSystemDown(
      healthy({
        services: [svc('trading-api'), svc('inference-api', { reachable: false, reachError: 'refused' })],
        containers: [
          { name: 'trading-api', state: 'running', oomKilled: false },
          { name: 'inference-api', state: 'exited', oomKilled: true },
        ],
      }),
    );
    expect(d.causes.map((c) => c.cause)).toEqual(['memory-exhaustion']);
    expect(d.causes[0]!.remediation).toEqual({ kind: 'restart-containers', containers: ['inference-api'] });
    expect(d.causes[0]!.row.playbookResolution).toBe('Restart containers, check for memory leaks');
  });

  test('Memory exhaustion from the logs alone -> restart both APIs', () => {
    const d = diagnoseTradingSystemDown(healthy({ logsShowOutOfMemory: true }));
    expect(d.causes.map((c) => c.cause)).toEqual(['memory-exhaustion']);
    expect(d.causes[0]!.remediation).toEqual({
      kind: 'restart-containers',
      containers: ['trading-api', 'inference-api'],
    });
  });

  test.each(['timeout', 'unreachable', 'unresolved'] as const)(
    'Network partition (%s while the container runs) -> check/recreate Docker network (human step)',
    (reachError) => {
      const d = diagnoseTradingSystemDown(
        healthy({ services: [svc('trading-api', { reachable: false, reachError }), svc('inference-api')] }),
      );
      expect(d.causes.map((c) => c.cause)).toEqual(['network-partition']);
      expect(d.causes[0]!.remediation.kind).toBe('human');
    },
  );

  test('kill switch active with nothing else wrong -> resume request; with a cause -> fix the cause first', () => {
    const ks = { active: true, reason: 'Daily loss limit', activatedBy: 'risk_monitor' };
    expect(diagnoseTradingSystemDown(healthy({ killSwitch: ks }))).toEqual({
      causes: [],
      resumeRequest: true,
    });
    expect(diagnoseTradingSystemDown(healthy({ killSwitch: ks, modelNotLoaded: true })).resumeRequest).toBe(
      false,
    );
  });

  test('several rows at once, every row id covered', () => {
    const d = diagnoseTradingSystemDown(
      healthy({
        services: [
          svc('trading-api', { reachable: false, reachError: 'refused' }),
          svc('inference-api', { reachable: false, reachError: 'timeout', databaseConnected: null }),
        ],
        databaseReachable: false,
        modelNotLoaded: true,
        logsShowOutOfMemory: true,
      }),
    );
    expect(d.causes.map((c) => c.cause).sort()).toEqual([...TRADING_DOWN_CAUSES].sort());
  });

  test('log patterns of 3.1 diagnosis', () => {
    expect(LOG_ERROR_PATTERN.test('2024 ERROR db down')).toBe(true);
    expect(LOG_ERROR_PATTERN.test('Traceback: ValueError Exception')).toBe(true);
    expect(LOG_ERROR_PATTERN.test('INFO all good')).toBe(false);
    expect(OUT_OF_MEMORY_PATTERN.test('MemoryError: cannot allocate')).toBe(true);
    expect(OUT_OF_MEMORY_PATTERN.test('container OOMKilled')).toBe(true);
    expect(OUT_OF_MEMORY_PATTERN.test('memory usage 40%')).toBe(false);
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

describe('3.4 database connection issues: cause -> resolution', () => {
  const db = (over: Partial<DatabaseFacts> = {}): DatabaseFacts => ({
    reachable: true,
    connectError: null,
    pingMs: 3,
    connections: 12,
    connectionLimit: 100,
    activeBackends: 2,
    longQueries: [],
    diskFull: false,
    appContainers: ['trading-api', 'inference-api'],
    ...over,
  });

  test('a healthy database matches no row', () => {
    expect(diagnoseDatabase(db())).toEqual([]);
  });

  test('Connection pool exhausted (90% of the limit, or "too many clients") -> restart application containers', () => {
    const byCount = diagnoseDatabase(db({ connections: 90 }));
    expect(byCount.map((d) => d.cause)).toEqual(['connection-pool-exhausted']);
    expect(byCount[0]!.remediation).toEqual({
      kind: 'restart-containers',
      containers: ['trading-api', 'inference-api'],
    });
    expect(diagnoseDatabase(db({ connections: 89 }))).toEqual([]);
    const byError = diagnoseDatabase(
      db({ reachable: false, connectError: 'sorry, too many clients already', connections: null }),
    );
    expect(byError.map((d) => d.cause)).toEqual(['connection-pool-exhausted']);
    expect(
      diagnoseDatabase(
        db({ connections: 5, connectionLimit: 10, thresholds: { poolExhaustedRatio: 0.5 } }),
      ).map((d) => d.cause),
    ).toEqual(['connection-pool-exhausted']);
  });

  test('Long-running queries -> terminate each (pid, duration and query in the evidence)', () => {
    const d = diagnoseDatabase(
      db({
        longQueries: [
          {
            pid: 4242,
            durationSeconds: 95,
            query: 'SELECT pg_sleep(600)',
            queryStart: '2026-01-01T00:00:00Z',
            state: 'active',
          },
        ],
      }),
    );
    expect(d.map((x) => x.cause)).toEqual(['long-running-queries']);
    expect(d[0]!.remediation).toEqual({ kind: 'terminate-backends', pids: [4242] });
    expect(d[0]!.evidence).toEqual(['pid 4242 running 1m35s: SELECT pg_sleep(600)']);
    expect(d[0]!.playbookResolution).toBe('Identify and terminate');
  });

  test('Database overload (active backends or slow SELECT 1) -> scale up or optimize (human step)', () => {
    expect(diagnoseDatabase(db({ activeBackends: 50 })).map((d) => [d.cause, d.remediation.kind])).toEqual([
      ['database-overload', 'human'],
    ]);
    expect(diagnoseDatabase(db({ pingMs: 2500 })).map((d) => d.cause)).toEqual(['database-overload']);
    expect(
      diagnoseDatabase(db({ activeBackends: 3, thresholds: { overloadActiveBackends: 3 } })).map(
        (d) => d.cause,
      ),
    ).toEqual(['database-overload']);
  });

  test('Disk full (logs or connect error) -> clear logs, archive old data (human step)', () => {
    expect(
      diagnoseDatabase(db({ diskFull: true })).map((d) => [
        d.cause,
        d.remediation.kind,
        d.playbookResolution,
      ]),
    ).toEqual([['disk-full', 'human', 'Clear logs, archive old data']]);
    expect(
      diagnoseDatabase(
        db({ reachable: false, connectError: 'could not extend file "base/1/2": No space left on device' }),
      ).map((d) => d.cause),
    ).toEqual(['disk-full']);
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
