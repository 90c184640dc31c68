// Every fault of the /__sim API produces its playbook symptom on the wire or in PostgreSQL,
// and clearing it restores the healthy platform.
import net from 'node:net';
import { SimulatorFaultError, type Simulator } from '../../scripts/simulator';
import { agent, expectEnvelope, get, http, post, sql, start } from './helpers';

const DB = 'usdcop_sim_test_faults';
let sim: Simulator;
let T: string;
let I: string;
let C: string;

async function connectError(url: string): Promise<string | undefined> {
  try {
    await get(url);
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

function tcpRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

/** An inline PING through the relay (RESP): the first reply line. */
function redisPing(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
    s.setTimeout(2_000, () => s.destroy(new Error('no reply')));
    s.once('data', (d) => {
      resolve(d.toString().split('\r\n')[0] ?? '');
      s.destroy();
    });
    s.once('error', reject);
  });
}

beforeAll(async () => {
  sim = await start('playbook', DB);
  T = sim.tradingUrl;
  I = sim.inferenceUrl;
  C = sim.controlUrl;
});
afterAll(async () => {
  await sim.stop();
  await agent.close();
});
beforeEach(() => sim.reset());

describe('fault API validation', () => {
  test('HTTP: 400 envelope naming the bad fields', async () => {
    const r = await post(`${C}/__sim/faults`, {
      sharpeRatio: 'low',
      bogus: true,
      httpErrors: [{ path: '/x', status: 404 }],
    });
    expect(r.status).toBe(400);
    expectEnvelope(r.body, 'validation_error');
    const fields = (r.body.details as { validation_errors: { field: string }[] }).validation_errors
      .map((e) => e.field)
      .sort();
    expect(fields).toEqual(['body.bogus', 'body.httpErrors.0.status', 'body.sharpeRatio']);
  });

  test('programmatic: SimulatorFaultError with the field', async () => {
    const err = await sim.injectFault({ staleDataMinutes: -1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SimulatorFaultError);
    expect((err as SimulatorFaultError).issues[0]?.field).toBe('body.staleDataMinutes');
  });
});

describe('3.1 trading system down', () => {
  test('serviceDown closes the listener (ECONNREFUSED) and clearing reopens the same port', async () => {
    await sim.injectFault({ serviceDown: ['trading', 'inference'] });
    expect(await connectError(`${T}/api/v1/health`)).toBe('ECONNREFUSED');
    expect(await connectError(`${I}/api/v1/health`)).toBe('ECONNREFUSED');
    const s = await get(`${C}/__sim/state`);
    expect(s.body.listening).toEqual({ trading: false, inference: false, redis: true });
    const cleared = await http('DELETE', `${C}/__sim/faults`);
    expect(cleared.status).toBe(200);
    expect((await get(`${T}/api/v1/health`)).status).toBe(200);
    expect((await get(`${I}/api/v1/health`)).status).toBe(200);
  });

  test('a service can take itself down through its own /__sim route', async () => {
    const r = await post(`${T}/__sim/faults`, { serviceDown: ['trading'] });
    expect(r.status).toBe(200);
    expect(await connectError(`${T}/api/health`)).toBe('ECONNREFUSED');
    expect((await post(`${I}/__sim/faults`, { serviceDown: [] })).status).toBe(200);
    expect((await get(`${T}/api/health`)).status).toBe(200);
  });

  test('httpErrors: chosen status on chosen routes only, per service, prefix patterns', async () => {
    await sim.injectFault({
      httpErrors: [
        { service: 'trading', path: '/api/v1/operations/*', status: 503 },
        { path: '/api/v1/health', method: 'GET' },
      ],
    });
    const ops = await get(`${T}/api/v1/operations/status`);
    expect(ops.status).toBe(503);
    expectEnvelope(ops.body, 'service_unavailable');
    expect((await get(`${I}/api/v1/operations/status`)).status).toBe(200);
    expect((await get(`${T}/api/v1/health`)).status).toBe(500);
    expect((await get(`${I}/api/v1/health`)).status).toBe(500);
    expect((await get(`${T}/api/health`)).status).toBe(200);
    await sim.clearFaults();
    expect((await get(`${T}/api/v1/operations/status`)).status).toBe(200);
  });

  test('slowResponses delays the matching route', async () => {
    await sim.injectFault({
      slowResponses: [{ service: 'inference', path: '/api/v1/models', delayMs: 400 }],
    });
    let t0 = performance.now();
    await get(`${I}/api/v1/models`);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(390);
    t0 = performance.now();
    await get(`${I}/api/v1/health`);
    expect(performance.now() - t0).toBeLessThan(300);
  });

  test('killSwitch fault: killed with reason and activated_by, not counted as a call; clearing restores', async () => {
    await sim.injectFault({ killSwitch: { reason: 'Unexpected trigger', activated_by: 'risk_monitor' } });
    const s = await get(`${T}/api/v1/operations/status`);
    expect(s.body).toMatchObject({
      mode: 'killed',
      kill_switch_active: true,
      reason: 'Unexpected trigger',
      activated_by: 'risk_monitor',
    });
    expect((await sim.state()).calls.killSwitch).toBe(0);
    await sim.clearFaults();
    expect((await get(`${T}/api/v1/operations/status`)).body).toMatchObject({
      mode: 'normal',
      kill_switch_active: false,
    });
  });

  test('a kill switch activated through the API survives clearFaults', async () => {
    await post(`${T}/api/v1/operations/kill-switch`, { reason: 'manual' });
    await sim.clearFaults();
    expect((await get(`${T}/api/v1/operations/status`)).body.mode).toBe('killed');
  });

  test('tradingPaused (3.3 auto-pause) and resume does not unpause it', async () => {
    await sim.injectFault({ tradingPaused: { reason: 'TwelveData stale' } });
    expect((await get(`${T}/api/v1/operations/status`)).body).toMatchObject({
      mode: 'paused',
      reason: 'TwelveData stale',
    });
    const r = await post(`${T}/api/v1/operations/resume`, { confirmation_code: 'CONFIRM_RESUME' });
    expect(r.body.message).toBe('Trading already active');
    expect((await get(`${T}/api/v1/operations/status`)).body.mode).toBe('paused');
  });

  test('redisUnreachable closes the Redis relay: its port refuses connections until cleared', async () => {
    const port = Number(new URL(sim.redisUrl).port);
    expect(await redisPing(port)).toBe('+PONG');
    const s = await sim.injectFault({ redisUnreachable: true });
    expect(s.redisUrl).toBe(sim.redisUrl);
    expect(s.listening.redis).toBe(false);
    expect(await tcpRefused(port)).toBe(true);
    await sim.clearFaults();
    expect((await sim.state()).listening.redis).toBe(true);
    expect(await redisPing(port)).toBe('+PONG');
  });

  test('model not_loaded: degraded health, router not ready; reload loads it', async () => {
    await sim.injectFault({ model: 'not_loaded' });
    expect((await get(`${I}/api/v1/health`)).body).toMatchObject({ status: 'degraded', model_loaded: false });
    expect((await get(`${I}/api/v1/models/router/status`)).body).toMatchObject({ ready: false });
    expect((await get(`${I}/api/v1/models`)).body.models).toContainEqual(
      expect.objectContaining({ model_id: 'ppo_primary', status: 'available' }),
    );
    expect((await post(`${I}/api/v1/models/reload`)).body).toMatchObject({ success: true });
    expect((await get(`${I}/api/v1/health`)).body).toMatchObject({ status: 'healthy', model_loaded: true });
  });

  test('stub model: reload still reports success, verification still fails', async () => {
    await sim.injectFault({ model: 'stub' });
    expect((await post(`${I}/api/v1/models/reload`)).body).toMatchObject({
      success: true,
      failed_models: [],
    });
    expect((await get(`${I}/api/v1/health`)).body).toMatchObject({ status: 'degraded', model_loaded: false });
    expect((await get(`${I}/api/v1/consistency/ppo_primary`)).body).toMatchObject({
      overall_status: 'failed',
      failed_checks: ['model_artifact'],
    });
  });

  test('databaseDisconnected: /api/health stays 200 but says unhealthy', async () => {
    await sim.injectFault({ databaseDisconnected: true });
    const r = await get(`${T}/api/health`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ status: 'unhealthy', database: 'disconnected', latest_data: null });
    expect((await get(`${T}/api/v1/health`)).body).toMatchObject({
      status: 'degraded',
      database_connected: false,
    });
  });
});

describe('3.2 model performance degradation', () => {
  test('sharpeRatio and driftScore reach metrics, drift, router and consistency', async () => {
    await sim.injectFault({ sharpeRatio: 0.25, driftScore: 0.35 });
    const m = await get(`${I}/api/v1/models/ppo_primary/metrics?window=7d`);
    expect((m.body.metrics as { sharpe_ratio: number }).sharpe_ratio).toBe(0.25);
    expect((await get(`${I}/api/v1/models/router/drift`)).body).toMatchObject({
      psi: 0.35,
      drift_detected: true,
    });
    const d = await get(`${I}/api/v1/monitoring/drift`);
    expect(d.body).toMatchObject({ overall_drift_score: 0.35, alert_active: true });
    expect(d.body.features_drifted).toBeGreaterThan(0);
    expect((await get(`${I}/api/v1/consistency/ppo_primary`)).body).toMatchObject({
      overall_status: 'warning',
      passed: true,
    });
    await sim.injectFault({ driftDemoData: true });
    expect((await get(`${I}/api/v1/monitoring/drift`)).body).toMatchObject({ _demo: true });
  });

  test('rollback restores the target Sharpe', async () => {
    await sim.injectFault({ sharpeRatio: 0.2 });
    await post(`${I}/api/v1/models/rollback`, { reason: 'Sharpe 0.2' });
    const m = await get(`${I}/api/v1/models/ppo_primary/metrics?window=7d`);
    expect((m.body.metrics as { sharpe_ratio: number }).sharpe_ratio).toBe(1.18);
  });

  test('rollback fail -> 500, no_target -> empty targets and 404', async () => {
    await sim.injectFault({ rollback: 'fail' });
    const f = await post(`${I}/api/v1/models/rollback`, { reason: 'x' });
    expect(f.status).toBe(500);
    expectEnvelope(f.body, 'internal_error');
    expect((await sim.state()).model.champion).toBe('ppo_primary_v3');
    await sim.injectFault({ rollback: 'no_target' });
    expect((await get(`${I}/api/v1/models/rollback-targets`)).body).toMatchObject({
      available_targets: [],
      recommendation: null,
    });
    const n = await post(`${I}/api/v1/models/rollback`, { reason: 'x' });
    expect(n.status).toBe(404);
    expectEnvelope(n.body, 'not_found');
    const s = await sim.state();
    expect(s.calls.rollback).toBe(2);
    expect(s.applied.rollback).toBe(0);
  });

  test('consecutiveLosses inserts real losing trades the playbook query sees', async () => {
    await sim.injectFault({ consecutiveLosses: 6 });
    const rows = await sql<{ trade_id: string; signal: string; pnl: number }>(
      DB,
      `SELECT trade_id, signal, pnl, created_at FROM trades_history WHERE created_at > NOW() - INTERVAL '24 hours' ORDER BY created_at DESC LIMIT 20`,
    );
    expect(rows.slice(0, 6).every((r) => r.pnl < 0)).toBe(true);
    expect(rows[6]?.pnl).toBeGreaterThan(0);
    const real = await sql<{ pnl_usd: number; side: string }>(
      DB,
      `SELECT pnl_usd, side FROM trades_history ORDER BY created_at DESC LIMIT 6`,
    );
    expect(real.every((r) => r.pnl_usd < 0 && ['LONG', 'SHORT'].includes(r.side))).toBe(true);
    const m = await get(`${I}/api/v1/models/ppo_primary/metrics?window=7d`);
    expect((m.body.metrics as { consecutive_losses: number }).consecutive_losses).toBe(6);
    await sim.clearFaults();
    expect((await sql<{ n: string }>(DB, `SELECT count(*) AS n FROM trades_history`))[0]?.n).toBe('20');
  });
});

describe('3.3 data source down', () => {
  test('staleDataMinutes moves the latest bar into the past in both table names; clearing refreshes', async () => {
    await sim.injectFault({ staleDataMinutes: 45 });
    const [real] = await sql<{ age: number }>(
      DB,
      `SELECT extract(epoch FROM now() - max(time))::float8 AS age FROM usdcop_m5_ohlcv WHERE symbol = 'USD/COP'`,
    );
    expect(real?.age).toBeGreaterThanOrEqual(45 * 60);
    expect(real?.age).toBeLessThan(46 * 60);
    const [pb] = await sql<{ age: number }>(
      DB,
      `SELECT extract(epoch FROM NOW() - MAX(timestamp))::float8 AS age FROM ohlcv_usdcop_5m`,
    );
    expect(pb?.age).toBeGreaterThanOrEqual(45 * 60);
    // Other pairs stay fresh: a freshness check must filter by symbol.
    const [other] = await sql<{ age: number }>(
      DB,
      `SELECT extract(epoch FROM now() - max(time))::float8 AS age FROM usdcop_m5_ohlcv`,
    );
    expect(other?.age).toBeLessThan(5 * 60 + 5);
    expect((await get(`${T}/api/v1/data/status`)).body).toMatchObject({ status: 'stale', is_stale: true });
    expect((await get(`${I}/api/v1/health/consistency/ppo_primary`)).body).toMatchObject({
      overall_status: 'failed',
      failed_checks: ['data_freshness'],
    });
    await sim.clearFaults();
    const [fresh] = await sql<{ age: number }>(
      DB,
      `SELECT extract(epoch FROM now() - max(time))::float8 AS age FROM usdcop_m5_ohlcv WHERE symbol = 'USD/COP'`,
    );
    expect(fresh?.age).toBeLessThan(5 * 60 + 5);
    expect((await get(`${T}/api/v1/data/status`)).body).toMatchObject({ is_stale: false });
  });
});

describe('3.4 database connection issues', () => {
  const activity = () =>
    sql<{ pid: number; state: string; query: string }>(
      DB,
      `SELECT pid, state, query FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()`,
    );

  test('longRunningQuery is a real pg_sleep backend, gone after clearing', async () => {
    await sim.injectFault({ longRunningQuery: { seconds: 300 } });
    const info = (await sim.state()).longRunningQuery;
    expect(info).toMatchObject({ active: true, seconds: 300 });
    const rows = await activity();
    expect(rows).toEqual([expect.objectContaining({ pid: info?.pid, state: 'active' })]);
    await sim.clearFaults();
    expect(await activity()).toEqual([]);
  });

  test('pg_terminate_backend by the engine ends it without crashing the simulator', async () => {
    const s = await sim.injectFault({ longRunningQuery: { seconds: 300 } });
    const pid = s.longRunningQuery?.pid;
    await sql(DB, 'SELECT pg_terminate_backend($1)', [pid]);
    for (let i = 0; i < 50 && (await sim.state()).longRunningQuery?.active; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect((await sim.state()).longRunningQuery).toMatchObject({ active: false, endedBy: 'terminated' });
    expect(await activity()).toEqual([]);
    expect((await get(`${T}/api/v1/health`)).body).toMatchObject({ database_connected: true });
  });
});

test('reset clears call counts', async () => {
  await post(`${T}/api/v1/operations/pause`, { reason: 'x' });
  expect((await get(`${C}/__sim/state`)).body.calls).toMatchObject({ pause: 1 });
  expect((await post(`${C}/__sim/reset`)).body.calls).toEqual({
    killSwitch: 0,
    resume: 0,
    pause: 0,
    rollback: 0,
    reload: 0,
  });
});
