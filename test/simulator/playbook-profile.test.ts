// Happy paths and errors of every endpoint in the `playbook` profile, over real HTTP and PostgreSQL.
import type { Simulator } from '../../scripts/simulator';
import { agent, expectEnvelope, get, http, post, sql, start } from './helpers';

const DB = 'usdcop_sim_test_playbook';
let sim: Simulator;
let T: string; // trading-api base URL
let I: string; // inference-api base URL

beforeAll(async () => {
  sim = await start('playbook', DB);
  T = sim.tradingUrl;
  I = sim.inferenceUrl;
});
afterAll(async () => {
  await sim.stop();
  await agent.close();
});
beforeEach(() => sim.reset());

describe('trading-api', () => {
  test('GET /api/health has the real deployment shape and fresh data', async () => {
    const r = await get(`${T}/api/health`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      status: 'healthy',
      database: 'connected',
      latest_data: { symbol: 'USD/COP' },
    });
    const latest = r.body.latest_data as { timestamp: string; age_seconds: number };
    expect(Date.now() - Date.parse(latest.timestamp)).toBeLessThan(5 * 60_000 + 5_000);
  });

  test('GET /api/v1/health on both services', async () => {
    for (const base of [T, I]) {
      const r = await get(`${base}/api/v1/health`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        status: 'healthy',
        version: expect.any(String),
        model_loaded: true,
        database_connected: true,
        timestamp: expect.any(String),
      });
    }
  });

  test('GET /api/v1/data/status and /data/sources exist and report freshness', async () => {
    const s = await get(`${T}/api/v1/data/status`);
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({
      status: 'healthy',
      is_stale: false,
      symbol: 'USD/COP',
      stale_threshold_seconds: 600,
    });
    const src = await get(`${T}/api/v1/data/sources`);
    expect(src.status).toBe(200);
    expect(src.body).toMatchObject({
      active_source: 'twelvedata',
      sources: [{ name: 'twelvedata', status: 'ok' }, { role: 'fallback' }],
    });
  });
});

describe('operations (3.1 kill switch, resume, pause)', () => {
  test('status starts normal', async () => {
    const r = await get(`${T}/api/v1/operations/status`);
    expect(r.body).toEqual({
      mode: 'normal',
      kill_switch_active: false,
      activated_at: null,
      activated_by: null,
      reason: null,
      timestamp: expect.any(String),
    });
  });

  test('kill switch without reason -> 400 validation envelope naming body.reason', async () => {
    const r = await post(`${T}/api/v1/operations/kill-switch`, { activated_by: 'oncall' });
    expect(r.status).toBe(400);
    expectEnvelope(r.body, 'validation_error');
    expect(r.body.details).toEqual({
      validation_errors: [{ field: 'body.reason', message: 'Field required', type: 'missing' }],
    });
    expect((await get(`${T}/api/v1/operations/status`)).body.mode).toBe('normal');
  });

  test('kill switch, wrong code rejected, CONFIRM_RESUME resumes; state lives in PostgreSQL', async () => {
    const k = await post(`${T}/api/v1/operations/kill-switch`, {
      reason: 'Daily loss limit',
      activated_by: 'oncall',
      close_positions: true,
      notify_team: false,
    });
    expect(k.status).toBe(200);
    expect(k.body).toEqual({
      success: true,
      mode: 'killed',
      activated_at: expect.any(String),
      message: expect.any(String),
      positions_closed: 0,
    });
    const rows = await sql<{ mode: string; reason: string; activated_by: string }>(
      DB,
      'SELECT mode, reason, activated_by FROM trading_operations_state',
    );
    expect(rows).toEqual([{ mode: 'killed', reason: 'Daily loss limit', activated_by: 'oncall' }]);
    expect((await get(`${I}/api/v1/operations/status`)).body).toMatchObject({
      mode: 'killed',
      kill_switch_active: true,
      activated_by: 'oncall',
    });

    const wrong = await post(`${T}/api/v1/operations/resume`, {
      resumed_by: 'oncall',
      confirmation_code: 'confirm_resume',
    });
    expect(wrong.status).toBe(400);
    expectEnvelope(wrong.body, 'validation_error');
    expect(wrong.body.message).toBe("Must provide confirmation_code='CONFIRM_RESUME'");
    const missing = await post(`${T}/api/v1/operations/resume`, { resumed_by: 'oncall' });
    expect(missing.status).toBe(400);
    expect(missing.body.details).toEqual({
      validation_errors: [{ field: 'body.confirmation_code', message: 'Field required', type: 'missing' }],
    });
    expect((await get(`${T}/api/v1/operations/status`)).body.mode).toBe('killed');

    const ok = await post(`${T}/api/v1/operations/resume`, {
      resumed_by: 'oncall',
      confirmation_code: 'CONFIRM_RESUME',
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ success: true, mode: 'normal', resumed_by: 'oncall' });
    expect((await get(`${T}/api/v1/operations/status`)).body).toMatchObject({
      mode: 'normal',
      kill_switch_active: false,
    });

    const state = await sim.state();
    expect(state.calls).toMatchObject({ killSwitch: 1, resume: 3, pause: 0 });
    expect(state.applied).toMatchObject({ killSwitch: 1, resume: 1 });
    expect(state.callLog.filter((c) => c.call === 'killSwitch')).toEqual([
      expect.objectContaining({
        service: 'trading',
        status: 200,
        body: expect.objectContaining({ reason: 'Daily loss limit' }),
      }),
    ]);
  });

  test('resume when not killed: 200 "Trading already active" with no change, even when paused', async () => {
    const p = await post(`${T}/api/v1/operations/pause`, { paused_by: 'oncall', reason: 'data stale' });
    expect(p.status).toBe(200);
    expect(p.body).toEqual({
      success: true,
      mode: 'paused',
      message: 'Trading paused',
      paused_by: 'oncall',
      timestamp: expect.any(String),
    });
    for (const code of ['CONFIRM_RESUME', 'anything']) {
      const r = await post(`${T}/api/v1/operations/resume`, { confirmation_code: code });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ success: true, mode: 'normal', message: 'Trading already active' });
    }
    expect((await get(`${T}/api/v1/operations/status`)).body).toMatchObject({
      mode: 'paused',
      kill_switch_active: false,
      reason: 'data stale',
    });
  });
});

describe('inference-api', () => {
  test('GET /models lists the champion loaded', async () => {
    const r = await get(`${I}/api/v1/models`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ default_model: 'ppo_primary', total: 2 });
    expect(r.body.models).toContainEqual(
      expect.objectContaining({ model_id: 'ppo_primary', status: 'loaded', version: 'v3' }),
    );
  });

  test('router status, history, drift', async () => {
    const s = await get(`${I}/api/v1/models/router/status`);
    expect(s.body).toMatchObject({
      enabled: true,
      ready: true,
      champion: 'ppo_primary_v3',
      shadow_enabled: true,
      statistics: { total_predictions: expect.any(Number), agreement_rate: expect.any(Number) },
    });
    const h = await get(`${I}/api/v1/models/router/history?limit=5`);
    expect(h.status).toBe(200);
    expect(h.body.predictions).toHaveLength(5);
    const bad = await get(`${I}/api/v1/models/router/history?limit=zero`);
    expect(bad.status).toBe(400);
    expect((bad.body.details as { validation_errors: { field: string }[] }).validation_errors[0]?.field).toBe(
      'query.limit',
    );
    const d = await get(`${I}/api/v1/models/router/drift`);
    expect(d.body).toMatchObject({ drift_detected: false, threshold: 0.2 });
    const m = await get(`${I}/api/v1/monitoring/drift`);
    expect(m.body).toMatchObject({ features_checked: 15, features_drifted: 0, alert_active: false });
    expect(m.body).not.toHaveProperty('_demo');
  });

  test('metrics?window=7d returns sharpe_ratio computed beside real trades', async () => {
    const r = await get(`${I}/api/v1/models/ppo_primary/metrics?window=7d`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      model_id: 'ppo_primary',
      window: '7d',
      metrics: { sharpe_ratio: 1.42, total_trades: 20, consecutive_losses: 0 },
    });
    expect((await get(`${I}/api/v1/models/nope/metrics?window=7d`)).status).toBe(404);
    const bad = await get(`${I}/api/v1/models/ppo_primary/metrics?window=week`);
    expect(bad.status).toBe(400);
    expectEnvelope(bad.body, 'validation_error');
  });

  test('consistency at both paths, shadow comparison', async () => {
    for (const path of ['/api/v1/health/consistency/ppo_primary', '/api/v1/consistency/ppo_primary']) {
      const r = await get(`${I}${path}`);
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({
        model_id: 'ppo_primary',
        overall_status: 'passed',
        passed: true,
        failed_checks: [],
      });
      expect((r.body.checks as unknown[]).length).toBeGreaterThan(0);
    }
    const unknown = await get(`${I}/api/v1/consistency/nope`);
    expect(unknown.body).toMatchObject({ overall_status: 'error', passed: false });
    const c = await get(`${I}/api/v1/models/shadow/comparison`);
    expect(c.body).toMatchObject({
      champion: { model_id: 'ppo_primary' },
      shadow: { model_id: 'ppo_shadow' },
      agreement_rate: expect.any(Number),
    });
  });

  test('rollback targets, rollback (reason required), verify via router status', async () => {
    const t = await get(`${I}/api/v1/models/rollback-targets`);
    expect(t.status).toBe(200);
    expect(t.body).toMatchObject({
      current_production: { version: 'v3' },
      recommendation: { version: 'v2' },
    });
    expect(t.body).not.toHaveProperty('error');

    const noReason = await post(`${I}/api/v1/models/rollback`, { initiated_by: 'oncall' });
    expect(noReason.status).toBe(400);
    expect(noReason.body.details).toEqual({
      validation_errors: [{ field: 'body.reason', message: 'Field required', type: 'missing' }],
    });

    const r = await post(`${I}/api/v1/models/rollback`, {
      reason: 'Sharpe dropped to 0.25',
      initiated_by: 'oncall',
    });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      success: true,
      previous_model: 'ppo_primary_v3',
      new_model: 'ppo_primary_v2',
      rollback_time_ms: expect.any(Number),
      message: expect.any(String),
    });
    expect((await get(`${I}/api/v1/models/router/status`)).body.champion).toBe('ppo_primary_v2');

    const missing = await post(`${I}/api/v1/models/rollback`, { reason: 'again', target_version: 7 });
    expect(missing.status).toBe(404);
    expectEnvelope(missing.body, 'not_found');
    expect((await sim.state()).calls.rollback).toBe(3);
  });

  test('reload reports success', async () => {
    const r = await post(`${I}/api/v1/models/reload`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      success: true,
      reloaded_models: ['champion', 'shadow'],
      failed_models: [],
    });
    expect((await sim.state()).calls.reload).toBe(1);
  });
});

describe('errors', () => {
  test('unknown route -> 404 envelope with X-Request-ID', async () => {
    const r = await get(`${I}/api/v1/nothing-here`);
    expect(r.status).toBe(404);
    expectEnvelope(r.body, 'not_found');
    expect(r.headers['x-request-id']).toBe(r.body.request_id);
  });

  test('malformed JSON -> 400 validation envelope', async () => {
    const r = await http('POST', `${I}/api/v1/models/rollback`, undefined, '{"reason":');
    expect(r.status).toBe(400);
    expectEnvelope(r.body, 'validation_error');
  });

  test('body over 1 MB -> 413, just under is accepted by the parser', async () => {
    const big = await http(
      'POST',
      `${I}/api/v1/models/rollback`,
      undefined,
      JSON.stringify({ reason: 'x'.repeat(1_100_000) }),
    );
    expect(big.status).toBe(413);
    expectEnvelope(big.body, 'payload_too_large');
    const under = await http(
      'POST',
      `${I}/api/v1/models/rollback`,
      undefined,
      JSON.stringify({ reason: 'x'.repeat(1_000_000) }),
    );
    expect(under.status).toBe(200);
  });
});
