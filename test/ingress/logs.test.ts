// What the ingress logs when it refuses on purpose: a rate-limited request is not an error (a flood wrote
// thousands of error lines), it is counted; and the refusal names the configured window, not the time left.
import pino from 'pino';
import { IngressMetrics } from '../../src/ingress/metrics';
import { buildIngress } from '../../src/ingress/server';
import { metricValue } from '../harness/metrics';
import {
  alertmanagerPayload,
  closeAllApps,
  defaultRules,
  FakeStarter,
  httpClient,
  testConfig,
} from './helpers';

afterAll(closeAllApps);

interface LogLine {
  level: number;
  msg: string;
  code?: string;
}

function setup(level: pino.LevelWithSilent) {
  const lines: LogLine[] = [];
  const metrics = new IngressMetrics();
  const starter = new FakeStarter();
  const app = httpClient(
    buildIngress(testConfig({ bearerTokens: 'log-token', rateLimitBurst: 5, rateLimitPerSecond: 1 }), {
      starter,
      rules: defaultRules(),
      metrics,
      logger: pino({ level }, { write: (l: string) => void lines.push(JSON.parse(l) as LogLine) }),
    }),
  );
  const post = (url = '/v1/alerts/alertmanager') =>
    app.inject({
      method: 'POST',
      url,
      headers: { authorization: 'Bearer log-token' },
      payload:
        url === '/v1/incidents'
          ? { title: 'Manual', severity: 'P2' }
          : alertmanagerPayload([{ alertname: 'TradingAPIDown' }]),
    });
  return { app, lines, metrics, starter, post };
}

test('a flood past the rate limit logs no error line; the refusals are counted per route', async () => {
  const { lines, metrics, post } = setup('info');
  const codes: number[] = [];
  for (let i = 0; i < 25; i++) codes.push((await post()).statusCode);
  for (let i = 0; i < 5; i++) codes.push((await post('/v1/incidents')).statusCode);
  expect(codes.filter((c) => c === 200)).toHaveLength(5);
  expect(codes.filter((c) => c === 503)).toHaveLength(20);
  expect(codes.filter((c) => c === 429)).toHaveLength(5);
  expect(lines.filter((l) => l.level >= 40)).toEqual([]);
  expect(lines.filter((l) => l.msg.includes('rate limit'))).toEqual([]);
  const text = await metrics.render();
  expect(metricValue(text, 'ingress_rate_limited_total', { route: '/v1/alerts/alertmanager' })).toBe(20);
  expect(metricValue(text, 'ingress_rate_limited_total', { route: '/v1/incidents' })).toBe(5);
  // A real failure on the same ingress still logs at error.
  const failing = setup('info');
  failing.starter.down = true;
  expect((await failing.post()).statusCode).toBe(503);
  expect(failing.lines.filter((l) => l.level === 50).map((l) => l.msg)).toEqual(['request failed']);
});

test('at debug, each rate-limited request is one debug line', async () => {
  const { lines, post } = setup('debug');
  for (let i = 0; i < 8; i++) await post();
  const refusals = lines.filter((l) => l.msg === 'request refused: rate limit');
  expect(refusals).toHaveLength(3);
  expect(refusals.every((l) => l.level === 20 && l.code === 'rate_limited')).toBe(true);
});

test('the refusal names the configured window (5 s here), also late in the window', async () => {
  const { post } = setup('silent');
  for (let i = 0; i < 5; i++) expect((await post()).statusCode).toBe(200);
  // Two seconds into the window: about three are left until it resets, and the window is still 5 s.
  await new Promise((r) => setTimeout(r, 2100));
  const res = await post();
  expect(res.statusCode).toBe(503);
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(3);
  expect(res.json().error.message).toBe(
    `rate limit of 5 requests per 5 s per client address exceeded; retry in ${retryAfter} s`,
  );
});
