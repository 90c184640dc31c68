// The `deployed` profile answers like the real deployment: missing routes 404, a shadowed
// rollback-targets route, consistency only at /api/v1/consistency/{model_id}.
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../scripts/simulator';
import { createCommandRunner } from '../../src/activities/platform/commands';
import { createWithDb } from '../../src/activities/platform/database';
import { createPlatformHttp } from '../../src/activities/platform/http';
import { createInferenceApiChecks } from '../../src/activities/platform/inference-api';
import { judgeReading } from '../../src/playbook/readings';
import { resolvePlatformConfig } from '../../src/platform/config';
import { agent, databaseUrl, expectEnvelope, get, post, start } from './helpers';

const DB = 'usdcop_sim_test_deployed';
let sim: Simulator;

beforeAll(async () => {
  sim = await start('deployed', DB);
});
afterAll(async () => {
  await sim.stop();
  await agent.close();
});

test.each([
  ['inference', '/api/v1/models/router/history?limit=20'],
  ['inference', '/api/v1/models/router/drift'],
  ['inference', '/api/v1/models/ppo_primary/metrics?window=7d'],
  ['inference', '/api/v1/models/shadow/comparison'],
  ['inference', '/api/v1/health/consistency/ppo_primary'],
  ['trading', '/api/v1/data/status'],
  ['trading', '/api/v1/data/sources'],
] as const)('%s %s is missing -> 404 envelope', async (service, path) => {
  const base = service === 'trading' ? sim.tradingUrl : sim.inferenceUrl;
  const r = await get(`${base}${path}`);
  expect(r.status).toBe(404);
  expectEnvelope(r.body, 'not_found');
});

test('rollback-targets is shadowed by GET /models/{id}: 200 with error', async () => {
  const r = await get(`${sim.inferenceUrl}/api/v1/models/rollback-targets`);
  expect(r.status).toBe(200);
  expect(r.body).toMatchObject({ error: 'Unknown model: rollback-targets' });
  expect((await get(`${sim.inferenceUrl}/api/v1/models/ppo_primary`)).body).toMatchObject({
    model_id: 'ppo_primary',
    status: 'loaded',
  });
});

test('consistency, drift, health, operations and rollback still served', async () => {
  const I = sim.inferenceUrl;
  expect((await get(`${I}/api/v1/consistency/ppo_primary`)).body).toMatchObject({
    model_id: 'ppo_primary',
    overall_status: 'passed',
  });
  expect((await get(`${I}/api/v1/monitoring/drift`)).body).toMatchObject({
    features_checked: 15,
    alert_active: false,
  });
  expect((await get(`${sim.tradingUrl}/api/health`)).body).toMatchObject({
    status: 'healthy',
    database: 'connected',
  });
  expect((await get(`${I}/api/v1/models/router/status`)).body).toMatchObject({ enabled: true, ready: true });
  expect((await get(`${I}/api/v1/operations/status`)).body).toMatchObject({ mode: 'normal' });
  const r = await post(`${I}/api/v1/models/rollback`, { reason: 'Sharpe 0.2' });
  expect(r.body).toMatchObject({ success: true, new_model: 'ppo_primary_v2' });
});

test('optional auth (designed scheme): X-API-Key or Bearer, 401 envelope otherwise', async () => {
  const authed = await startSimulator({
    profile: 'deployed',
    databaseUrl: databaseUrl(DB),
    resetData: false,
    apiKey: 'k-123',
  });
  try {
    const url = `${authed.inferenceUrl}/api/v1/models`;
    const denied = await get(url);
    expect(denied.status).toBe(401);
    expectEnvelope(denied.body, 'unauthorized');
    for (const headers of [{ 'x-api-key': 'k-123' }, { authorization: 'Bearer k-123' }]) {
      expect((await request(url, { dispatcher: agent, headers })).statusCode).toBe(200);
    }
  } finally {
    await authed.stop();
  }
});

test('GET /models lists the seed synthetic model `available`, as the real API does, and the engine reads it healthy', async () => {
  const r = await get(`${sim.inferenceUrl}/api/v1/models`);
  expect(r.body).toMatchObject({ default_model: 'ppo_primary', total: 3 });
  expect(r.body.models).toContainEqual(
    expect.objectContaining({ model_id: 'investor_demo', status: 'available', db_status: 'active' }),
  );
  const cfg = resolvePlatformConfig({
    profile: 'deployed',
    overrides: { services: { inference: { baseUrl: sim.inferenceUrl } } },
  });
  const checks = createInferenceApiChecks({
    cfg,
    http: createPlatformHttp(cfg, agent),
    commands: createCommandRunner(cfg),
    withDb: createWithDb(cfg),
  });
  const f = await checks.checkModels();
  expect(f.outcome).toBe('answered');
  expect(f.data.notLoaded).toEqual([]);
  expect(judgeReading(f.check, f.data)).toBe('ok');
});
