// The procedure activities against the simulator (both profiles), real PostgreSQL and Redis, and the fake
// docker through the allow-list: findings instead of crashes, guards that keep mutating calls single.
// The checks observe (answered | unknown | unavailable); what an answered reading shows is judged by
// judgeReading (src/playbook/readings.ts), so every answered finding here is asserted through it.
import { ApplicationFailure } from '@temporalio/common';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client as PgClient } from 'pg';
import {
  createProcedureActivities,
  type CheckFinding,
  type ProcedureActivities,
} from '../../src/activities/platform';
import { judgeReading } from '../../src/playbook/readings';
import { resolvePlatformConfig, PlatformConfigError } from '../../src/platform/config';
import { startSimulator, type Simulator } from '../../scripts/simulator';
import { databaseUrl, FakeDocker, platformConfig } from './helpers';

let playbook: Simulator;
let deployed: Simulator;
let docker: FakeDocker;
let pb: ProcedureActivities;
let dep: ProcedureActivities;

/** What the playbook's judge says of a finding's reading (the workflows judge only `answered` ones). */
const verdict = <D extends Record<string, unknown>>(f: CheckFinding<D>) => judgeReading(f.check, f.data);

beforeAll(async () => {
  [playbook, deployed] = await Promise.all([
    startSimulator({ profile: 'playbook', databaseUrl: databaseUrl('usdcop_proc_act_playbook') }),
    startSimulator({ profile: 'deployed', databaseUrl: databaseUrl('usdcop_proc_act_deployed') }),
  ]);
  docker = new FakeDocker(playbook.controlUrl, [
    'trading-api',
    'inference-api',
    'postgres',
    'redis',
    'airflow-scheduler',
  ]);
  pb = createProcedureActivities({
    platform: platformConfig('playbook', playbook, docker, { database: { longQueryMinutes: 0.01 } }),
  });
  dep = createProcedureActivities({ platform: platformConfig('deployed', deployed, null) });
});
afterAll(async () => {
  await Promise.all([playbook.stop(), deployed.stop()]);
});
beforeEach(async () => {
  await Promise.all([playbook.reset(), deployed.reset()]);
  docker.reset(playbook.controlUrl);
});

describe('platform config', () => {
  test('profiles: playbook paths by default, the real deployment on request, overrides validated', () => {
    const p = resolvePlatformConfig();
    expect(p.profile).toBe('playbook');
    expect(p.paths.consistency).toBe('/api/v1/health/consistency/{model_id}');
    expect(p.tables.ohlcv).toEqual({
      table: 'ohlcv_usdcop_5m',
      timeColumn: 'timestamp',
      symbolColumn: null,
      symbol: 'USD/COP',
    });
    const d = resolvePlatformConfig({ profile: 'deployed' });
    expect(d.services.inference.baseUrl).toBe('http://backtest-api:8000');
    expect(d.paths.consistency).toBe('/api/v1/consistency/{model_id}');
    expect(d.tables.ohlcv).toMatchObject({
      table: 'usdcop_m5_ohlcv',
      timeColumn: 'time',
      symbolColumn: 'symbol',
    });
    expect(d.tables.trades.pnlColumn).toBe('pnl_usd');
    expect(d.database.url).toContain('/usdcop_trading');
    const o = resolvePlatformConfig({
      profile: 'deployed',
      overrides: {
        services: {
          trading: {
            baseUrl: 'http://10.0.0.5:8000',
            auth: { scheme: 'x-api-key', secretEnv: 'TRADING_API_KEY' },
          },
        },
        commands: { 'restart:trading-api': ['ssh', 'ops', 'restart'] },
      },
    });
    expect(o.services.trading.auth?.scheme).toBe('x-api-key');
    expect(o.services.inference.baseUrl).toBe('http://backtest-api:8000');
    expect(o.commands['restart:trading-api']).toEqual(['ssh', 'ops', 'restart']);
    expect(o.commands['logs:usdcop-backtest-api']).toBeDefined();
  });

  test('a bad override names the key; SQL identifiers and command names are restricted', () => {
    expect(() =>
      resolvePlatformConfig({ overrides: { tables: { ohlcv: { table: 'x; DROP TABLE y' } } } }),
    ).toThrow(/platform\.tables\.ohlcv\.table/);
    expect(() =>
      resolvePlatformConfig({ overrides: { commands: { 'Restart Everything': ['sh'] } } }),
    ).toThrow(PlatformConfigError);
    expect(() =>
      resolvePlatformConfig({ overrides: { commands: { 'restart:x': 'docker restart x' } } }),
    ).toThrow(/commands/);
    expect(() => resolvePlatformConfig({ overrides: { nope: 1 } })).toThrow(/nope/);
  });
});

describe('checks', () => {
  test('health judged by the body: healthy, degraded (stub model), unreachable (container down)', async () => {
    const healthy = await pb.checkServiceHealth('trading');
    expect(healthy).toMatchObject({
      check: 'health:trading-api',
      outcome: 'answered',
      data: { reachable: true, status: 'healthy' },
    });
    expect(verdict(healthy)).toBe('ok');
    await playbook.injectFault({ model: 'stub' });
    const degraded = await pb.checkServiceHealth('inference');
    expect(degraded).toMatchObject({
      outcome: 'answered',
      data: { status: 'degraded', modelLoaded: false },
    });
    expect(verdict(degraded)).toBe('failed');
    await playbook.injectFault({ serviceDown: ['trading'] });
    // A container that does not answer is no measurement: unknown, never evidence of a fault.
    const down = await pb.checkServiceHealth('trading');
    expect(down).toMatchObject({
      outcome: 'unknown',
      data: { reachable: false, reachError: 'refused', status: null },
    });
  });

  test('deployed trading-api /api/health: "disconnected" database is a failure although HTTP 200', async () => {
    await deployed.injectFault({ databaseDisconnected: true });
    const h = await dep.checkServiceHealth('trading');
    expect(h).toMatchObject({
      outcome: 'answered',
      data: { reachable: true, databaseConnected: false },
    });
    expect(verdict(h)).toBe('failed');
  });

  test('a slow response past the headers timeout is a timeout (network partition evidence)', async () => {
    await playbook.injectFault({
      slowResponses: [{ service: 'trading', path: '/api/v1/health', delayMs: 3_000 }],
    });
    expect(await pb.checkServiceHealth('trading')).toMatchObject({
      outcome: 'unknown',
      data: { reachable: false, reachError: 'timeout', status: null },
    });
  });

  test('deployed: missing endpoints are "not available" (404), the shadowed rollback-targets 200 {error} is unknown', async () => {
    const metrics = await dep.checkModelMetrics('ppo_primary', '7d');
    expect(metrics.outcome).toBe('unavailable');
    expect(metrics.text).toContain('not available on this deployment (HTTP 404)');
    expect((await dep.checkRouterHistory(20)).outcome).toBe('unavailable');
    expect((await dep.checkDataStatus()).outcome).toBe('unavailable');
    expect((await dep.checkShadowComparison()).outcome).toBe('unavailable');
    // An error body is no answer about the targets: unknown, not "no target".
    const targets = await dep.checkRollbackTargets();
    expect(targets.outcome).toBe('unknown');
    expect(targets.text).toContain('Unknown model: rollback-targets');
    expect(targets.data.targets).toEqual([]);
    // Drift falls back to /monitoring/drift; canned demo data is unknown.
    await deployed.injectFault({ driftScore: 0.35 });
    const drift = await dep.checkDrift();
    expect(drift).toMatchObject({
      outcome: 'answered',
      data: { score: 0.35, source: '/api/v1/monitoring/drift' },
    });
    expect(verdict(drift)).toBe('failed');
    await deployed.injectFault({ driftDemoData: true });
    expect((await dep.checkDrift()).outcome).toBe('unknown');
    // Drift is a consistency warning (still OK to trade on), not a failure.
    const consistency = await dep.checkConsistency('ppo_primary');
    expect(consistency).toMatchObject({
      outcome: 'answered',
      data: { status: 'warning' },
    });
    expect(verdict(consistency)).toBe('ok');
  });

  test('playbook profile: Sharpe, shadow comparison, rollback targets, data status and sources', async () => {
    await playbook.injectFault({ sharpeRatio: 0.25 });
    const metrics = await pb.checkModelMetrics('ppo_primary', '7d');
    expect(metrics).toMatchObject({
      outcome: 'answered',
      data: { sharpe: 0.25 },
    });
    expect(verdict(metrics)).toBe('failed');
    expect((await pb.checkShadowComparison()).data.shadowSharpe).toBeGreaterThan(1);
    expect((await pb.checkRollbackTargets()).data.targets.length).toBeGreaterThan(0);
    const dataStatus = await pb.checkDataStatus();
    expect(dataStatus).toMatchObject({ outcome: 'answered', data: { stale: false } });
    expect(verdict(dataStatus)).toBe('ok');
    expect((await pb.checkDataSources()).data.fallbackAvailable).toBe(true);
    const ops = await pb.checkOperationsStatus();
    expect(ops).toMatchObject({
      outcome: 'answered',
      data: { mode: 'normal', killSwitchActive: false },
    });
    expect(verdict(ops)).toBe('ok');
  });

  test('SQL: freshness on the view (playbook) and on the symbol-filtered real table (deployed); trades with either columns', async () => {
    await playbook.injectFault({ staleDataMinutes: 45 });
    const stale = await pb.checkDataFreshness();
    expect(stale.outcome).toBe('answered');
    expect(stale.data.stalenessMinutes).toBeGreaterThanOrEqual(45);
    expect(verdict(stale)).toBe('failed');
    const fresh = await dep.checkDataFreshness();
    expect(fresh.outcome).toBe('answered');
    expect(fresh.data.stalenessMinutes).toBeLessThan(6);
    expect(verdict(fresh)).toBe('ok');
    await deployed.injectFault({ consecutiveLosses: 6 });
    const trades = await dep.checkRecentTrades();
    expect(trades).toMatchObject({
      outcome: 'answered',
      data: { consecutiveLosses: 6 },
    });
    expect(verdict(trades)).toBe('failed');
    expect((await pb.checkRecentTrades()).data.count).toBeGreaterThan(0);
  });

  test('freshness: a missing or misconfigured table is unknown; an empty table answers with no bar, which the judge calls unknown', async () => {
    const withOhlcv = (profile: 'playbook' | 'deployed', ohlcv: Record<string, unknown>) =>
      createProcedureActivities({
        platform: platformConfig(profile, profile === 'playbook' ? playbook : deployed, null, {
          tables: { ohlcv },
        }),
      });
    // No such table, no such column: the query failed, no measurement at all.
    const missing = await withOhlcv('playbook', { table: 'no_such_ohlcv_table' }).checkDataFreshness();
    expect(missing).toMatchObject({
      check: 'data-freshness',
      outcome: 'unknown',
      data: { latest: null, stalenessMinutes: null },
    });
    expect(missing.text).toContain('freshness query failed');
    expect(missing.text).toContain('no_such_ohlcv_table');
    const badColumn = await withOhlcv('playbook', { timeColumn: 'no_such_column' }).checkDataFreshness();
    expect(badColumn).toMatchObject({ outcome: 'unknown', data: { stalenessMinutes: null } });
    expect(badColumn.text).toContain('freshness query failed');

    // An empty table answers (max() of nothing is NULL): a measurement without a bar, which is no evidence.
    const db = new PgClient({ connectionString: playbook.databaseUrl });
    await db.connect();
    try {
      await db.query('CREATE TABLE IF NOT EXISTS proc_act_empty_ohlcv ("timestamp" timestamptz)');
      await db.query('TRUNCATE proc_act_empty_ohlcv');
    } finally {
      await db.end();
    }
    const empty = await withOhlcv('playbook', { table: 'proc_act_empty_ohlcv' }).checkDataFreshness();
    expect(empty).toMatchObject({
      check: 'data-freshness',
      outcome: 'answered',
      data: { latest: null, stalenessMinutes: null },
    });
    expect(empty.text).toContain('no USD/COP bars in proc_act_empty_ohlcv');
    expect(verdict(empty)).toBe('unknown');
    // The same on the symbol-filtered real table when the profile names a symbol it does not hold.
    const wrongSymbol = await withOhlcv('deployed', { symbol: 'EUR/USD' }).checkDataFreshness();
    expect(wrongSymbol).toMatchObject({
      outcome: 'answered',
      data: { latest: null, stalenessMinutes: null },
    });
    expect(verdict(wrongSymbol)).toBe('unknown');
  });

  test('database: SELECT 1, connection counts, an unreachable database is a finding', async () => {
    const up = await pb.checkDatabase();
    expect(up).toMatchObject({ outcome: 'answered', data: { reachable: true, sqlState: null } });
    expect(verdict(up)).toBe('ok');
    const c = await pb.checkDatabaseConnections();
    expect(c.outcome).toBe('answered');
    expect(c.data.limit).toBeGreaterThan(0);
    const broken = createProcedureActivities({
      platform: platformConfig('playbook', playbook, null, {
        database: { url: 'postgres://postgres@127.0.0.1:1/none', connectTimeoutMs: 500 },
      }),
    });
    expect(await broken.checkDatabase()).toMatchObject({ outcome: 'unknown', data: { reachable: false } });
    expect((await broken.checkDataFreshness()).outcome).toBe('unknown');
  });

  test('database: a connection that never got an answer (port 1) is unknown with no SQLSTATE, never evidence against the database', async () => {
    const unreachable = createProcedureActivities({
      platform: platformConfig('playbook', playbook, null, {
        database: { url: 'postgres://postgres@127.0.0.1:1/x', connectTimeoutMs: 500 },
      }),
    });
    const f = await unreachable.checkDatabase();
    expect(f).toMatchObject({
      check: 'database',
      outcome: 'unknown',
      data: { reachable: false, pingMs: null, sqlState: null },
    });
    expect(f.data.error).toEqual(expect.any(String));
    expect(f.text).not.toContain('SQLSTATE');
    // Even if someone judged it, a failed connection without a server error is no fault of the database.
    expect(verdict(f)).toBe('unknown');
  });

  test('Redis PING through the simulator to the real Redis; redisUnreachable reaches the engine and fails fast without retry storms', async () => {
    const up = await pb.checkRedis();
    expect(up).toMatchObject({ outcome: 'answered', data: { reachable: true } });
    expect(verdict(up)).toBe('ok');
    await playbook.injectFault({ redisUnreachable: true });
    const started = Date.now();
    // The engine's own config, no URL handed over: the fault reaches it like the others do.
    expect(await pb.checkRedis()).toMatchObject({ outcome: 'unknown', data: { reachable: false } });
    expect(Date.now() - started).toBeLessThan(3_000);
    await playbook.clearFaults();
    const back = await pb.checkRedis();
    expect(back).toMatchObject({ outcome: 'answered', data: { reachable: true } });
    expect(verdict(back)).toBe('ok');
  });

  test('commands only through the allow-list: status/logs parsed, a missing command is "not configured", a missing binary a finding', async () => {
    docker.update((s) => {
      s.containers['inference-api']!.state = 'exited';
      s.containers['inference-api']!.oomKilled = true;
      s.containers['trading-api']!.logs = [
        'INFO start',
        'ERROR db pool timeout',
        'MemoryError: cannot allocate',
      ];
    });
    const c = await pb.checkContainers();
    expect(c.outcome).toBe('answered');
    expect(c.data.containers).toEqual(
      expect.arrayContaining([{ name: 'inference-api', state: 'exited', oomKilled: true }]),
    );
    expect(verdict(c)).toBe('failed');
    const logs = await pb.checkContainerLogs('trading-api');
    expect(logs).toMatchObject({ outcome: 'answered', data: { filter: 'errors', outOfMemory: true } });
    expect(verdict(logs)).toBe('failed');
    // grep -E "(ERROR|CRITICAL|Exception)" is case-sensitive, as in the playbook; OOM is detected separately.
    expect(logs.data.lines).toEqual(['ERROR db pool timeout']);
    expect(await pb.checkContainerLogs('nginx')).toMatchObject({ outcome: 'unavailable' });
    expect((await dep.checkContainers()).outcome).toBe('unknown'); // deployed defaults run `docker`, absent here
    const none = createProcedureActivities({ platform: platformConfig('playbook', playbook, null, {}) });
    await expect(
      none.restartContainer({ container: 'nginx', notStartedAfter: new Date().toISOString() }),
    ).rejects.toMatchObject({ type: 'CommandNotConfigured', nonRetryable: true });
  });

  test('Airflow DAG runs via the REST API when configured; not configured is a finding', async () => {
    expect((await pb.checkAirflowDagRuns()).outcome).toBe('unavailable');
    const server = http.createServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (
        req.url?.startsWith('/api/v1/dags/rl_l1_01_feature_refresh/dagRuns') &&
        req.headers.authorization === `Basic ${Buffer.from('admin:pw').toString('base64')}`
      ) {
        res.end(
          JSON.stringify({
            dag_runs: [
              { dag_run_id: 'r3', state: 'failed' },
              { dag_run_id: 'r2', state: 'running' },
              { dag_run_id: 'r1', state: 'success' },
            ],
            total_entries: 3,
          }),
        );
      } else {
        res.statusCode = 401;
        res.end(JSON.stringify({ title: 'Unauthorized' }));
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const a = createProcedureActivities({
        platform: platformConfig('deployed', deployed, null, {
          airflow: { baseUrl: url, dagId: 'rl_l1_01_feature_refresh', username: 'admin', password: 'pw' },
        }),
      });
      const runs = await a.checkAirflowDagRuns();
      expect(runs).toMatchObject({
        outcome: 'answered',
        data: { running: 1, failed: 1, latestState: 'failed' },
      });
      expect(verdict(runs)).toBe('failed');
      const bad = createProcedureActivities({
        platform: platformConfig('deployed', deployed, null, {
          airflow: { baseUrl: url, dagId: 'rl_l1_01_feature_refresh', username: 'admin', password: 'wrong' },
        }),
      });
      await expect(bad.checkAirflowDagRuns()).rejects.toMatchObject({
        type: 'PlatformBadRequest',
        nonRetryable: true,
      });
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});

describe('auth and bad requests', () => {
  test('X-API-Key or Bearer from config; a 401 is a non-retryable failure, never a retry loop', async () => {
    const sim = await startSimulator({
      profile: 'playbook',
      databaseUrl: databaseUrl('usdcop_proc_act_playbook'),
      apiKey: 'k-123',
      resetData: false,
    });
    try {
      const keyed = createProcedureActivities({
        platform: platformConfig('playbook', sim, null, {
          services: {
            trading: { auth: { scheme: 'x-api-key', secret: 'k-123' } },
            inference: { auth: { scheme: 'bearer', secret: 'k-123' } },
          },
        }),
      });
      const health = await keyed.checkServiceHealth('trading');
      expect(health.outcome).toBe('answered');
      expect(verdict(health)).toBe('ok');
      const models = await keyed.checkModels();
      expect(models.outcome).toBe('answered');
      expect(verdict(models)).toBe('ok');
      const wrong = createProcedureActivities({
        platform: platformConfig('playbook', sim, null, {
          services: { trading: { auth: { scheme: 'x-api-key', secret: 'nope' } } },
        }),
      });
      const err = await wrong.checkServiceHealth('trading').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: 'PlatformBadRequest', nonRetryable: true });
      expect((err as Error).message).not.toContain('nope');
    } finally {
      await sim.stop();
    }
  });
});

describe('mutating calls are guarded', () => {
  test('kill switch: a second (retried) call does not act again', async () => {
    const a = await pb.activateKillSwitch({ reason: 'test', activatedBy: 'jest' });
    const b = await pb.activateKillSwitch({ reason: 'test', activatedBy: 'jest' });
    expect([a.applied, b.applied]).toEqual([true, false]);
    expect((await playbook.state()).applied.killSwitch).toBe(1);
    // resume: only while killed; then a retry is a no-op without a call
    expect((await pb.resumeTrading({ resumedBy: 'jest', confirmationCode: 'CONFIRM_RESUME' })).applied).toBe(
      true,
    );
    expect((await pb.resumeTrading({ resumedBy: 'jest', confirmationCode: 'CONFIRM_RESUME' })).applied).toBe(
      false,
    );
    expect((await playbook.state()).calls.resume).toBe(1);
  });

  test('resume with a wrong code is a non-retryable bad request (the platform says why)', async () => {
    await playbook.injectFault({ killSwitch: { reason: 'risk' } });
    await expect(pb.resumeTrading({ resumedBy: 'jest', confirmationCode: 'please' })).rejects.toMatchObject({
      type: 'PlatformBadRequest',
      nonRetryable: true,
      message: expect.stringContaining('CONFIRM_RESUME'),
    });
  });

  test('reload (5.1 "Force model reload"): answers what the platform reloaded; refused by its guard without a call', async () => {
    await playbook.injectFault({ staleDataMinutes: 30 });
    const refused = await pb.reloadModels({ preconditions: [{ kind: 'data-fresh', maxMinutes: 6 }] });
    expect(refused).toMatchObject({ applied: false, refused: [expect.stringContaining('stale again')] });
    expect((await playbook.state()).calls.reload).toBe(0);
    const r = await pb.reloadModels();
    expect(r.refused).toBeUndefined();
    expect(r.reloaded.length).toBeGreaterThan(0);
    expect((await playbook.state()).calls.reload).toBe(1);
  });

  test('pause: not when already paused', async () => {
    expect((await pb.pauseTrading({ pausedBy: 'jest', reason: 'x' })).applied).toBe(true);
    expect((await pb.pauseTrading({ pausedBy: 'jest', reason: 'x' })).applied).toBe(false);
    expect((await playbook.state()).applied.pause).toBe(1);
  });

  test('rollback: only while the expected champion is in place; no target -> non-retryable', async () => {
    const champion = (await pb.checkRouterStatus()).data.champion;
    const first = await pb.rollbackModel({
      reason: 'Sharpe 0.2',
      initiatedBy: 'jest',
      expectedChampion: champion,
    });
    const retry = await pb.rollbackModel({
      reason: 'Sharpe 0.2',
      initiatedBy: 'jest',
      expectedChampion: champion,
    });
    expect(first.applied).toBe(true);
    expect(retry).toMatchObject({ applied: false, newModel: first.newModel });
    expect((await playbook.state()).applied.rollback).toBe(1);
    await playbook.injectFault({ rollback: 'no_target' });
    const now = (await pb.checkRouterStatus()).data.champion;
    await expect(
      pb.rollbackModel({ reason: 'x', initiatedBy: 'jest', expectedChampion: now }),
    ).rejects.toMatchObject({ type: 'PlatformNotFound', nonRetryable: true });
  });

  test('restart: the allow-listed command once; a retry after the restart skips it', async () => {
    const approvedAt = new Date().toISOString();
    const a = await pb.restartContainer({ container: 'trading-api', notStartedAfter: approvedAt });
    const b = await pb.restartContainer({ container: 'trading-api', notStartedAfter: approvedAt });
    expect([a.applied, b.applied]).toEqual([true, false]);
    expect(docker.read().restarts).toEqual(['trading-api']);
  });

  test('terminate backend: that pid and that query only; a retry finds it gone', async () => {
    await playbook.injectFault({ longRunningQuery: { seconds: 120 } });
    await new Promise((r) => setTimeout(r, 1_000));
    const long = await pb.checkLongRunningQueries();
    expect(long.outcome).toBe('answered');
    expect(verdict(long)).toBe('failed');
    const q = long.data.queries.find((x) => x.query.includes('pg_sleep'))!;
    expect(q).toBeDefined();
    expect(await pb.terminateBackend({ pid: q.pid, queryStartUs: '1' })).toMatchObject({ applied: false });
    expect(await pb.terminateBackend({ pid: q.pid, queryStartUs: q.queryStartUs })).toMatchObject({
      applied: true,
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(await pb.terminateBackend({ pid: q.pid, queryStartUs: q.queryStartUs })).toMatchObject({
      applied: false,
    });
    expect((await playbook.state()).longRunningQuery?.endedBy).toBe('terminated');
  });
});
