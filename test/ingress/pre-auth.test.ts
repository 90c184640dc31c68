// What a caller who cannot sign costs the ingress: on the Slack, PagerDuty and HMAC routes the signature is
// checked on the raw bytes before anything parses them, headers that cannot verify are refused before the
// body is read at all, and Slack's and PagerDuty's routes take bodies of their own size, not the alerts'.
// Evidence without timing: ingress_body_bytes_parsed_total, and answers that arrive (and hang up) while the
// client has sent only part of what it declared.
import { createHmac } from 'node:crypto';
import { sign } from '../../src/ingress/auth';
import { IngressMetrics } from '../../src/ingress/metrics';
import { buildIngress } from '../../src/ingress/server';
import { metricValue } from '../harness/metrics';
import { closeAllApps, defaultRules, FakeStarter, fixture, httpClient, testConfig } from './helpers';
import { postHead, rawRequest } from './raw-socket';

const SLACK_SECRET = 'slack-secret-pre-auth';
const PD_SECRET = 'pd-secret-pre-auth';
const HMAC_SECRET = 'hmac-secret-pre-auth';

function setup() {
  const metrics = new IngressMetrics();
  const starter = new FakeStarter();
  const http = httpClient(
    buildIngress(
      testConfig({
        slackSigningSecrets: SLACK_SECRET,
        pagerDutyWebhookSecrets: PD_SECRET,
        hmacSecrets: HMAC_SECRET,
        rateLimitBurst: 100_000,
        rateLimitPerSecond: 100_000,
      }),
      { starter, rules: defaultRules(), metrics },
    ),
  );
  const parsed = async (route: string) =>
    metricValue(await metrics.render(), 'ingress_body_bytes_parsed_total', { route });
  return { http, starter, parsed };
}

afterAll(closeAllApps);

const slackHeaders = (body: string | Buffer, secret = SLACK_SECRET) => {
  const ts = String(Math.floor(Date.now() / 1000));
  return {
    'x-slack-request-timestamp': ts,
    'x-slack-signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:`).update(body).digest('hex')}`,
  };
};

describe('unsigned and forged bodies are refused before they are parsed', () => {
  it('Slack: no signature -> 401 before the body is read (the answer comes while most of it is unsent)', async () => {
    const { http, parsed } = setup();
    const url = await http.url();
    const declared = 8 * 1024 * 1024;
    const r = await rawRequest(
      url,
      postHead(url, '/v1/slack/interactions', 'application/x-www-form-urlencoded', declared),
      [Buffer.alloc(1024, 'a')],
      { giveUpMs: 5000 },
    );
    expect(r.statusCode).toBe(401);
    expect(r.closed).toBe(true);
    expect(r.bodyBytesSentBeforeResponse).toBeLessThanOrEqual(1024);
    expect(await parsed('/v1/slack/interactions')).toBe(0);
  });

  it('Slack: a signature over a body past the route limit (256 KiB) -> 413 before it is read', async () => {
    const { http, parsed } = setup();
    const url = await http.url();
    const big = Buffer.alloc(1024 * 1024, 'a');
    const r = await rawRequest(
      url,
      postHead(url, '/v1/slack/commands', 'application/x-www-form-urlencoded', big.length, slackHeaders(big)),
      [big.subarray(0, 1024)],
      { giveUpMs: 5000 },
    );
    expect(r.statusCode).toBe(413);
    expect(r.closed).toBe(true);
    expect(r.response).toContain('262144-byte limit');
    expect(await parsed('/v1/slack/commands')).toBe(0);
  });

  it('Slack: a forged signature on a body under the limit -> 401, the body never parsed; a signed one is', async () => {
    const { http, starter, parsed } = setup();
    const body = `command=%2Fincident&user_id=U0ANA&text=${'x'.repeat(200_000)}`;
    const forged = await http.inject({
      method: 'POST',
      url: '/v1/slack/commands',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...slackHeaders(body, 'forged') },
      payload: body,
    });
    expect(forged.statusCode).toBe(401);
    expect(await parsed('/v1/slack/commands')).toBe(0);
    const ok = new URLSearchParams({ command: '/incident', user_id: 'U0ANA', text: 'help' }).toString();
    const signed = await http.inject({
      method: 'POST',
      url: '/v1/slack/commands',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...slackHeaders(ok) },
      payload: ok,
    });
    expect(signed.statusCode).toBe(200);
    expect(signed.json().text).toMatch(/Usage/);
    expect(await parsed('/v1/slack/commands')).toBe(Buffer.byteLength(ok));
    expect(starter.actions).toHaveLength(0);
  });

  it('PagerDuty: no signature -> 401 before the body is read; over 64 KiB -> 413; forged -> 401 unparsed', async () => {
    const { http, parsed } = setup();
    const url = await http.url();
    const unsigned = await rawRequest(
      url,
      postHead(url, '/v1/pagerduty/webhooks', 'application/json', 4 * 1024 * 1024),
      [Buffer.alloc(1024, ' ')],
      { giveUpMs: 5000 },
    );
    expect(unsigned.statusCode).toBe(401);
    expect(unsigned.bodyBytesSentBeforeResponse).toBeLessThanOrEqual(1024);
    const big = Buffer.alloc(128 * 1024, ' ');
    const tooBig = await rawRequest(
      url,
      postHead(url, '/v1/pagerduty/webhooks', 'application/json', big.length, {
        'X-PagerDuty-Signature': `v1=${sign(PD_SECRET, big)}`,
      }),
      [big.subarray(0, 1024)],
      { giveUpMs: 5000 },
    );
    expect(tooBig.statusCode).toBe(413);
    // Not JSON at all: a parse before the check would have answered 400.
    const junk = `{${'"a":'.repeat(10_000)}`;
    const forged = await http.inject({
      method: 'POST',
      url: '/v1/pagerduty/webhooks',
      headers: { 'content-type': 'application/json', 'x-pagerduty-signature': `v1=${sign('forged', junk)}` },
      payload: junk,
    });
    expect(forged.statusCode).toBe(401);
    expect(await parsed('/v1/pagerduty/webhooks')).toBe(0);
    const event = JSON.stringify({
      event: {
        id: '01EVENTPREAUTH',
        event_type: 'incident.priority_updated',
        resource_type: 'incident',
        occurred_at: new Date().toISOString(),
        data: { id: 'Q1', type: 'incident' },
      },
    });
    const signed = await http.inject({
      method: 'POST',
      url: '/v1/pagerduty/webhooks',
      headers: {
        'content-type': 'application/json',
        'x-pagerduty-signature': `v1=${sign(PD_SECRET, event)}`,
      },
      payload: event,
    });
    expect(signed.statusCode).toBe(200);
    expect(await parsed('/v1/pagerduty/webhooks')).toBe(Buffer.byteLength(event));
  });

  it('HMAC alert route: a forged signature on 8 MiB is refused unparsed; the signed alert is accepted', async () => {
    const { http, starter, parsed } = setup();
    const big = JSON.stringify({ pad: 'x'.repeat(8 * 1024 * 1024) });
    const ts = String(Math.floor(Date.now() / 1000));
    const forged = await http.inject({
      method: 'POST',
      url: '/v1/alerts/generic',
      headers: {
        'content-type': 'application/json',
        'x-signature-256': `sha256=${sign('forged', big, ts)}`,
        'x-signature-timestamp': ts,
      },
      payload: big,
    });
    expect(forged.statusCode).toBe(401);
    expect(await parsed('/v1/alerts/generic')).toBe(0);
    // A replayed body is refused before it is parsed too.
    const body = JSON.stringify(fixture('alertmanager-firing.json'));
    const headers = {
      'content-type': 'application/json',
      'x-signature-256': `sha256=${sign(HMAC_SECRET, body, ts)}`,
      'x-signature-timestamp': ts,
    };
    const ok = await http.inject({ method: 'POST', url: '/v1/alerts/alertmanager', headers, payload: body });
    expect(ok.statusCode).toBe(200);
    expect(starter.calls.length).toBeGreaterThan(0);
    expect(await parsed('/v1/alerts/alertmanager')).toBe(Buffer.byteLength(body));
    const replayed = await http.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      headers,
      payload: body,
    });
    expect(replayed.statusCode).toBe(401);
    expect(await parsed('/v1/alerts/alertmanager')).toBe(Buffer.byteLength(body));
  });
});
