// Issue 12 items 6 and 7 over real HTTP on loopback (injected fake starter, no Temporal): a real alert is
// never refused for its size or its characters. Oversized values are truncated and marked, a group over the
// per-request limit is folded into its incidents, NUL and lone surrogates become U+FFFD, on the Alertmanager,
// Grafana and generic routes alike; only no alerts, no alert name and wrong types get a 4xx.
import { loadIngressConfig } from '../../src/ingress/config';
import { FOLDED_ANNOTATION, IGNORED_ANNOTATION, TRUNCATED_ANNOTATION } from '../../src/ingress/normalize';
import { alertSchema, incidentInputSchema, type Alert } from '../../src/playbook/contract/incident';
import {
  alertmanagerPayload,
  bigAlertmanagerGroup,
  closeAllApps,
  expectAllClean,
  fakeIngress,
  FakeStarter,
  fixture,
  testConfig,
} from './helpers';
import { metricValue } from '../harness/metrics';

// Rate limits out of the way: these tests send many large requests on purpose.
const setup = (overrides: Parameters<typeof testConfig>[0] = {}) =>
  fakeIngress({ rateLimitBurst: 100_000, rateLimitPerSecond: 100_000, ...overrides });

afterAll(closeAllApps);

const fired = (s: FakeStarter): Alert[] =>
  s.calls.filter((c) => c.op === 'fire').map((c) => c.alert as Alert);

function expectContract(starter: FakeStarter) {
  for (const call of starter.calls) {
    expect(alertSchema.safeParse(call.alert).success).toBe(true);
    if (call.op === 'fire') {
      const cmd = call.cmd as { input: unknown; details: string };
      expect(incidentInputSchema.safeParse(cmd.input).success).toBe(true);
    }
    // Everything that goes on (alert, incident input, Web UI details) is clean text.
    expectAllClean(call.cmd ?? call.alert);
  }
}

const STACK = `java.lang.IllegalStateException: order book desynchronised\n${'\tat com.example.trading.OrderBook.apply(OrderBook.java:118)\n'.repeat(2000)}`;
const DESCRIPTION_60K = STACK.slice(0, 60_000);

describe('sizes are truncated, never refused', () => {
  it('the default body limit is 16 MiB and at most 1,000 alerts are signalled per request', () => {
    const cfg = loadIngressConfig({ INGRESS_BEARER_TOKENS: 't' });
    expect(cfg.bodyLimitBytes).toBe(16 * 1024 * 1024);
    expect(cfg.maxAlertsPerRequest).toBe(1000);
  });

  it('Alertmanager: a 60,000-character description is accepted, truncated to 16,384 and marked', async () => {
    const { starter, app } = setup();
    const p = fixture('alertmanager-firing.json') as { alerts: { annotations: Record<string, string> }[] };
    p.alerts[0]!.annotations.description = DESCRIPTION_60K;
    const res = await app.inject({ method: 'POST', url: '/v1/alerts/alertmanager', payload: p });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      received: 1,
      truncated: { alerts: 1, examples: ['alerts[0].annotations.description: 60000 -> 16384 chars'] },
      folded: 0,
      dropped: 0,
    });
    const [alert] = fired(starter);
    expect(alert?.annotations?.description).toHaveLength(16_384);
    expect(alert?.annotations?.description?.startsWith(DESCRIPTION_60K.slice(0, 16_000))).toBe(true);
    expect(alert?.annotations?.description).toMatch(/…\[truncated by ingress: 60000 chars, #[0-9a-f]{12}\]$/);
    expect(alert?.annotations?.[TRUNCATED_ANNOTATION]).toBe('annotations.description: 60000 -> 16384 chars');
    expect(alert?.summary).toBe('Trading API is down [ingress: truncated annotations.description]');
    const cmd = starter.calls[0]?.cmd as { details: string; input: { title: string } };
    expect(cmd.details).toContain('- Truncated by ingress: annotations.description: 60000 -> 16384 chars');
    expect(cmd.input.title).toBe('TradingAPIDown (trading-api): Trading API is down');
    expectContract(starter);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metricValue(metrics, 'ingress_alerts_fields_truncated_total', { source: 'alertmanager' })).toBe(1);
  });

  it('Alertmanager: a realistic 1,000-alert group (over the old 1 MiB limit) is accepted whole', async () => {
    const { starter, app } = setup();
    const group = bigAlertmanagerGroup(1000, { services: 10 });
    expect(Buffer.byteLength(JSON.stringify(group))).toBeGreaterThan(1024 * 1024);
    const res = await app.inject({ method: 'POST', url: '/v1/alerts/alertmanager', payload: group });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ received: 1000, firing: 1000, folded: 0, dropped: 0 });
    expect(res.json().incidents).toHaveLength(10);
    expect(fired(starter)).toHaveLength(1000);
    expectContract(starter);
  });

  it('more alerts than INGRESS_MAX_ALERTS_PER_REQUEST: accepted, the rest folded into their incidents', async () => {
    const { starter, app } = setup({ maxAlertsPerRequest: 1000 });
    const group = bigAlertmanagerGroup(1500, { services: 3 });
    const res = await app.inject({ method: 'POST', url: '/v1/alerts/alertmanager', payload: group });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ received: 1500, firing: 1500, folded: 500, dropped: 0 });
    expect(fired(starter)).toHaveLength(1000);
    // Every incident got alerts; the alerts it did not get are counted on it and written on its last one.
    expect(body.incidents).toHaveLength(3);
    const byIncident = new Map<string, Alert[]>();
    for (const c of starter.calls)
      byIncident.set(c.workflowId, [...(byIncident.get(c.workflowId) ?? []), c.alert as Alert]);
    let foldedTotal = 0;
    for (const inc of body.incidents as { workflowId: string; fired: number; folded: number }[]) {
      const alerts = byIncident.get(inc.workflowId) ?? [];
      expect(alerts).toHaveLength(inc.fired);
      expect(inc.fired + inc.folded).toBe(500);
      foldedTotal += inc.folded;
      const last = alerts[alerts.length - 1];
      expect(last?.annotations?.[FOLDED_ANNOTATION]).toBe(
        `${inc.folded} more alert(s) of the same notification for this incident were not signalled: over INGRESS_MAX_ALERTS_PER_REQUEST (1000)`,
      );
      expect(last?.summary).toMatch(
        new RegExp(`\\[ingress: ${inc.folded} more alert\\(s\\) of this notification folded in\\]$`),
      );
      expect(alerts.slice(0, -1).every((a) => a.annotations?.[FOLDED_ANNOTATION] === undefined)).toBe(true);
    }
    expect(foldedTotal).toBe(500);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(
      metricValue(metrics, 'ingress_alerts_over_limit_total', { outcome: 'folded', source: 'alertmanager' }),
    ).toBe(500);
    expectContract(starter);
  });

  it('more incidents in one request than the limit: the incidents past it are dropped, counted and logged', async () => {
    const { starter, app } = setup({ maxAlertsPerRequest: 2 });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      payload: alertmanagerPayload([{ alertname: 'A1' }, { alertname: 'A2' }, { alertname: 'A3' }]),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ received: 3, folded: 0, dropped: 1 });
    expect(res.json().incidents).toHaveLength(2);
    expect(starter.calls).toHaveLength(2);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(
      metricValue(metrics, 'ingress_alerts_over_limit_total', { outcome: 'dropped', source: 'alertmanager' }),
    ).toBe(1);
  });

  it('Alertmanager: every oversized optional field, a bad time and huge unused fields are all accepted', async () => {
    const { starter, app } = setup();
    const p = fixture('alertmanager-firing.json') as Record<string, unknown> & {
      alerts: Record<string, unknown>[];
    };
    const a = p.alerts[0] as Record<string, unknown> & { labels: Record<string, string> };
    a.labels.pod = 'p'.repeat(20_000);
    a.labels['x'.repeat(1000)] = 'long name';
    a.annotations = { summary: 's'.repeat(30_000), runbook_url: 'https://r/'.padEnd(20_000, 'r') };
    a.generatorURL = `http://prometheus:9090/graph?g0.expr=${'a'.repeat(50_000)}`;
    a.fingerprint = 'f'.repeat(1000);
    a.startsAt = 'yesterday';
    p.groupKey = 'g'.repeat(100_000);
    p.receiver = 'r'.repeat(5000);
    p.commonAnnotations = { description: 'd'.repeat(70_000) };
    const res = await app.inject({ method: 'POST', url: '/v1/alerts/alertmanager', payload: p });
    expect(res.statusCode).toBe(200);
    const [alert] = fired(starter);
    const truncated = alert?.annotations?.[TRUNCATED_ANNOTATION] ?? '';
    for (const field of [
      'labels.pod',
      'labels.xxx',
      'annotations.summary',
      'annotations.generatorURL',
      'fingerprint',
    ])
      expect(truncated).toContain(field);
    expect(alert?.annotations?.[IGNORED_ANNOTATION]).toBe('startsAt: "yesterday" is not an RFC 3339 time');
    expect(alert?.startsAt).toBeUndefined();
    expect(alert?.fingerprint.length).toBeLessThanOrEqual(200);
    expect(res.json().notes).toEqual(['alerts[0].startsAt: "yesterday" is not an RFC 3339 time']);
    expectContract(starter);
  });

  it('Grafana: oversized description, valueString and links truncated; unused fields unchecked', async () => {
    const { starter, app } = setup();
    const p = fixture('grafana-firing.json') as Record<string, unknown> & {
      alerts: Record<string, unknown>[];
    };
    const a = p.alerts[0] as Record<string, unknown> & { annotations: Record<string, string> };
    a.annotations.description = DESCRIPTION_60K;
    a.valueString = 'v'.repeat(30_000);
    a.panelURL = `http://grafana:3000/d/x?${'q'.repeat(20_000)}`;
    p.message = 'm'.repeat(200_000);
    p.title = 't'.repeat(10_000);
    p.orgId = 'not a number, and not used';
    const res = await app.inject({ method: 'POST', url: '/v1/alerts/grafana', payload: p });
    expect(res.statusCode).toBe(200);
    const [alert] = fired(starter);
    expect(alert?.annotations?.description).toHaveLength(16_384);
    expect(alert?.annotations?.[TRUNCATED_ANNOTATION]).toContain(
      'annotations.description: 60000 -> 16384 chars',
    );
    expect(alert?.annotations?.[TRUNCATED_ANNOTATION]).toContain('annotations.valueString');
    expect(alert?.annotations?.[TRUNCATED_ANNOTATION]).toContain('annotations.panelURL');
    expect(alert?.summary).toMatch(
      /\[ingress: truncated annotations\.description, annotations\.panelURL, annotations\.valueString\]$/,
    );
    expectContract(starter);
  });

  it('generic: oversized fields truncated, unknown fields and a bad time noted, not refused', async () => {
    const { starter, app } = setup();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alerts/generic',
      payload: {
        source: 'uptime-kuma',
        monitor: 'kept out',
        alerts: [
          {
            name: 'TradingAPIDown',
            sevrity: 'critical',
            summary: 's'.repeat(9000),
            description: DESCRIPTION_60K,
            labels: { service: 'trading-api' },
            startsAt: '17/01/2026 10:00',
            fingerprint: 'x'.repeat(400),
          },
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().notes).toEqual([
      'alerts[0].startsAt: "17/01/2026 10:00" is not an RFC 3339 time',
      'alerts[0].unknown fields: body.monitor, sevrity',
    ]);
    const [alert] = fired(starter);
    expect(alert?.annotations?.[IGNORED_ANNOTATION]).toContain('unknown fields: body.monitor, sevrity');
    expect(alert?.annotations?.[TRUNCATED_ANNOTATION]).toContain(
      'annotations.description: 60000 -> 16384 chars',
    );
    expect(alert?.summary?.length).toBeLessThanOrEqual(4000);
    expect(alert?.summary).toMatch(/^s+… \[ingress: truncated annotations\.description, fingerprint\]$/);
    expectContract(starter);
  });
});

describe('what still gets a 4xx: no alerts, no alert name, wrong types', () => {
  const cases: [string, string, unknown, string][] = [
    ['alertmanager', 'no alerts', alertmanagerPayload([]), 'alerts'],
    ['alertmanager', 'no alert name', alertmanagerPayload([{ alertname: '' }]), 'alerts[0].labels.alertname'],
    ['alertmanager', 'alerts not an array', { ...alertmanagerPayload([]), alerts: {} }, 'alerts'],
    ['grafana', 'no alerts', { version: '1', alerts: [] }, 'alerts'],
    [
      'grafana',
      'values of the wrong type',
      {
        version: '1',
        alerts: [
          {
            status: 'firing',
            labels: { alertname: 'X' },
            startsAt: '2026-01-17T10:00:00Z',
            values: { A: 'x' },
          },
        ],
      },
      'alerts[0].values.A',
    ],
    ['generic', 'no alerts', { alerts: [] }, 'alerts'],
    ['generic', 'no alert name', { alerts: [{ summary: 'x' }] }, 'alerts[0].name'],
    [
      'generic',
      'label of the wrong type',
      { alerts: [{ name: 'X', labels: { n: 1 } }] },
      'alerts[0].labels.n',
    ],
  ];
  it.each(cases)('%s: %s', async (route, _what, payload, field) => {
    const { starter, app } = setup();
    const res = await app.inject({ method: 'POST', url: `/v1/alerts/${route}`, payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe(field);
    expect(starter.calls).toHaveLength(0);
  });
});

describe('odd characters are sanitized at the edge', () => {
  // Written as JSON text: `\u0000` and a lone `\ud800` are what a sender's JSON encoder produces.
  const nasty = String.raw`nul\u0000 high\ud800 low\udc00 pair\ud83d\ude00`;
  const clean = 'nul\uFFFD high\uFFFD low\uFFFD pair😀';

  it.each([
    [
      'alertmanager',
      String.raw`{"version":"4","groupKey":"g","status":"firing","receiver":"r","alerts":[{"status":"firing",
        "labels":{"alertname":"Odd\u0000Alert","service":"${nasty}","k\u0000ey":"v"},
        "annotations":{"summary":"${nasty}"},"startsAt":"2026-01-17T10:00:00Z","fingerprint":"fp\u0000"}]}`,
    ],
    [
      'grafana',
      String.raw`{"version":"1","status":"firing","alerts":[{"status":"firing",
        "labels":{"alertname":"Odd\u0000Alert","service":"${nasty}","k\u0000ey":"v"},
        "annotations":{"summary":"${nasty}"},"startsAt":"2026-01-17T10:00:00Z","fingerprint":"fp\u0000"}]}`,
    ],
    [
      'generic',
      String.raw`{"source":"src\ud800","alerts":[{"name":"Odd\u0000Alert","summary":"${nasty}",
        "labels":{"service":"${nasty}","k\u0000ey":"v"},"fingerprint":"fp\u0000"}]}`,
    ],
  ])('%s: NUL and lone surrogates become U+FFFD in everything that goes on', async (route, body) => {
    const { starter, app } = setup();
    const res = await app.inject({
      method: 'POST',
      url: `/v1/alerts/${route}`,
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    const [alert] = fired(starter);
    expect(alert).toMatchObject({
      name: 'Odd\uFFFDAlert',
      fingerprint: 'fp\uFFFD',
      summary: clean,
      labels: { service: clean, 'k\uFFFDey': 'v' },
    });
    expectContract(starter);
  });

  it('control and invisible characters are removed as the contract removes them: a name of only those is a 400, not a 500', async () => {
    const { starter, app } = setup();
    const post = (alert: Record<string, unknown>) =>
      app.inject({
        method: 'POST',
        url: '/v1/alerts/generic',
        payload: { source: 'probe', alerts: [alert] },
      });
    for (const name of ['\u0001', '\u200b\u202e', '\u0007 \ufeff']) {
      const res = await post({ name });
      expect([JSON.stringify(name), res.statusCode]).toEqual([JSON.stringify(name), 400]);
      expect(res.json().error.code).toBe('invalid_body');
    }
    const res = await post({
      name: 'Disk\u0001Full',
      fingerprint: '\u200b',
      labels: { 'in\u200bstance': 'db-1\u0007', service: 'x' },
      summary: 'bell\u0007 and tab\tkept',
    });
    expect(res.statusCode).toBe(200);
    const [alert] = fired(starter);
    expect(alert).toMatchObject({
      name: 'DiskFull',
      labels: { instance: 'db-1', service: 'x' },
      summary: 'bell and tab\tkept',
    });
    // No usable fingerprint was sent: one is computed.
    expect(alert!.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expectContract(starter);
  });

  it('titles lose RTL overrides and zero-width characters (alert and manual), a title of only those is refused', async () => {
    const { starter, app } = setup();
    // U+202E shows what follows right to left; U+200B, U+200D and U+FEFF are invisible.
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alerts/generic',
      payload: {
        source: 'probe',
        alerts: [
          {
            name: 'Trading\u200bAPIDown',
            summary: 'api \u202Enwod\u202C is \u200d\ufeffdown',
            labels: { service: 'x' },
          },
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    const fire = starter.calls.find((c) => c.op === 'fire')!.cmd as { input: { title: string } };
    expect(fire.input.title).toBe('TradingAPIDown (x): api nwod is down');
    const manual = await app.inject({
      method: 'POST',
      url: '/v1/incidents',
      payload: { title: '\u2066DB\u2069 \u200edown\u200f \u2060now', severity: 'P1' },
    });
    expect(manual.statusCode).toBe(201);
    const open = starter.calls.find((c) => c.op === 'open')!.cmd as { input: { title: string } };
    expect(open.input.title).toBe('DB down now');
    const invisible = await app.inject({
      method: 'POST',
      url: '/v1/incidents',
      payload: { title: '\u202e\u200b\u200b ', severity: 'P1' },
    });
    expect(invisible.statusCode).toBe(400);
    expect(invisible.json().error.field).toBe('title');
  });

  it('manual incidents too', async () => {
    const { starter, app } = setup();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/incidents',
      headers: { 'content-type': 'application/json' },
      payload: String.raw`{"title":"DB \u0000down\ud800","severity":"P1","summary":"x\udc00","openedBy":"ana\u0000"}`,
    });
    expect(res.statusCode).toBe(201);
    const cmd = starter.calls[0]?.cmd as {
      input: { title: string; summary: string; source: { system: string } };
    };
    expect(cmd.input).toMatchObject({
      title: 'DB \uFFFDdown\uFFFD',
      summary: 'x\uFFFD',
      source: { system: 'manual:ana\uFFFD' },
    });
    expectAllClean(cmd);
  });
});
