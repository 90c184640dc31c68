// The HTTP layer with an injected incident starter (no Temporal): happy paths, errors, security.
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { sign } from '../../src/ingress/auth';
import { IngressConfigError, loadIngressConfig } from '../../src/ingress/config';
import { buildIngress, hostName } from '../../src/ingress/server';
import { startIngress } from '../../src/ingress/start';
import { alertSchema, incidentInputSchema } from '../../src/playbook/contract/incident';
import {
  alertmanagerPayload,
  closeAllApps,
  defaultRules,
  fakeIngress,
  FakeStarter,
  fixture,
  httpClient,
  testConfig,
} from './helpers';
import { metricValue } from '../harness/metrics';
import { rawRequest } from './raw-socket';

const rules = defaultRules();
const json = (body: unknown) => JSON.stringify(body);

const setup = fakeIngress;

afterAll(closeAllApps);

describe('happy path', () => {
  it('sends the deployment policy in the start input when it has one (first page in the first task)', async () => {
    const starter = new FakeStarter();
    const app = httpClient(
      buildIngress(testConfig(), { starter, rules, policy: { channels: ['outbox', 'slack'] } }),
    );
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      payload: alertmanagerPayload([
        { alertname: 'MarketDataStale', labels: { severity: 'warning' } },
        { alertname: 'TradingAPIDown', labels: { severity: 'critical' } },
      ]),
    });
    expect(res.statusCode).toBe(200);
    const cmds = [...new Set(starter.calls.map((c) => c.cmd))];
    for (const cmd of cmds) {
      expect(cmd?.input).toMatchObject({ policy: { channels: ['outbox', 'slack'] }, policyComplete: true });
      expect(incidentInputSchema.safeParse(cmd?.input).success).toBe(true);
    }
  });

  it('opens one incident for an Alertmanager firing notification and signals every alert', async () => {
    const { app, starter } = setup();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      payload: fixture('alertmanager-firing.json'),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      received: 1,
      firing: 1,
      incidents: [{ kind: 'trading-system-down', severity: 'P0', fired: 1 }],
    });
    expect(body.incidents[0]).not.toHaveProperty('incidentId');
    expect(body.incidents[0].url).toMatch(
      /^http:\/\/127\.0\.0\.1:8233\/namespaces\/default\/workflows\/incident-trading-system-down-[0-9a-f]{16}\/run-1\/history$/,
    );
    expect(starter.calls).toHaveLength(1);
    const call = starter.calls[0]!;
    expect(alertSchema.parse(call.alert)).toEqual(call.alert);
    expect(call.alert).toMatchObject({
      fingerprint: '5c2b6b0d7d0c4f31',
      name: 'TradingAPIDown',
      status: 'firing',
      severity: 'critical',
      source: 'alertmanager',
    });
    expect(call.alert?.endsAt).toBeUndefined(); // Go's zero time
    const input = incidentInputSchema.parse((call.cmd as { input: unknown }).input);
    expect(input).toMatchObject({
      severity: 'P0',
      kind: 'trading-system-down',
      detectedAt: '2026-01-17T14:02:13.402Z',
      timeScale: 1,
    });
    expect(input.source?.alerts).toBeUndefined(); // counted once, from the signal
  });

  it('repeated posts land on the same incident; resolved alerts only signal', async () => {
    const { app, starter } = setup();
    await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      payload: fixture('alertmanager-firing.json'),
    });
    const again = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      payload: fixture('alertmanager-firing.json'),
    });
    const resolved = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      payload: fixture('alertmanager-resolved.json'),
    });
    expect([again.statusCode, resolved.statusCode]).toEqual([200, 200]);
    expect(new Set(starter.calls.map((c) => c.workflowId)).size).toBe(1);
    expect(starter.calls.map((c) => c.op)).toEqual(['fire', 'fire', 'resolve']);
    expect(starter.calls[2]?.alert).toMatchObject({ status: 'resolved', endsAt: '2026-01-17T14:09:43.402Z' });
  });

  it('a resolved notification never opens an incident', async () => {
    const { app, starter } = setup();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      payload: fixture('alertmanager-resolved.json'),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ resolvedWithoutIncident: 1 });
    expect(starter.calls.filter((c) => c.op === 'fire')).toHaveLength(0);
  });

  it('handles a mixed group: firing + resolved on one incident, Watchdog ignored, truncation counted', async () => {
    const { app, starter } = setup();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      payload: fixture('alertmanager-mixed.json'),
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      received: 4,
      firing: 2,
      resolved: 1,
      truncatedAlerts: 2,
      ignored: [{ name: 'Watchdog' }],
    });
    expect(body.incidents).toHaveLength(1);
    expect(body.incidents[0]).toMatchObject({
      kind: 'database-connection',
      severity: 'P2',
      fired: 2,
      resolved: 1,
    });
    expect(starter.calls.map((c) => `${c.op}:${c.alert?.name}`)).toEqual([
      'fire:PostgresHighConnections',
      'fire:DatabaseQuerySlow',
      'resolve:DatabaseConnectionPoolExhausted',
    ]);
    // One Temporal call for the incident (the batch, in order, resolved one included) and one for the
    // Watchdog's beat of the `watchdog` monitor, created with its built-in spec.
    expect(starter.temporalCalls).toBe(2);
    expect(starter.beats).toHaveLength(1);
    expect(starter.beats[0]!.monitor).toMatchObject({
      spec: { name: 'watchdog', periodSeconds: 120, graceSeconds: 180, severity: 'P2' },
      createdBy: 'watchdog',
    });
    expect(starter.beats[0]!.beat.source).toBe('alertmanager');
    expect(body.heartbeats).toEqual([expect.objectContaining({ name: 'watchdog', periodSeconds: 120 })]);
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metricValue(metrics, 'ingress_alerts_truncated_total', { source: 'alertmanager' })).toBe(2);
    expect(metricValue(metrics, 'ingress_alerts_ignored_total', { alertname: 'Watchdog' })).toBe(1);
    expect(metrics).toMatch(/ingress_watchdog_last_seen_timestamp_seconds [1-9]\d+/);
  });

  it('accepts Grafana payloads (links and values kept as annotations)', async () => {
    const { app, starter } = setup();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alerts/grafana',
      payload: fixture('grafana-firing.json'),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().incidents[0]).toMatchObject({ kind: 'data-source-down', severity: 'P1' });
    const a = starter.calls[0]?.alert;
    expect(a).toMatchObject({
      source: 'grafana',
      startsAt: '2026-01-17T21:20:00.000Z',
      fingerprint: '2f4a1b3c5d6e7f80',
    });
    expect(a?.annotations).toMatchObject({
      dashboardURL: 'http://grafana:3000/d/market-data?orgId=1',
      values: '{"A":842.5,"C":1}',
    });
    expect(alertSchema.safeParse(a).success).toBe(true);
  });

  it('accepts the generic schema', async () => {
    const { app, starter } = setup();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alerts/generic',
      payload: {
        source: 'uptime-kuma',
        alerts: [
          {
            name: 'TradingAPIDown',
            severity: 'critical',
            summary: 'down',
            labels: { service: 'trading-api' },
          },
          { name: 'Whatever', severity: 'info' },
        ],
      },
    });
    expect(res.statusCode).toBe(200);
    expect(
      res.json().incidents.map((i: { kind: string; severity: string }) => `${i.kind}/${i.severity}`),
    ).toEqual(['trading-system-down/P0', 'generic/P3']);
    expect(starter.calls[0]?.alert).toMatchObject({
      source: 'uptime-kuma',
      labels: { alertname: 'TradingAPIDown', severity: 'critical', service: 'trading-api' },
    });
    expect(starter.calls[0]?.alert?.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it('opens an incident by hand, from a severity or the 1.3 decision tree, idempotently with a key', async () => {
    const { app, starter } = setup();
    const a = await app.inject({
      method: 'POST',
      url: '/v1/incidents',
      payload: {
        title: 'Kill switch triggered unexpectedly',
        severity: 'P0',
        kind: 'trading-system-down',
        openedBy: 'ana',
      },
    });
    expect(a.statusCode).toBe(201);
    expect(a.json()).toMatchObject({ kind: 'trading-system-down', severity: 'P0', severitySource: 'given' });
    expect(a.json().url).toContain(`/workflows/${a.json().workflowId}/`);
    // The incident id proper (`<workflow id>@<opening time>`) is known only once the workflow opened it.
    expect(a.json()).not.toHaveProperty('incidentId');
    const b = await app.inject({
      method: 'POST',
      url: '/v1/incidents',
      payload: {
        title: 'Docs typo',
        assessment: {
          tradingStoppedOrLosingMoney: false,
          majorFeatureBroken: false,
          affectsProductionTrading: false,
        },
        idempotencyKey: 'k1',
      },
    });
    expect(b.json()).toMatchObject({ kind: 'generic', severity: 'P3', severitySource: 'decision-tree' });
    const c = await app.inject({
      method: 'POST',
      url: '/v1/incidents',
      payload: { title: 'Docs typo', severity: 'P3', idempotencyKey: 'k1' },
    });
    expect(c.json().workflowId).toBe(b.json().workflowId);
    expect(c.json().runId).toBe(b.json().runId);
    const input = (starter.calls[1]?.cmd as { input: unknown }).input;
    expect(incidentInputSchema.parse(input)).toMatchObject({
      assessment: { affectsProductionTrading: false },
      source: { system: 'manual' },
    });
  });

  it('drops a __proto__ or constructor.prototype key instead of refusing the alert', async () => {
    const { app, starter } = setup();
    const body = JSON.stringify(alertmanagerPayload([{ alertname: 'TradingAPIDown' }])).replace(
      '"labels":{',
      '"labels":{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},',
    );
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      headers: { 'content-type': 'application/json' },
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    expect(starter.calls).toHaveLength(1);
    expect(starter.calls[0]!.alert!.name).toBe('TradingAPIDown');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reports health (details only with a token) and metrics', async () => {
    const { app } = setup({ bearerTokens: 'health-token' });
    const h = await app.inject({ method: 'GET', url: '/healthz' });
    expect(h.statusCode).toBe(200);
    expect(h.json()).toEqual({ status: 'ok' });
    const wrong = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.json()).toEqual({ status: 'ok' });
    const detailed = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { authorization: 'Bearer health-token' },
    });
    expect(detailed.json()).toMatchObject({
      status: 'ok',
      temporal: { reachable: true, namespace: 'default' },
      auth: 'on',
    });
    const m = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: 'Bearer health-token' },
    });
    expect(m.headers['content-type']).toContain('text/plain');
    expect(m.body).toContain('# TYPE ingress_requests_total counter');
    expect(metricValue(m.body, 'ingress_requests_total', { code: '200', route: '/healthz' })).toBe(3);
    expect(metricValue(m.body, 'ingress_temporal_reachable', {})).toBe(1);
  });
});

describe('errors', () => {
  const post = async (
    payload: string | object,
    url = '/v1/alerts/alertmanager',
    headers: Record<string, string> = { 'content-type': 'application/json' },
    overrides = {},
  ) => {
    const { app, starter } = setup(overrides);
    const res = await app.inject({
      method: 'POST',
      url,
      headers,
      payload: typeof payload === 'string' ? payload : json(payload),
    });
    expect(starter.calls).toHaveLength(0);
    return res;
  };

  it('names the offending field', async () => {
    const p = alertmanagerPayload([{ alertname: 'TradingAPIDown' }]);
    delete (p.alerts[0] as { labels: Record<string, string> }).labels.alertname;
    const res = await post(p);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      status: 400,
      code: 'invalid_body',
      field: 'alerts[0].labels.alertname',
    });
    expect(res.json().requestId).toEqual(expect.any(String));
  });

  it.each([
    [
      'time not a string',
      {
        ...alertmanagerPayload([{ alertname: 'X' }]),
        alerts: [{ ...alertmanagerPayload([{ alertname: 'X' }]).alerts[0], startsAt: 1768644000 }],
      },
      'alerts[0].startsAt',
    ],
    ['empty alert name', alertmanagerPayload([{ alertname: ' ' }]), 'alerts[0].labels.alertname'],
    [
      'status not firing/resolved',
      {
        ...alertmanagerPayload([{ alertname: 'X' }]),
        alerts: [{ ...alertmanagerPayload([{ alertname: 'X' }]).alerts[0], status: 'pending' }],
      },
      'alerts[0].status',
    ],
    ['wrong version', alertmanagerPayload([{ alertname: 'X' }], { version: '3' }), 'version'],
    ['no alerts', alertmanagerPayload([], {}), 'alerts'],
    [
      'label not a string',
      {
        ...alertmanagerPayload([{ alertname: 'X' }]),
        alerts: [
          { ...alertmanagerPayload([{ alertname: 'X' }]).alerts[0], labels: { alertname: 'X', n: 1 } },
        ],
      },
      'alerts[0].labels.n',
    ],
    ['array body', [1, 2], 'body'],
  ])('400 for %s', async (_name, payload, field) => {
    const res = await post(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe(field);
  });

  it('400 for invalid JSON and an empty body, 415 for other media types, 413 over the body limit', async () => {
    expect((await post('{"version": "4",')).json().error).toMatchObject({
      code: 'invalid_json',
      field: 'body',
    });
    expect((await post('')).statusCode).toBe(400);
    const media = await post('version=4', undefined, { 'content-type': 'application/x-www-form-urlencoded' });
    expect(media.statusCode).toBe(415);
    expect(media.json().error.field).toBe('content-type');
    const big = await post(json({ pad: 'x'.repeat(3000) }), undefined, undefined, { bodyLimitBytes: 2048 });
    expect(big.statusCode).toBe(413);
    expect(big.json().error).toMatchObject({ code: 'body_too_large', field: 'body' });
  });

  it('manual incidents need a severity or decision-tree answers', async () => {
    const res = await post({ title: 'x' }, '/v1/incidents');
    expect(res.statusCode).toBe(400);
    expect(res.json().error.field).toBe('severity');
  });

  it('answers 503 with Retry-After when Temporal is unreachable, and healthz says so', async () => {
    const { app, starter } = setup({ retryAfterSeconds: 7 });
    starter.down = true;
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      payload: fixture('alertmanager-firing.json'),
    });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('7');
    expect(res.json().error.code).toBe('temporal_unavailable');
    const h = await app.inject({ method: 'GET', url: '/healthz' });
    expect(h.statusCode).toBe(503);
    // Temporal's error text says where it runs: not for anyone who asks.
    expect(h.json()).toEqual({ status: 'degraded' });
    // a bad body is still a 4xx while Temporal is down
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      payload: { version: '4' },
    });
    expect(bad.statusCode).toBe(400);
  });

  it('404 in the same envelope', async () => {
    const { app } = setup();
    const res = await app.inject({ method: 'POST', url: '/v1/alerts/nagios', payload: {} });
    expect(res.statusCode).toBe(404);
    expect(res.json().error).toMatchObject({ code: 'not_found', field: 'url' });
  });
});

describe('security', () => {
  const TOKEN = 'tok-3f9c2d1e8a7b6c5d';
  const SECRET = 'hmac-secret-9a8b7c6d5e4f';
  const body = json(fixture('alertmanager-firing.json'));
  const grafanaBody = json(fixture('grafana-firing.json'));

  it('bearer: accepts a configured token (rotation: any of several), refuses missing/wrong/other schemes', async () => {
    const { app, starter } = setup({ bearerTokens: `old-token, ${TOKEN}` });
    const send = (authorization?: string) =>
      app.inject({
        method: 'POST',
        url: '/v1/alerts/alertmanager',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        payload: body,
      });
    expect((await send(`Bearer ${TOKEN}`)).statusCode).toBe(200);
    expect((await send('Bearer old-token')).statusCode).toBe(200);
    for (const bad of [
      undefined,
      'Bearer nope',
      `Basic ${Buffer.from(`u:${TOKEN}`).toString('base64')}`,
      `Bearer ${TOKEN}x`,
    ]) {
      const res = await send(bad);
      expect(res.statusCode).toBe(401);
      expect(res.json().error).toMatchObject({ code: 'unauthorized', field: 'authorization' });
    }
    expect(starter.calls).toHaveLength(2);
    // unauthenticated callers learn nothing about the body
    const junk = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      headers: { 'content-type': 'application/json' },
      payload: '{junk',
    });
    expect(junk.statusCode).toBe(401);
    // health and metrics stay open for probes
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('Grafana HMAC: the timestamp header is required; wrong secret, stale timestamp and replay refused', async () => {
    let clock = Date.parse('2026-01-17T16:00:00Z');
    const { app, starter } = setup({ hmacSecrets: SECRET }, () => clock);
    const send = (headers: Record<string, string>, payload = grafanaBody) =>
      app.inject({
        method: 'POST',
        url: '/v1/alerts/grafana',
        headers: { 'content-type': 'application/json', ...headers },
        payload,
      });
    const ts = String(Math.floor(clock / 1000));
    // Without a timestamp a signature could be replayed for ever: refused, naming the header.
    const untimed = await send({ 'x-grafana-alerting-signature': sign(SECRET, grafanaBody) });
    expect(untimed.statusCode).toBe(401);
    expect(untimed.json().error.field).toBe('x-grafana-alerting-timestamp');
    const signed = {
      'x-grafana-alerting-signature': sign(SECRET, grafanaBody, ts),
      'x-grafana-alerting-timestamp': ts,
    };
    expect((await send(signed)).statusCode).toBe(200);
    const replay = await send(signed);
    expect(replay.statusCode).toBe(401);
    expect(replay.json().error.message).toContain('already used');
    expect(
      (
        await send({
          'x-grafana-alerting-signature': sign('wrong', grafanaBody, ts),
          'x-grafana-alerting-timestamp': ts,
        })
      ).statusCode,
    ).toBe(401);
    expect(
      (
        await send(
          {
            'x-grafana-alerting-signature': sign(SECRET, grafanaBody, ts),
            'x-grafana-alerting-timestamp': ts,
          },
          grafanaBody.replace('842.5', '1.5'),
        )
      ).statusCode,
    ).toBe(401);
    const old = String(Math.floor(clock / 1000) - 301);
    const stale = await send({
      'x-grafana-alerting-signature': sign(SECRET, grafanaBody, old),
      'x-grafana-alerting-timestamp': old,
    });
    expect(stale.statusCode).toBe(401);
    expect(stale.json().error.field).toBe('x-grafana-alerting-timestamp');
    expect((await send({})).statusCode).toBe(401);
    clock += 1000;
    expect(starter.calls).toHaveLength(1);
  });

  it('a signature refused with 503 can be retried (only accepted signatures are remembered)', async () => {
    const clock = Date.parse('2026-01-17T16:00:00Z');
    const { app, starter } = setup({ hmacSecrets: SECRET }, () => clock);
    const ts = String(Math.floor(clock / 1000));
    const headers = {
      'content-type': 'application/json',
      'x-grafana-alerting-signature': sign(SECRET, grafanaBody, ts),
      'x-grafana-alerting-timestamp': ts,
    };
    starter.down = true;
    expect(
      (await app.inject({ method: 'POST', url: '/v1/alerts/grafana', headers, payload: grafanaBody }))
        .statusCode,
    ).toBe(503);
    starter.down = false;
    expect(
      (await app.inject({ method: 'POST', url: '/v1/alerts/grafana', headers, payload: grafanaBody }))
        .statusCode,
    ).toBe(200);
  });

  it('generic X-Signature-256: sha256=<hex> over <timestamp>:<body>, the timestamp required', async () => {
    const clock = Date.parse('2026-01-17T16:00:00Z');
    const { app } = setup({ hmacSecrets: `rotated-out,${SECRET}` }, () => clock);
    const send = (headers: Record<string, string>) =>
      app.inject({
        method: 'POST',
        url: '/v1/alerts/alertmanager',
        headers: { 'content-type': 'application/json', ...headers },
        payload: body,
      });
    expect((await send({ 'x-signature-256': `sha256=${sign(SECRET, body)}` })).statusCode).toBe(401);
    const ts = String(Math.floor(clock / 1000) + 30);
    expect(
      (await send({ 'x-signature-256': sign(SECRET, body, ts), 'x-signature-timestamp': ts })).statusCode,
    ).toBe(401); // prefix required
    expect(
      (await send({ 'x-signature-256': `sha256=${sign(SECRET, body, ts)}`, 'x-signature-timestamp': ts }))
        .statusCode,
    ).toBe(200);
    expect(
      (
        await send({
          'x-signature-256': `sha256=${sign(SECRET, body, ts)}`,
          'x-signature-timestamp': String(Number(ts) + 1),
        })
      ).statusCode,
    ).toBe(401);
  });

  it('rate-limits per client: alert webhooks get 503 + Retry-After (senders retry 5xx, drop 4xx)', async () => {
    const { app } = setup({ rateLimitPerSecond: 1, rateLimitBurst: 3 }, () => 1_000_000);
    const codes: number[] = [];
    for (let i = 0; i < 5; i++)
      codes.push(
        (
          await app.inject({
            method: 'POST',
            url: '/v1/alerts/alertmanager',
            payload: fixture('alertmanager-firing.json'),
          })
        ).statusCode,
      );
    expect(codes).toEqual([200, 200, 200, 503, 503]);
    const res = await app.inject({ method: 'POST', url: '/v1/alerts/alertmanager', payload: {} });
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(3);
    expect(res.json().error).toMatchObject({ code: 'rate_limited', field: 'rate' });
  });

  it('refuses to start without auth unless INGRESS_INSECURE says so, on any address', async () => {
    expect(() => loadIngressConfig({})).toThrow(/INGRESS_INSECURE: no authentication configured/);
    expect(() => loadIngressConfig({ INGRESS_HOST: '0.0.0.0' })).toThrow(/no authentication configured/);
    expect(loadIngressConfig({ INGRESS_HOST: '0.0.0.0', INGRESS_BEARER_TOKENS: 'x' }).host).toBe('0.0.0.0');
    expect(loadIngressConfig({ INGRESS_INSECURE: '1' }).insecure).toBe(true);
    const cfg = { ...testConfig(), insecure: false };
    await expect(startIngress(cfg, { starter: new FakeStarter(), rules })).rejects.toThrow(
      /no authentication configured/,
    );
  });

  it('config errors name the variable and never echo a secret', () => {
    let err: unknown;
    try {
      loadIngressConfig({
        INGRESS_PORT: 'eighty',
        INGRESS_BEARER_TOKENS: 'sekrit-token',
        INGRESS_HOST: '0.0.0.0',
        INGRESS_TIME_SCALE: '-1',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(IngressConfigError);
    expect(String(err)).toMatch(/INGRESS_PORT/);
    expect(String(err)).toMatch(/INGRESS_TIME_SCALE/);
    expect(String(err)).not.toContain('sekrit-token');
  });

  it('never logs secrets', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    });
    const logger = pino({ level: 'trace', redact: ['req.headers.authorization'] }, sink);
    const starter = new FakeStarter();
    const app = httpClient(
      buildIngress(testConfig({ bearerTokens: TOKEN, hmacSecrets: SECRET }), { starter, rules, logger }),
    );
    await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: fixture('alertmanager-firing.json'),
    });
    await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      headers: { authorization: `Bearer wrong-${TOKEN}` },
      payload: fixture('alertmanager-firing.json'),
    });
    await app.inject({
      method: 'POST',
      url: '/v1/alerts/grafana',
      headers: {
        'x-grafana-alerting-signature': sign(SECRET, grafanaBody),
        'content-type': 'application/json',
      },
      payload: grafanaBody,
    });
    starter.down = true;
    await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      headers: { authorization: `Bearer ${TOKEN}` },
      payload: fixture('alertmanager-firing.json'),
    });
    const text = lines.join('');
    expect(text.length).toBeGreaterThan(100);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(sign(SECRET, grafanaBody));
  });
});

describe('secure defaults on every inbound route (issue 11 item 5)', () => {
  const SECRET = 'hmac-secret-secure-defaults';
  const grafanaBody = JSON.stringify(fixture('grafana-firing.json'));
  const ROUTES = [
    ['/v1/alerts/alertmanager', () => alertmanagerPayload([{ alertname: 'TradingAPIDown' }])],
    ['/v1/alerts/grafana', () => JSON.parse(grafanaBody)],
    [
      '/v1/alerts/generic',
      () => ({ source: 'cron', alerts: [{ name: 'NightlyJobFailed', status: 'firing' }] }),
    ],
    ['/v1/incidents', () => ({ title: 'by hand', severity: 'P2', kind: 'generic' })],
  ] as const;

  it('unsigned, forged, stale and replayed requests get 401 and start nothing', async () => {
    const clock = Date.parse('2026-01-17T16:00:00Z');
    const { app, starter } = setup({ bearerTokens: 'good-token', hmacSecrets: SECRET }, () => clock);
    const ts = String(Math.floor(clock / 1000));
    for (const [url, make] of ROUTES) {
      const payload = JSON.stringify(make());
      const send = (headers: Record<string, string>) =>
        app.inject({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/json', ...headers },
          payload,
        });
      const cases: [string, Record<string, string>][] = [
        ['unsigned', {}],
        ['forged bearer', { authorization: 'Bearer forged' }],
        [
          'forged signature',
          { 'x-signature-256': `sha256=${sign('forged', payload, ts)}`, 'x-signature-timestamp': ts },
        ],
        [
          'stale',
          {
            'x-signature-256': `sha256=${sign(SECRET, payload, String(Number(ts) - 600))}`,
            'x-signature-timestamp': String(Number(ts) - 600),
          },
        ],
        ['no timestamp', { 'x-signature-256': `sha256=${sign(SECRET, payload)}` }],
      ];
      for (const [what, headers] of cases) {
        const res = await send(headers);
        expect([url, what, res.statusCode]).toEqual([url, what, 401]);
        expect(res.json().error.code).toBe('unauthorized');
      }
      const signed = {
        'x-signature-256': `sha256=${sign(SECRET, payload, ts)}`,
        'x-signature-timestamp': ts,
      };
      const first = await send(signed);
      expect([url, first.statusCode]).toEqual([url, url === '/v1/incidents' ? 201 : 200]);
      const replayed = await send(signed);
      expect([url, 'replayed', replayed.statusCode]).toEqual([url, 'replayed', 401]);
    }
    // One start per route, from the one good request each.
    expect(starter.temporalCalls + starter.calls.filter((c) => c.op === 'open').length).toBe(ROUTES.length);
  });

  it('a Host header it does not answer for (DNS rebinding) gets 421 and starts nothing', async () => {
    const { app, starter } = setup({ bearerTokens: 'good-token' });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      headers: { host: 'attacker.example:8080', authorization: 'Bearer good-token' },
      payload: alertmanagerPayload([{ alertname: 'TradingAPIDown' }]),
    });
    expect(res.statusCode).toBe(421);
    expect(res.json().error).toMatchObject({ code: 'host_not_allowed', field: 'host' });
    expect(starter.calls).toHaveLength(0);
    for (const host of ['127.0.0.1:8080', 'localhost', '[::1]:8080']) {
      const ok = await app.inject({ method: 'GET', url: '/healthz', headers: { host } });
      expect([host, ok.statusCode]).toEqual([host, 200]);
    }
    const listed = setup({ bearerTokens: 'good-token', allowedHosts: 'ingress.internal' });
    expect(
      (
        await listed.app.inject({
          method: 'GET',
          url: '/healthz',
          headers: { host: 'ingress.internal:8080' },
        })
      ).statusCode,
    ).toBe(200);
    expect(
      (await listed.app.inject({ method: 'GET', url: '/healthz', headers: { host: 'localhost' } }))
        .statusCode,
    ).toBe(421);
  });
});

describe('GET /metrics needs a token unless configured open', () => {
  const scrape = (app: ReturnType<typeof setup>['app'], token?: string) =>
    app.inject({
      method: 'GET',
      url: '/metrics',
      ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
    });

  it('by default the bearer token; with INGRESS_METRICS_TOKENS only a scrape token', async () => {
    const { app } = setup({ bearerTokens: 'alert-token' });
    for (const token of [undefined, 'nope']) {
      const res = await scrape(app, token);
      expect(res.statusCode).toBe(401);
      expect(res.body).not.toContain('ingress_requests_total');
    }
    expect((await scrape(app, 'alert-token')).body).toContain('# TYPE ingress_requests_total counter');
    // A scraper's token cannot open incidents, and the alert token no longer scrapes.
    const scoped = setup({ bearerTokens: 'alert-token', metricsTokens: 'scrape-token' });
    expect((await scrape(scoped.app, 'scrape-token')).statusCode).toBe(200);
    expect((await scrape(scoped.app, 'alert-token')).statusCode).toBe(401);
    const alert = await scoped.app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      headers: { authorization: 'Bearer scrape-token' },
      payload: alertmanagerPayload([{ alertname: 'TradingAPIDown' }]),
    });
    expect(alert.statusCode).toBe(401);
    expect(scoped.starter.calls).toHaveLength(0);
  });

  it('INGRESS_METRICS_AUTH=none opens it; HMAC secrets alone leave it closed, saying what to set', async () => {
    const open = setup({ bearerTokens: 'alert-token', metricsAuth: 'none' });
    expect((await scrape(open.app)).statusCode).toBe(200);
    const hmacOnly = setup({ hmacSecrets: 'hmac-secret-1' });
    const closed = await scrape(hmacOnly.app);
    expect(closed.statusCode).toBe(401);
    expect(closed.json().error.message).toContain('INGRESS_METRICS_TOKENS');
    // An insecure ingress (no auth at all, local experiments) has nothing to check it with.
    expect((await scrape(setup().app)).statusCode).toBe(200);
    const env = loadIngressConfig(
      { INGRESS_METRICS_AUTH: 'none', INGRESS_METRICS_TOKENS: 'a,b', INGRESS_BEARER_TOKENS: 'x' },
      {},
    );
    expect(env).toMatchObject({ metricsAuth: 'none', metricsTokens: ['a', 'b'] });
    expect(loadIngressConfig({ INGRESS_BEARER_TOKENS: 'x' }, {}).metricsAuth).toBe('token');
    expect(() => loadIngressConfig({ INGRESS_METRICS_AUTH: 'open', INGRESS_BEARER_TOKENS: 'x' }, {})).toThrow(
      /INGRESS_METRICS_AUTH/,
    );
  });
});

describe('the Host check reads one host and an optional port, nothing else', () => {
  it('a Host with a second name after a comma or an @ gets 421 (sent byte for byte on a bare socket)', async () => {
    const { app } = setup({ bearerTokens: 'good-token' });
    const url = await app.url();
    const { port } = new URL(url);
    const status = async (host: string) =>
      (
        await rawRequest(url, `GET /healthz HTTP/1.1\r\nHost: ${host}\r\nConnection: close`, [], {
          giveUpMs: 5000,
        })
      ).statusCode;
    for (const host of [
      `127.0.0.1:${port}, evil.example`,
      '127.0.0.1:@evil.example',
      '127.0.0.1@evil.example',
      '127.0.0.1 evil.example',
      '127.0.0.1:80:81',
      '[::1]evil.example',
      'localhost:http',
    ])
      expect([host, await status(host)]).toEqual([host, 421]);
    for (const host of [`127.0.0.1:${port}`, 'localhost', 'LOCALHOST:1', '[::1]:8080', '[::1]'])
      expect([host, await status(host)]).toEqual([host, 200]);
  });

  it('hostName: the name, or null for anything that is not host[:port]', () => {
    expect(hostName('127.0.0.1:8080')).toBe('127.0.0.1');
    expect(hostName('[::1]:8080')).toBe('::1');
    expect(hostName('Ingress.Internal')).toBe('ingress.internal');
    expect(hostName('127.0.0.1:32080, evil.example')).toBeNull();
    expect(hostName('127.0.0.1:@evil.example')).toBeNull();
    expect(hostName('')).toBeNull();
    expect(hostName(undefined)).toBeNull();
  });
});

describe('verification follows the matched route, not the raw URL', () => {
  /** One raw HTTP/1.1 request, so the request target is sent exactly as written. */
  async function raw(base: string, target: string, headers: Record<string, string>, body: string) {
    const { port } = new URL(base);
    const socket = net.connect(Number(port), '127.0.0.1');
    const head = [
      `POST ${target} HTTP/1.1`,
      'Host: 127.0.0.1',
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Connection: close',
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
      '',
      '',
    ].join('\r\n');
    socket.end(head + body);
    let text = '';
    for await (const chunk of socket) text += chunk.toString();
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]);
  }

  it('percent-encoded and absolute-form targets of protected routes still need their credentials', async () => {
    const { app, starter } = setup({
      bearerTokens: 'good-token',
      slackSigningSecrets: 's',
      pagerDutyWebhookSecrets: 'p',
    });
    const base = await app.url();
    const alert = JSON.stringify(alertmanagerPayload([{ alertname: 'TradingAPIDown' }]));
    const manual = JSON.stringify({ title: 'x', severity: 'P2', kind: 'generic' });
    const bearer = { Authorization: 'Bearer good-token' };
    const cases: [string, Record<string, string>, string][] = [
      ['/%761/alerts/alertmanager', {}, alert],
      ['/v1/alerts/%61lertmanager', {}, alert],
      [`http://127.0.0.1:${new URL(base).port}/v1/alerts/alertmanager`, {}, alert],
      ['/%761/incidents', {}, manual],
      // The alert token is not Slack's or PagerDuty's signature.
      ['/v1/%73lack/commands', bearer, 'text=ack'],
      ['/v1/%70agerduty/webhooks', bearer, '{}'],
    ];
    for (const [target, headers, body] of cases) {
      const code = await raw(base, target, headers, body);
      expect([target, code]).toEqual([target, 401]);
    }
    expect(starter.calls).toHaveLength(0);
    expect(starter.actions).toHaveLength(0);
  });
});
