// Generated bad inputs (fast-check): random bytes, wrong types, huge bodies, deep nesting, missing required
// fields always get a 4xx in the one envelope, start nothing, and leave the service healthy. And every valid
// generated notification (Alertmanager, Grafana, generic), with any text in its labels and annotations (NUL,
// lone surrogates, values past the limits), is accepted and normalizes to clean text within the contract.
import { cleanText } from '../../src/playbook/text';
import fc from 'fast-check';
import { buildIngress } from '../../src/ingress/server';
import { TRUNCATED_ANNOTATION } from '../../src/ingress/normalize';
import { alertSchema, incidentInputSchema, type Alert } from '../../src/playbook/contract/incident';
import {
  alertmanagerPayload,
  closeAllApps,
  defaultRules,
  expectAllClean,
  FakeStarter,
  httpClient,
  nastyChar,
  nastyString,
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

  it('valid payloads with a required field broken or removed, or a used field of the wrong type', async () => {
    const base = alertmanagerPayload([{ alertname: 'TradingAPIDown', labels: { service: 'x' } }]);
    // What the ingress cannot do without: refused whether wrong or missing.
    const required: string[][] = [
      ['version'],
      ['alerts'],
      ['alerts', '0'],
      ['alerts', '0', 'status'],
      ['alerts', '0', 'labels'],
      ['alerts', '0', 'labels', 'alertname'],
    ];
    // Optional fields the ingress reads: refused when of the wrong type (never for missing or too long).
    const typed: string[][] = [
      ['alerts', '0', 'startsAt'],
      ['alerts', '0', 'endsAt'],
      ['alerts', '0', 'fingerprint'],
      ['alerts', '0', 'generatorURL'],
      ['alerts', '0', 'annotations'],
    ];
    const wrong = fc.oneof(
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.integer(), { minLength: 1, maxLength: 3 }),
      fc.dictionary(fc.string(), fc.integer(), { minKeys: 1, maxKeys: 2 }),
    );
    const cases = fc.oneof(
      fc.tuple(fc.constantFrom(...required), fc.oneof(wrong, fc.constant('__remove__'))),
      fc.tuple(fc.constantFrom(...typed), wrong),
    );
    await fc.assert(
      fc.asyncProperty(cases, async ([path, value]) => {
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

  it('fields the ingress does not use are never a reason to refuse', async () => {
    const base = alertmanagerPayload([{ alertname: 'TradingAPIDown', labels: { service: 'x' } }]);
    const unused = ['status', 'receiver', 'groupKey', 'groupLabels', 'commonLabels', 'externalURL', 'extra'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...unused),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constant('__remove__')),
        async (field, value) => {
          const copy = JSON.parse(JSON.stringify(base)) as Record<string, unknown>;
          if (value === '__remove__') delete copy[field];
          else copy[field] = value;
          const res = await app.inject({ method: 'POST', url: '/v1/alerts/alertmanager', payload: copy });
          expect(res.statusCode).toBe(200);
        },
      ),
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

describe('generated valid notifications (issue 12 items 6 and 7)', () => {
  // Default limits (16 MiB body, 1,000 alerts): any real notification fits.
  const valid = new FakeStarter();
  const validApp = httpClient(
    buildIngress(testConfig({ rateLimitBurst: 1_000_000, rateLimitPerSecond: 1_000_000 }), {
      starter: valid,
      rules: defaultRules(),
    }),
  );

  // Label and annotation names and values, alert names: any text, NUL and lone surrogates included;
  // sometimes longer than the ingress keeps (label values and annotations past 16,384 chars).
  const text = (max: number) =>
    fc.oneof(
      { weight: 4, arbitrary: nastyString(max) },
      { weight: 1, arbitrary: fc.string({ unit: nastyChar, minLength: 16_000, maxLength: 20_000 }) },
    );
  const labelName = fc.oneof(fc.stringMatching(/^[a-z_][a-z0-9_]{0,20}$/), nastyString(30));
  // A name that is nothing but controls or invisible characters is empty once cleaned: a 400, tested apart.
  const name = fc.oneof(nastyString(60), nastyString(400)).filter((n) => cleanText(n).trim().length > 0);
  const labels = fc.dictionary(labelName, text(200), { maxKeys: 6 });
  const annotations = fc.dictionary(
    fc.oneof(fc.constantFrom('summary', 'description', 'runbook_url'), labelName),
    text(600),
    {
      maxKeys: 3,
    },
  );
  const time = fc
    .date({
      min: new Date('1971-01-01T00:00:00Z'),
      max: new Date('9999-12-31T23:59:59Z'),
      noInvalidDate: true,
    })
    .map((d) => d.toISOString());
  const status = fc.constantFrom('firing', 'resolved');
  const fingerprint = fc.option(fc.oneof(nastyString(30), nastyString(300)), { nil: undefined });

  const amAlert = fc.record({
    status,
    labels: fc.tuple(name, labels).map(([n, rest]) => ({ ...rest, alertname: n })),
    annotations,
    startsAt: fc.oneof(time, nastyString(20)),
    endsAt: fc.oneof(time, fc.constant('0001-01-01T00:00:00Z')),
    generatorURL: fc.option(text(300), { nil: undefined }),
    fingerprint,
  });
  const grafanaAlert = fc.record({
    status,
    labels: fc.tuple(name, labels).map(([n, rest]) => ({ ...rest, alertname: n })),
    annotations,
    startsAt: time,
    endsAt: fc.constant('0001-01-01T00:00:00Z'),
    values: fc.option(
      fc.dictionary(
        fc.constantFrom('A', 'B', 'C'),
        fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
      ),
      { nil: undefined },
    ),
    valueString: fc.option(text(300), { nil: undefined }),
    dashboardURL: fc.option(text(100), { nil: undefined }),
    fingerprint,
  });
  const genericAlert = fc.record(
    {
      name,
      status,
      severity: nastyString(20),
      summary: text(300),
      description: text(300),
      labels,
      annotations,
      startsAt: time,
      fingerprint: nastyString(300),
    },
    { requiredKeys: ['name'] },
  );
  const payload = fc.oneof(
    fc.array(amAlert, { minLength: 1, maxLength: 4 }).map((alerts) => ({
      url: '/v1/alerts/alertmanager',
      body: {
        version: '4',
        groupKey: 'g',
        status: 'firing',
        receiver: 'r',
        alerts,
        truncatedAlerts: 0,
      } as unknown,
      alerts: alerts as unknown[],
    })),
    fc.array(grafanaAlert, { minLength: 1, maxLength: 4 }).map((alerts) => ({
      url: '/v1/alerts/grafana',
      body: { version: '1', status: 'firing', alerts, orgId: 1 } as unknown,
      alerts: alerts as unknown[],
    })),
    fc
      .record({ source: nastyString(30), alerts: fc.array(genericAlert, { minLength: 1, maxLength: 4 }) })
      .map((b) => ({
        url: '/v1/alerts/generic',
        body: b as unknown,
        alerts: b.alerts as unknown[],
      })),
  );

  /**
   * An alert the ingress must cut: a value over its limit, or labels and annotations over the alert's text
   * budget, computed on what the sender's fields become (the generators keep names short and counts small).
   */
  function oversized(url: string, a: Record<string, unknown>): boolean {
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const labels: Record<string, string> = { ...(a.labels as Record<string, string> | undefined) };
    const annotations: Record<string, string> = { ...(a.annotations as Record<string, string> | undefined) };
    if (url.endsWith('generic')) {
      labels.alertname = str(a.name) ?? '';
      for (const k of ['severity'] as const) if (str(a[k]) !== undefined) labels[k] = str(a[k])!;
      for (const k of ['summary', 'description'] as const)
        if (str(a[k]) !== undefined) annotations[k] = str(a[k])!;
    } else
      for (const k of ['generatorURL', 'valueString', 'dashboardURL'])
        if (str(a[k]) && annotations[k] === undefined) annotations[k] = str(a[k])!;
    const entries = [...Object.entries(labels), ...Object.entries(annotations)];
    const total = entries.reduce((n, [k, v]) => n + k.length + v.length, 0);
    const long = (v: unknown, max: number) => typeof v === 'string' && v.trim().length > max;
    return (
      entries.some(([k, v]) => k.length > 256 || v.length > 16_384) ||
      total > 65_536 ||
      long(labels.alertname, 300) ||
      long(a.fingerprint, 200) ||
      long(str(a.severity) ?? labels.severity, 50)
    );
  }

  it('any real Alertmanager, Grafana or generic payload with any text is accepted and normalizes to clean text', async () => {
    await fc.assert(
      fc.asyncProperty(payload, async ({ url, body, alerts }) => {
        valid.calls.length = 0;
        // Real JSON on the wire: NUL and lone surrogates travel as \u0000 and \ud800 escapes.
        const res = await validApp.inject({ method: 'POST', url, payload: body });
        expect(res.statusCode).toBe(200);
        const answer = res.json();
        expect(answer.received).toBe(alerts.length);
        expect(valid.calls).toHaveLength(alerts.length - answer.ignored.length);
        expect(answer.truncated.alerts).toBe(
          alerts.filter((a) => oversized(url, a as Record<string, unknown>)).length,
        );
        for (const call of valid.calls) {
          const alert = call.alert as Alert;
          expect(alertSchema.safeParse(alert).success).toBe(true);
          if (call.op === 'fire')
            expect(incidentInputSchema.safeParse((call.cmd as { input: unknown }).input).success).toBe(true);
          expectAllClean(call.cmd ?? alert);
          // What was cut says so, in the alert and in the summary the timeline shows.
          if (alert.annotations?.[TRUNCATED_ANNOTATION] !== undefined)
            expect(alert.summary).toMatch(/\[ingress: truncated [\s\S]+\]$/);
        }
      }),
      // No shrinking: 20,000-character strings shrink for minutes; the first counterexample is shown as is.
      { numRuns: 60, endOnFailure: true },
    );
  });

  it('more alerts than the per-request limit are accepted: signalled up to it, the rest folded or dropped', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 130 }),
        fc.integer({ min: 1, max: 70 }),
        async (count, services) => {
          starter.calls.length = 0;
          const res = await app.inject({
            method: 'POST',
            url: '/v1/alerts/alertmanager',
            payload: alertmanagerPayload(
              Array.from({ length: count }, (_, i) => ({
                alertname: 'HighRestartRate',
                labels: { service: `s${i % services}` },
              })),
            ),
          });
          expect(res.statusCode).toBe(200);
          const answer = res.json();
          expect(starter.calls.length).toBe(Math.min(count, 50));
          expect(starter.calls.length + answer.folded + answer.dropped).toBe(count);
          expect(answer.incidents).toHaveLength(Math.min(services, count, 50));
        },
      ),
      { numRuns: 30 },
    );
  });
});
