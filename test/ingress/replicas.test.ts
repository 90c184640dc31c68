// Ingress replicas share their replay cache and rate limits through the real Redis (issue 10 item 4): a
// signed request accepted by one replica is refused by the other and by a restarted one; two copies sent
// to both at once make one 200 and one 401; a request answered 503 may be retried elsewhere; the rate
// limit is one budget for all. With Redis away, alerts are still accepted and counted as a fallback.
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import pino from 'pino';
import { sign } from '../../src/ingress/auth';
import { buildIngress } from '../../src/ingress/server';
import { IngressMetrics } from '../../src/ingress/metrics';
import { connectIngressRedis } from '../../src/ingress/shared';
import { metricValue } from '../harness/metrics';
import {
  alertmanagerPayload,
  closeAllApps,
  defaultRules,
  FakeStarter,
  httpClient,
  testConfig,
} from './helpers';
import type { IngressConfigInput } from '../../src/ingress/config';

const SECRET = 'replica-secret-3f9a';
const prefix = `test-ingress-${randomUUID().slice(0, 8)}:`;
const clients: Redis[] = [];
const silent = { level: 'silent' } as const;

function redisClient(url = 'redis://127.0.0.1:6379/0'): Redis {
  const r = connectIngressRedis(url, pino(silent));
  clients.push(r);
  return r;
}

async function ready(r: Redis): Promise<void> {
  if (r.status === 'ready') return;
  await new Promise<void>((resolve) => r.once('ready', () => resolve()));
}

function replica(redis: Redis, overrides: Partial<IngressConfigInput> = {}) {
  const starter = new FakeStarter();
  const metrics = new IngressMetrics();
  const app = httpClient(
    buildIngress(
      testConfig({
        hmacSecrets: SECRET,
        redisKeyPrefix: prefix,
        rateLimitPerSecond: 1_000,
        rateLimitBurst: 100_000,
        logLevel: 'silent',
        ...overrides,
      }),
      { starter, rules: defaultRules(), redis, metrics },
    ),
  );
  return { app, starter, metrics };
}

const body = JSON.stringify(
  alertmanagerPayload([{ alertname: 'TradingAPIDown', fingerprint: 'replica-fp' }]),
);
function signedHeaders(payload = body, at = Date.now()) {
  const ts = String(Math.floor(at / 1000));
  return {
    'content-type': 'application/json',
    'x-signature-256': `sha256=${sign(SECRET, payload, ts)}`,
    'x-signature-timestamp': ts,
  };
}
const post = (r: ReturnType<typeof replica>, headers: Record<string, string>, payload = body) =>
  r.app.inject({ method: 'POST', url: '/v1/alerts/alertmanager', headers, payload });

afterAll(async () => {
  await closeAllApps();
  const keys = await clients[0]!.keys(`${prefix}*`);
  if (keys.length) await clients[0]!.del(...keys);
  for (const c of clients) c.disconnect();
});

test('a signature used on one replica is refused by another and after a restart', async () => {
  const redis = redisClient();
  await ready(redis);
  const other = redisClient();
  await ready(other);
  const a = replica(redis);
  const b = replica(other);
  const headers = signedHeaders();
  expect((await post(a, headers)).statusCode).toBe(200);
  const replayed = await post(b, headers);
  expect(replayed.statusCode).toBe(401);
  expect(replayed.json().error.message).toContain('already used');
  expect(b.starter.calls).toHaveLength(0);
  // A replica started later (a new process: its own client) sees it too.
  const later = redisClient();
  await ready(later);
  const c = replica(later);
  expect((await post(c, headers)).statusCode).toBe(401);
  // The key lives for twice the replay window, not for ever.
  const ttl = await redis.pttl(
    `${prefix}replay:${headers['x-signature-timestamp']}:${headers['x-signature-256'].slice(7)}`,
  );
  expect(ttl).toBeGreaterThan(0);
  expect(ttl).toBeLessThanOrEqual(600_000);
});

test('two copies of one signed request sent to two replicas at once: exactly one is accepted', async () => {
  const a = replica(redisClient());
  const b = replica(redisClient());
  await Promise.all(clients.map(ready));
  const payload = JSON.stringify(alertmanagerPayload([{ alertname: 'TradingAPIDown', fingerprint: 'race' }]));
  for (let round = 0; round < 5; round++) {
    const headers = signedHeaders(payload, Date.now() + round * 1000);
    const codes = (await Promise.all([post(a, headers, payload), post(b, headers, payload)])).map(
      (r) => r.statusCode,
    );
    expect(codes.sort()).toEqual([200, 401]);
  }
  expect(a.starter.calls.length + b.starter.calls.length).toBe(5);
});

test('a request answered 503 releases its signature: the sender may retry it on any replica', async () => {
  const a = replica(redisClient());
  const b = replica(redisClient());
  await Promise.all(clients.map(ready));
  const payload = JSON.stringify(
    alertmanagerPayload([{ alertname: 'TradingAPIDown', fingerprint: 'retry' }]),
  );
  const headers = signedHeaders(payload, Date.now() + 60_000);
  a.starter.down = true;
  expect((await post(a, headers, payload)).statusCode).toBe(503);
  expect((await post(b, headers, payload)).statusCode).toBe(200);
  expect((await post(a, headers, payload)).statusCode).toBe(401);
});

test('the rate limit is one budget for all replicas', async () => {
  const limits = { rateLimitPerSecond: 1, rateLimitBurst: 3, redisKeyPrefix: `${prefix}rl-${randomUUID()}:` };
  const a = replica(redisClient(), limits);
  const b = replica(redisClient(), limits);
  await Promise.all(clients.map(ready));
  const unsigned = { 'content-type': 'application/json' };
  // Alertmanager sends bearer or signed requests; the limit runs before auth, so unsigned ones count too.
  const codes: number[] = [];
  for (const r of [a, b, a, b, a]) codes.push((await post(r, unsigned)).statusCode);
  expect(codes).toEqual([401, 401, 401, 503, 503]);
  const limited = await post(b, unsigned);
  expect(limited.json().error.code).toBe('rate_limited');
  expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
});

test('with Redis away, alerts are still accepted; a replay to the same replica is still refused', async () => {
  // Nothing listens on port 1.
  const down = redisClient('redis://127.0.0.1:1/0');
  const a = replica(down);
  const headers = signedHeaders(body, Date.now() + 120_000);
  expect((await post(a, headers)).statusCode).toBe(200);
  expect((await post(a, headers)).statusCode).toBe(401);
  const text = await a.metrics.render();
  expect(metricValue(text, 'ingress_shared_state_fallbacks_total', { what: 'replay-cache' })).toBeGreaterThan(
    0,
  );
});
