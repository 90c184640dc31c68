// GET /api/v1/models read the way the real inference API means it: `loaded` is in memory, `available` is on
// disk (or synthetic) and loads on first use, `not_found` is a missing file. The bodies in
// test/fixtures/platform are the real API's answer shape; they are served over loopback HTTP to the real
// check activity, judged by the readings judge and fed to the 3.1 diagnosis.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createCommandRunner } from '../../src/activities/platform/commands';
import type { PlatformContext } from '../../src/activities/platform/context';
import { createWithDb } from '../../src/activities/platform/database';
import { createPlatformHttp } from '../../src/activities/platform/http';
import { createInferenceApiChecks } from '../../src/activities/platform/inference-api';
import { admit, type Reading } from '../../src/playbook/evidence';
import {
  diagnoseTradingSystemDown,
  type ServiceFacts,
  type TradingDownFacts,
} from '../../src/playbook/procedures';
import { judgeReading, type ModelStatus } from '../../src/playbook/readings';
import { resolvePlatformConfig } from '../../src/platform/config';

const fixture = (name: string): string =>
  readFileSync(path.join(__dirname, '../fixtures/platform', name), 'utf8');
const SEED = fixture('inference-models-seed.json');
const FILE_MISSING = fixture('inference-models-file-missing.json');

/** The body the loopback inference API answers next. */
let body = SEED;
let server: http.Server;
let checks: ReturnType<typeof createInferenceApiChecks>;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url !== '/api/v1/models') {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not Found"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const cfg = resolvePlatformConfig({
    profile: 'deployed',
    overrides: { services: { inference: { baseUrl: `http://127.0.0.1:${port}` } } },
  });
  const ctx: PlatformContext = {
    cfg,
    http: createPlatformHttp(cfg),
    commands: createCommandRunner(cfg),
    withDb: createWithDb(cfg),
  };
  checks = createInferenceApiChecks(ctx);
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The models reading as the workflow builds it: answered findings judged, anything else unknown. */
async function modelsReading(): Promise<{ reading: Reading; notLoaded: string[]; models: ModelStatus[] }> {
  const f = await checks.checkModels();
  const evidence = f.outcome === 'answered' ? judgeReading(f.check, f.data) : 'unknown';
  return {
    reading: { check: f.check, evidence, text: f.text },
    notLoaded: f.data.notLoaded,
    models: f.data.models,
  };
}

const svc = (container: string): ServiceFacts => ({
  container,
  health: { check: `health:${container}`, evidence: 'ok', text: 'healthy' },
  reachError: null,
  databaseConnected: true,
  modelLoaded: true,
});

/** A healthy deployed platform whose kill switch was set (the situation the issue reproduced). */
function facts(models: { reading: Reading; notLoaded: string[] }): TradingDownFacts {
  return {
    services: [svc('usdcop-trading-api'), svc('usdcop-backtest-api')],
    containers: { reading: { check: 'containers', evidence: 'unknown', text: 'not configured' }, list: null },
    database: { check: 'database', evidence: 'ok', text: 'SELECT 1 answered' },
    redis: { check: 'redis', evidence: 'ok', text: 'PONG' },
    models,
    logs: [],
    killSwitch: {
      reading: { check: 'operations-status', evidence: 'failed', text: 'mode killed' },
      active: true,
      reason: 'manual test',
      activatedBy: 'ops',
    },
    apiContainers: ['usdcop-trading-api', 'usdcop-backtest-api'],
    databaseContainer: null,
  };
}

describe('GET /api/v1/models as the real inference API answers it', () => {
  test('the seed body (one model only `available`) is healthy: no "Model file corrupted", the resume is asked', async () => {
    body = SEED;
    const m = await modelsReading();
    expect(m.models.map((x) => x.status)).toEqual(['available', 'loaded']); // the fixture really has one
    expect(m.reading.evidence).toBe('ok');
    expect(m.notLoaded).toEqual([]);
    expect(m.reading.text).toContain('investor_demo V1 available');
    const d = diagnoseTradingSystemDown(facts(m));
    expect(d.causes.map((c) => c.cause)).not.toContain('model-file-corrupted');
    expect(d.causes).toEqual([]);
    expect(d.unverified.filter((u) => /model/i.test(u))).toEqual([]);
    // With nothing else wrong, 3.1 immediate step 5 applies: the kill switch resume is requested.
    expect(d.resumeRequest).not.toBeNull();
  });

  test('a model whose file is missing (`not_found`) is the 3.1 "Model file corrupted" row, admitted', async () => {
    body = FILE_MISSING;
    const m = await modelsReading();
    expect(m.reading.evidence).toBe('failed');
    expect(m.notLoaded).toEqual(['ppo_v21']);
    expect(m.reading.text).toContain('ppo_v21');
    const d = diagnoseTradingSystemDown(facts(m));
    const corrupted = d.causes.find((c) => c.cause === 'model-file-corrupted');
    expect(corrupted?.remediation).toEqual({ kind: 'rollback-model' });
    expect(corrupted && admit(corrupted.justification).admitted).toBe(true);
    expect(d.resumeRequest).toBeNull(); // a cause explains the stop: no resume
  });

  test('the check and the judge agree on every status: `notLoaded` is non-empty exactly when the judge says failed', async () => {
    const parsed = JSON.parse(SEED) as { models: Record<string, unknown>[] };
    const cases: { status: string; version: string | null; evidence: string }[] = [
      { status: 'loaded', version: 'V20', evidence: 'ok' },
      { status: 'available', version: 'V20', evidence: 'ok' },
      { status: 'not_found', version: 'V20', evidence: 'failed' },
      { status: 'loaded', version: 'stub', evidence: 'failed' },
      { status: 'available', version: null, evidence: 'ok' },
      { status: 'warming_up', version: 'V20', evidence: 'unknown' },
    ];
    for (const c of cases) {
      body = JSON.stringify({
        ...parsed,
        models: [{ ...parsed.models[1], status: c.status, version: c.version }],
      });
      const m = await modelsReading();
      expect({ status: c.status, version: c.version, evidence: m.reading.evidence }).toEqual(c);
      expect(m.notLoaded.length > 0).toBe(c.evidence === 'failed');
    }
  });

  test('an empty list (the real API when it cannot read config.models) proves nothing: unknown, a human step', async () => {
    body = JSON.stringify({ models: [], default_model: 'ppo_primary', total: 0 });
    const m = await modelsReading();
    expect(m.reading.evidence).toBe('unknown');
    const d = diagnoseTradingSystemDown(facts(m));
    expect(d.causes).toEqual([]);
    expect(d.unverified.some((u) => u.includes('models'))).toBe(true);
  });
});
