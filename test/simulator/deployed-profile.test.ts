// The `deployed` profile answers like the real deployment: missing routes 404, a shadowed
// rollback-targets route, consistency only at /api/v1/consistency/{model_id}.
import { request } from 'undici';
import { startSimulator, type Simulator } from '../../scripts/simulator';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createCommandChecks, createCommandRunner } from '../../src/activities/platform/commands';
import { createWithDb } from '../../src/activities/platform/database';
import { createPlatformHttp } from '../../src/activities/platform/http';
import { createInferenceApiChecks } from '../../src/activities/platform/inference-api';
import { judgeReading } from '../../src/playbook/readings';
import { DEPLOYED_CONTAINER_NAMES, resolvePlatformConfig } from '../../src/platform/config';
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

describe('deployed profile: the Compose container names', () => {
  const names = [
    'usdcop-trading-api',
    'usdcop-backtest-api',
    'usdcop-postgres-timescale',
    'usdcop-redis',
    'usdcop-airflow-scheduler',
  ];
  let dir: string;

  // A `docker` that knows exactly the deployment's containers and answers like the real CLI
  // (`docker ps --format '{{json .}}'` rows, `docker inspect` JSON, "No such object" and exit 1 otherwise).
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'fake-docker-'));
    const services: Record<string, string> = {
      'usdcop-trading-api': 'trading-api',
      'usdcop-backtest-api': 'backtest-api',
      'usdcop-postgres-timescale': 'postgres',
      'usdcop-redis': 'redis',
      'usdcop-airflow-scheduler': 'airflow-scheduler',
    };
    writeFileSync(
      path.join(dir, 'ps.jsonl'),
      names
        .map((n) =>
          JSON.stringify({
            ID: n.slice(0, 12),
            Image: `usdcop/${services[n]}`,
            Labels: `com.docker.compose.project=usdcop,com.docker.compose.service=${services[n]}`,
            Names: n,
            State: 'running',
            Status: 'Up 2 hours (healthy)',
          }),
        )
        .join('\n') + '\n',
    );
    writeFileSync(
      path.join(dir, 'docker'),
      `#!/bin/sh
echo "$*" >> "${dir}/calls.log"
if [ "$1" = ps ]; then cat "${dir}/ps.jsonl"; exit 0; fi
for n in ${names.join(' ')}; do
  if [ "$2" = "$n" ]; then
    case "$1" in
      inspect) printf '[{"Name":"/%s","State":{"Status":"running","OOMKilled":false,"StartedAt":"2026-01-05T13:00:00Z"}}]\\n' "$n" ;;
      logs) echo "INFO scheduler heartbeat" ;;
      restart) echo "$n" ;;
    esac
    exit 0
  fi
done
echo "Error: No such object: $2" >&2
exit 1
`,
    );
    chmodSync(path.join(dir, 'docker'), 0o755);
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test('the profile names the containers docker-compose.yml creates, and every command targets one of them', () => {
    const cfg = resolvePlatformConfig({ profile: 'deployed' });
    expect(cfg.containers).toEqual({
      apis: { trading: 'usdcop-trading-api', inference: 'usdcop-backtest-api' },
      database: 'usdcop-postgres-timescale',
      redis: 'usdcop-redis',
      airflowScheduler: 'usdcop-airflow-scheduler',
    });
    expect(Object.values(DEPLOYED_CONTAINER_NAMES).sort()).toEqual([...names].sort());
    for (const n of names) {
      expect(cfg.commands[`inspect:${n}`]).toEqual(['docker', 'inspect', n]);
      expect(cfg.commands[`logs:${n}`]).toEqual(['docker', 'logs', n, '--tail', '200']);
    }
    expect(cfg.commands['restart:usdcop-trading-api']).toEqual(['docker', 'restart', 'usdcop-trading-api']);
    expect(cfg.commands['restart:usdcop-backtest-api']).toEqual(['docker', 'restart', 'usdcop-backtest-api']);
    expect(cfg.commands['restart:usdcop-postgres-timescale']).toEqual([
      'docker',
      'restart',
      'usdcop-postgres-timescale',
    ]);
    for (const [name, argv] of Object.entries(cfg.commands)) {
      if (name === 'container-status') continue;
      expect(names).toContain(name.slice(name.indexOf(':') + 1));
      expect(names).toContain(argv[2]);
    }
  });

  test('against a docker that knows only those containers: status, logs and restart all find them', async () => {
    const profile = resolvePlatformConfig({ profile: 'deployed' });
    // The profile's own argument vectors, run by the fake instead of the `docker` binary.
    const cfg = {
      ...profile,
      commands: Object.fromEntries(
        Object.entries(profile.commands).map(([name, argv]) => [
          name,
          [argv[0] === 'docker' ? path.join(dir, 'docker') : argv[0]!, ...argv.slice(1)],
        ]),
      ),
    };
    const commands = createCommandRunner(cfg);
    const ctx = { cfg, http: createPlatformHttp(cfg, agent), commands, withDb: createWithDb(cfg) };
    const status = await createCommandChecks(ctx).checkContainers();
    expect(status.outcome).toBe('answered');
    expect(status.data.containers).toEqual([
      { name: 'usdcop-trading-api', state: 'running', oomKilled: false },
      { name: 'usdcop-backtest-api', state: 'running', oomKilled: false },
      { name: 'usdcop-postgres-timescale', state: 'running', oomKilled: false },
      { name: 'usdcop-redis', state: 'running', oomKilled: false },
    ]);
    const logs = await createCommandChecks(ctx).checkContainerLogs(cfg.containers.airflowScheduler);
    expect(logs.outcome).toBe('answered');
    const restart = await commands.runCommand(`restart:${cfg.containers.apis.inference}`);
    expect(restart).toMatchObject({ ok: true, exitCode: 0 });
    expect(readFileSync(path.join(dir, 'calls.log'), 'utf8')).toContain('restart usdcop-backtest-api\n');
  });
});
