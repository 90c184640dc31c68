// Starting the ingress as a process of its own (npm run ingress, npm start): the Temporal starter, the
// deployment config, Redis, and the listening socket; buildIngress (server.ts) is the app itself.
import type { AddressInfo } from 'node:net';
import type Redis from 'ioredis';
import pino from 'pino';
import { deploymentPolicy, loadDeploymentConfig } from '../config';
import { parseContactConfig } from '../playbook/contacts';
import { authConfigured, authProblem, loadIngressConfig, metricsTokens, type IngressConfig } from './config';
import { IngressMetrics } from './metrics';
import { buildIngress, type IngressApp, type IngressDeps } from './server';
import { connectIngressRedis } from './shared';
import { TemporalIncidentStarter, type IncidentStarter } from './starter';

export interface RunningIngress {
  url: string;
  app: IngressApp;
  starter: IncidentStarter;
  close(): Promise<void>;
}

/**
 * Starts the ingress on config.host:config.port (0 = any free port). Without deps.starter it connects to
 * Temporal lazily from the TEMPORAL_* environment, so it starts (and answers 503) while Temporal is down.
 */
export async function startIngress(
  config: IngressConfig = loadIngressConfig(),
  deps: Partial<IngressDeps> = {},
): Promise<RunningIngress> {
  const problem = authProblem(config);
  if (problem) throw new Error(problem);
  const ownsStarter = !deps.starter;
  const starter =
    deps.starter ??
    new TemporalIncidentStarter({ taskQueue: config.taskQueue, timeoutMs: config.temporalTimeoutMs });
  // The same deployment config as the worker's (INCIDENT_CONFIG and the channel secrets).
  const deployment = loadDeploymentConfig(process.env.INCIDENT_CONFIG);
  const policy = deps.policy ?? deploymentPolicy(deployment);
  const contacts = deps.contacts ?? parseContactConfig(deployment.contacts);
  // A process of its own (npm run ingress, npm start): its CPU, memory and event-loop lag too.
  const metrics = deps.metrics ?? new IngressMetrics({ processMetrics: true });
  const ownsRedis = !deps.redis && config.redisUrl !== undefined;
  const redis = deps.redis ?? (config.redisUrl ? await openRedis(config.redisUrl) : undefined);
  const app = buildIngress(config, {
    ...deps,
    starter,
    policy,
    metrics,
    contacts,
    ...(deployment.heartbeats && !deps.heartbeats ? { heartbeats: deployment.heartbeats } : {}),
    ...(redis ? { redis } : {}),
  });
  if (!authConfigured(config))
    app.log.warn(
      'INGRESS_INSECURE: every inbound route accepts requests WITHOUT authentication; anyone who can reach this port can open and change incidents. Set INGRESS_BEARER_TOKENS or INGRESS_HMAC_SECRETS.',
    );
  if (metricsTokens(config) === null)
    app.log.warn(
      'GET /metrics answers 401: it needs a token and only HMAC secrets are configured; set INGRESS_METRICS_TOKENS for the scraper (or INGRESS_METRICS_AUTH=none)',
    );
  if (!redis)
    app.log.info(
      "replay cache and rate limits in this process's memory: set INGRESS_REDIS_URL to share them between replicas",
    );
  try {
    await app.listen({ host: config.host, port: config.port });
  } catch (err) {
    if (ownsStarter) await starter.close();
    if (ownsRedis) redis?.disconnect();
    throw err;
  }
  const addr = app.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${host}:${addr.port}`,
    app,
    starter,
    async close() {
      await app.close();
      if (ownsStarter) await starter.close();
      if (ownsRedis) redis?.disconnect();
    },
  };
}

/**
 * INGRESS_REDIS_URL's client, given up to 2 s to connect. Still away then: the ingress starts anyway (alerts
 * first), logging that the replay cache falls back to memory and the rate limit is off until Redis is back.
 */
async function openRedis(url: string): Promise<Redis> {
  const log = pino({ name: 'ingress-redis' });
  const redis = connectIngressRedis(url, log);
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => redis.once('ready', () => resolve(true))),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 2000).unref()),
  ]);
  if (ready) log.info('connected to Redis for the replay cache and rate limits');
  else log.error('Redis not reachable yet: starting without it (replay cache in memory, rate limits off)');
  return redis;
}
