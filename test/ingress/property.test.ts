// Generated bad inputs (fast-check): random bytes, wrong types, huge bodies, deep nesting, missing fields
// always get a 4xx in the one envelope, start nothing, and leave the service healthy. And every valid
// generated notification normalizes to the contract's alert schema.
import fc from 'fast-check';
import { buildIngress } from '../../src/ingress/server';
import { alertSchema, incidentInputSchema } from '../../src/workflows/definitions';
import {
  alertmanagerPayload,
  closeAllApps,
  defaultRules,
  FakeStarter,
  httpClient,
  testConfig,
} from './helpers';

const starter = new FakeStarter();
const app = httpClient(
  buildIngress(
    testConfig({
      bodyLimitBytes: 64 * 1024,
      maxAlertsPerRequest: 50,
      rateLimitBurst: 1_000_000,
      rateLimitPerSecond: 1_000_000,
    }),
    { starter, rules: defaultRules() },
  ),
);
const ROUTES = [
  '/v1/alerts/alertmanager',
  '/v1/alerts/grafana',
  '/v1/alerts/generic',
  '/v1/incidents',
] as const;

afterAll(closeAllApps);

async function expectRefused(url: string, payload: string | Buffer, contentType = 'application/json') {
  const before = starter.calls.length;
  const res = await app.inject({ method: 'POST', url, headers: { 'content-type': contentType }, payload });
  if (res.statusCode < 400 || res.statusCode >= 500)
    throw new Error(
      `expected 4xx, got ${res.statusCode} for ${payload.slice(0, 200).toString()}: ${res.body.slice(0, 300)}`,
    );
  const body = res.json();
  expect(body.error).toMatchObject({
    status: res.statusCode,
    code: expect.any(String),
    message: expect.any(String),
  });
  expect(typeof body.error.field).toBe('string');
  expect(starter.calls.length).toBe(before);
}

const route = fc.constantFrom(...ROUTES);
const opts = { numRuns: 60 };

describe('generated bad inputs', () => {
  it('random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(route, fc.uint8Array({ maxLength: 2048 }), async (url, bytes) => {
        const buf = Buffer.from(bytes);
        // A few byte strings are valid JSON of the wrong shape: still a 4xx.
        await expectRefused(url, buf);
      }),
      opts,
    );
  });

  it('any JSON value of the wrong shape', async () => {
    await fc.assert(
      fc.asyncProperty(route, fc.jsonValue({ maxDepth: 4 }), async (url, value) => {
        await expectRefused(url, JSON.stringify(value) ?? 'null');
      }),
      opts,
    );
  });

  it('valid payloads with one field replaced by a wrong type or removed', async () => {
    const base = alertmanagerPayload([{ alertname: 'TradingAPIDown', labels: { service: 'x' } }]);
    const paths: string[][] = [
      ['version'],
      ['status'],
      ['receiver'],
      ['groupKey'],
      ['alerts'],
      ['alerts', '0'],
      ['alerts', '0', 'status'],
      ['alerts', '0', 'labels'],
      ['alerts', '0', 'labels', 'alertname'],
      ['alerts', '0', 'startsAt'],
    ];
    const wrong = fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.integer(), { maxLength: 3 }),
      fc.dictionary(fc.string(), fc.integer(), { maxKeys: 2 }),
      fc.constant('__remove__'),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...paths), wrong, async (path, value) => {
        const copy = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
        let node: Record<string, unknown> = copy;
        for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
        const last = path[path.length - 1] as string;
        if (value === '__remove__') delete node[last];
        else node[last] = value;
        // A dictionary of integers as labels, or [] as alerts, must still be refused.
        await expectRefused('/v1/alerts/alertmanager', JSON.stringify(copy));
      }),
      opts,
    );
  });

  it('deep nesting and huge bodies', async () => {
    for (const url of ROUTES) {
      await expectRefused(url, '['.repeat(30_000) + ']'.repeat(30_000));
      await expectRefused(
        url,
        JSON.stringify({ version: '4', deep: JSON.parse('['.repeat(2000) + ']'.repeat(2000)) }),
      );
      await expectRefused(url, JSON.stringify({ pad: 'x'.repeat(200 * 1024) }));
      await expectRefused(
        url,
        JSON.stringify(alertmanagerPayload(Array.from({ length: 51 }, (_, i) => ({ alertname: `A${i}` })))),
      );
      await expectRefused(url, '{"__proto__": {"polluted": true}, "version": "4"}');
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('the service stays healthy afterwards', async () => {
    const h = await app.inject({ method: 'GET', url: '/healthz' });
    expect(h.statusCode).toBe(200);
    const ok = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      payload: alertmanagerPayload([{ alertname: 'TradingAPIDown' }]),
    });
    expect(ok.statusCode).toBe(200);
  });
});

describe('generated valid notifications', () => {
  const labelValue = fc.string({ minLength: 0, maxLength: 600 });
  const labelName = fc.stringMatching(/^[a-z_][a-z0-9_]{0,20}$/);
  const time = fc
    .date({
      min: new Date('1971-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString());
  const amAlert = fc.record({
    status: fc.constantFrom('firing', 'resolved'),
    labels: fc
      .tuple(
        fc.string({ minLength: 1, maxLength: 400 }).filter((s) => s.trim().length > 0),
        fc.dictionary(labelName, labelValue, { maxKeys: 8 }),
      )
      .map(([name, rest]) => ({ ...rest, alertname: name })),
    annotations: fc.dictionary(
      fc.constantFrom('summary', 'description', 'runbook_url', 'x'),
      fc.string({ maxLength: 5000 }),
      { maxKeys: 3 },
    ),
    startsAt: time,
    endsAt: fc.oneof(time, fc.constant('0001-01-01T00:00:00Z')),
    fingerprint: fc.option(fc.string({ minLength: 1, maxLength: 200 }), { nil: undefined }),
  });

  it('always normalize to the contract and start valid incidents', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(amAlert, { minLength: 1, maxLength: 5 }), async (alerts) => {
        starter.calls.length = 0;
        const payload = {
          version: '4',
          groupKey: 'g',
          status: 'firing',
          receiver: 'r',
          alerts,
          truncatedAlerts: 0,
        };
        const res = await app.inject({ method: 'POST', url: '/v1/alerts/alertmanager', payload });
        expect(res.statusCode).toBe(200);
        for (const call of starter.calls) {
          expect(alertSchema.safeParse(call.alert).success).toBe(true);
          if (call.op === 'fire')
            expect(incidentInputSchema.safeParse((call.cmd as { input: unknown }).input).success).toBe(true);
        }
      }),
      { numRuns: 40 },
    );
  });
});
