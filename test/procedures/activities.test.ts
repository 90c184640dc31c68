// The procedure activities against the simulator (both profiles), real PostgreSQL and Redis, and the fake
// docker through the allow-list: findings instead of crashes, guards that keep mutating calls single.
import { ApplicationFailure } from '@temporalio/common';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createProcedureActivities, type ProcedureActivities } from '../../src/activities/platform';
import { resolvePlatformConfig, PlatformConfigError } from '../../src/platform/config';
import { startSimulator, type Simulator } from '../../scripts/simulator';
import { databaseUrl, FakeDocker, platformConfig } from './helpers';

let playbook: Simulator;
let deployed: Simulator;
let docker: FakeDocker;
let pb: ProcedureActivities;
let dep: ProcedureActivities;

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
    expect(o.commands['logs:backtest-api']).toBeDefined();
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
    expect(await pb.checkServiceHealth('trading')).toMatchObject({
      outcome: 'ok',
      data: { reachable: true, healthy: true },
    });
    await playbook.injectFault({ model: 'stub' });
    expect(await pb.checkServiceHealth('inference')).toMatchObject({
      outcome: 'failed',
      data: { healthy: false, modelLoaded: false },
    });
    await playbook.injectFault({ serviceDown: ['trading'] });
    const down = await pb.checkServiceHealth('trading');
    expect(down).toMatchObject({ outcome: 'failed', data: { reachable: false, reachError: 'refused' } });
  });

  test('deployed trading-api /api/health: "disconnected" database is a failure although HTTP 200', async () => {
    await deployed.injectFault({ databaseDisconnected: true });
    expect(await dep.checkServiceHealth('trading')).toMatchObject({
      outcome: 'failed',
      data: { databaseConnected: false },
    });
  });

  test('a slow response past the headers timeout is a timeout (network partition evidence)', async () => {
    await playbook.injectFault({
      slowResponses: [{ service: 'trading', path: '/api/v1/health', delayMs: 3_000 }],
    });
    expect(await pb.checkServiceHealth('trading')).toMatchObject({
      outcome: 'failed',
      data: { reachable: false, reachError: 'timeout' },
    });
  });

  test('deployed: missing endpoints are "not available" (404), the shadowed rollback-targets 200 {error} is a failure', async () => {
    const metrics = await dep.checkModelMetrics('ppo_primary', '7d');
    expect(metrics.outcome).toBe('unavailable');
    expect(metrics.text).toContain('not available on this deployment (HTTP 404)');
    expect((await dep.checkRouterHistory(20)).outcome).toBe('unavailable');
    expect((await dep.checkDataStatus()).outcome).toBe('unavailable');
    expect((await dep.checkShadowComparison()).outcome).toBe('unavailable');
    const targets = await dep.checkRollbackTargets();
    expect(targets.outcome).toBe('failed');
    expect(targets.text).toContain('Unknown model: rollback-targets');
    // Drift falls back to /monitoring/drift; canned demo data is unknown.
    await deployed.injectFault({ driftScore: 0.35 });
    expect(await dep.checkDrift()).toMatchObject({
      outcome: 'failed',
      data: { score: 0.35, source: '/api/v1/monitoring/drift' },
    });
    await deployed.injectFault({ driftDemoData: true });
    expect((await dep.checkDrift()).outcome).toBe('unknown');
    // Drift is a consistency warning (still OK to trade on), not a failure.
    expect(await dep.checkConsistency('ppo_primary')).toMatchObject({
      outcome: 'ok',
      data: { status: 'warning' },
    });
  });

  test('playbook profile: Sharpe, shadow comparison, rollback targets, data status and sources', async () => {
    await playbook.injectFault({ sharpeRatio: 0.25 });
    expect(await pb.checkModelMetrics('ppo_primary', '7d')).toMatchObject({
      outcome: 'failed',
      data: { sharpe: 0.25 },
    });
    expect((await pb.checkShadowComparison()).data.shadowSharpe).toBeGreaterThan(1);
    expect((await pb.checkRollbackTargets()).data.targets.length).toBeGreaterThan(0);
    expect(await pb.checkDataStatus()).toMatchObject({ outcome: 'ok', data: { stale: false } });
    expect((await pb.checkDataSources()).data.fallbackAvailable).toBe(true);
    expect(await pb.checkOperationsStatus()).toMatchObject({
      outcome: 'ok',
      data: { mode: 'normal', killSwitchActive: false },
    });
  });

  test('SQL: freshness on the view (playbook) and on the symbol-filtered real table (deployed); trades with either columns', async () => {
    await playbook.injectFault({ staleDataMinutes: 45 });
    const stale = await pb.checkDataFreshness();
    expect(stale.outcome).toBe('failed');
    expect(stale.data.stalenessMinutes).toBeGreaterThanOrEqual(45);
    const fresh = await dep.checkDataFreshness();
    expect(fresh.outcome).toBe('ok');
    expect(fresh.data.stalenessMinutes).toBeLessThan(6);
    await deployed.injectFault({ consecutiveLosses: 6 });
    expect(await dep.checkRecentTrades()).toMatchObject({
      outcome: 'failed',
      data: { consecutiveLosses: 6 },
    });
    expect((await pb.checkRecentTrades()).data.count).toBeGreaterThan(0);
  });

  test('database: SELECT 1, connection counts, an unreachable database is a finding', async () => {
    expect(await pb.checkDatabase()).toMatchObject({ outcome: 'ok', data: { reachable: true } });
    const c = await pb.checkDatabaseConnections();
    expect(c.data.limit).toBeGreaterThan(0);
    const broken = createProcedureActivities({
      platform: platformConfig('playbook', playbook, null, {
        database: { url: 'postgres://postgres@127.0.0.1:1/none', connectTimeoutMs: 500 },
      }),
    });
    expect(await broken.checkDatabase()).toMatchObject({ outcome: 'failed', data: { reachable: false } });
    expect((await broken.checkDataFreshness()).outcome).toBe('failed');
  });

  test('Redis PING against the real Redis, and a dead URL fails fast without retry storms', async () => {
    expect(await pb.checkRedis()).toMatchObject({ outcome: 'ok', data: { reachable: true } });
    const s = await playbook.injectFault({ redisUnreachable: true });
    const started = Date.now();
    expect(await pb.checkRedis(s.redisUrl)).toMatchObject({ outcome: 'failed', data: { reachable: false } });
    expect(Date.now() - started).toBeLessThan(3_000);
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
    expect(c.outcome).toBe('failed');
    expect(c.data.containers).toEqual(
      expect.arrayContaining([{ name: 'inference-api', state: 'exited', oomKilled: true }]),
    );
    const logs = await pb.checkContainerLogs('trading-api');
    expect(logs).toMatchObject({ outcome: 'failed', data: { outOfMemory: true } });
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
      expect(await a.checkAirflowDagRuns()).toMatchObject({
        outcome: 'failed',
        data: { running: 1, failed: 1, latestState: 'failed' },
      });
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
      expect((await keyed.checkServiceHealth('trading')).outcome).toBe('ok');
      expect((await keyed.checkModels()).outcome).toBe('ok');
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
    expect(long.outcome).toBe('failed');
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
