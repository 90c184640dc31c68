// The alert ingress HTTP service: Fastify with the zod type provider. Routes:
//   POST /v1/alerts/alertmanager | /v1/alerts/grafana | /v1/alerts/generic   webhooks -> incidents
//   POST /v1/incidents                                                       open an incident by hand
//   POST /v1/slack/interactions | /v1/slack/commands    (routes/slack/route.ts)
//   POST /v1/pagerduty/webhooks                          (routes/pagerduty/route.ts)
//   POST /v1/heartbeats/{name}, GET /v1/heartbeats       (routes/heartbeats/route.ts)
//   GET /v1/oncall, POST /v1/oncall/overrides, DELETE /v1/oncall/overrides/{id}   (routes/oncall/route.ts)
//   GET  /healthz   (up or degraded)           GET /metrics   (Prometheus text)
// Hooks here: Host allow-list, rate limit, each route's verification, replay claims. Starting it as a
// process (Temporal, Redis, the socket): start.ts.
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { randomUUID } from 'node:crypto';
import { classifySeverity } from '../playbook/decision-tree';
import {
  checkBearer,
  presentedScheme,
  signatureSchemes,
  verifySignature,
  type SignatureScheme,
} from './auth';
import {
  allowedHostNames,
  authConfigured,
  metricsTokens,
  resolveRoutesFile,
  type IngressConfig,
} from './config';
import { AlertDispatcher, incidentUrl } from './dispatch';
import { envelope, IngressError, toIngressError } from './errors';
import { cleanParsedJson } from './text';
import {
  PAGERDUTY_EVENT_MAX_AGE_MS,
  PAGERDUTY_SIGNATURE_HEADER,
  presentedPagerDutySignatures,
  verifyPagerDutySignature,
} from './pagerduty';
import { parseContactConfig, type ContactConfig } from '../playbook/contacts';
import { checkSlackHeaders, SLACK_SIGNATURE_HEADER, verifySlackSignature } from './slack';
import { IngressMetrics } from './metrics';
import rateLimit from '@fastify/rate-limit';
import type Redis from 'ioredis';
import { MemoryReplayGuard, RedisReplayGuard, type ReplayGuard } from './shared';
import type { PolicyOverrides } from '../playbook/policy';
import { loadRoutingRules, Router, shortHash, type RoutingRules } from './routing';
import { meteredStarter, type IncidentStarter } from './starter';
import { alertmanagerBodySchema } from './routes/alertmanager/schema';
import { normalizeAlertmanager } from './routes/alertmanager/normalize';
import { grafanaBodySchema } from './routes/grafana/schema';
import { normalizeGrafana } from './routes/grafana/normalize';
import { genericBodySchema } from './routes/generic/schema';
import { normalizeGeneric } from './routes/generic/normalize';
import { manualIncidentBodySchema } from './routes/incidents/schema';
import { registerPagerDutyRoute } from './routes/pagerduty/route';
import { registerSlackRoutes } from './routes/slack/route';
import type { IncidentInput } from '../playbook/contract/incident';
import { heartbeatsConfigSchema, type HeartbeatsConfig } from '../playbook/contract/heartbeat';
import { HeartbeatIntake } from './heartbeats';
import { HEARTBEAT_ROUTE, HEARTBEATS_ROUTE, registerHeartbeatRoutes } from './routes/heartbeats/route';
import {
  ONCALL_OVERRIDE_ROUTE,
  ONCALL_OVERRIDES_ROUTE,
  ONCALL_ROUTE,
  registerOncallRoutes,
} from './routes/oncall/route';

export { loadIngressConfig, type IngressConfig } from './config';

interface IngressRequestState {
  startedAt: bigint;
  rawBody: Buffer | null;
  /** Signature scheme to verify once the body is read (bearer is checked before reading it). */
  pendingSignature: SignatureScheme | null;
  /** The body's signature (Slack, PagerDuty, HMAC) was verified, or the route has none to verify. */
  verified: boolean;
  replayKey: string | null;
  /** The PagerDuty event id claimed by this request (committed on 2xx, released otherwise). */
  pagerDutyKey: string | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    ingress: IngressRequestState;
  }
}

export interface IngressDeps {
  starter: IncidentStarter;
  /** Routing rules; default: read from config.routesFile. */
  rules?: RoutingRules;
  /** A pino-compatible logger; default: Fastify's pino at config.logLevel with secrets redacted. */
  logger?: FastifyBaseLogger;
  metrics?: IngressMetrics;
  now?: () => number;
  /**
   * The deployment's policy, sent in every start input so the incident pages in its first workflow task
   * (startIngress reads INCIDENT_CONFIG, as the worker does). Absent: the worker loads its own.
   */
  policy?: PolicyOverrides;
  /**
   * The replicas' shared state (INGRESS_REDIS_URL): the replay cache and the rate limits. Absent: this
   * process's memory. The caller owns the client (startIngress opens and closes it).
   */
  redis?: Redis;
  /** 2.1 contacts: who a Slack or PagerDuty user is. Default: none (every user unmapped). */
  contacts?: ContactConfig;
  /** The deployment's `heartbeats:` section (INCIDENT_CONFIG). Default: none declared (the Watchdog's only). */
  heartbeats?: HeartbeatsConfig;
}

const ALERT_ROUTES = ['/v1/alerts/alertmanager', '/v1/alerts/grafana', '/v1/alerts/generic'] as const;

/**
 * How each route is verified, by the route Fastify matched (never the raw URL, which may be percent-encoded
 * or absolute-form and still route to the same handler). Alert routes and manual incidents: the bearer token
 * or HMAC; Slack's and PagerDuty's: their platform's signature; health and metrics: open.
 */
const VERIFICATION: Record<string, 'alerts' | 'slack' | 'pagerduty'> = {
  '/v1/alerts/alertmanager': 'alerts',
  '/v1/alerts/grafana': 'alerts',
  '/v1/alerts/generic': 'alerts',
  '/v1/incidents': 'alerts',
  '/v1/slack/interactions': 'slack',
  '/v1/slack/commands': 'slack',
  '/v1/pagerduty/webhooks': 'pagerduty',
  [HEARTBEAT_ROUTE]: 'alerts',
  [HEARTBEATS_ROUTE]: 'alerts',
  [ONCALL_ROUTE]: 'alerts',
  [ONCALL_OVERRIDES_ROUTE]: 'alerts',
  [ONCALL_OVERRIDE_ROUTE]: 'alerts',
};
const verificationOf = (req: FastifyRequest): 'alerts' | 'slack' | 'pagerduty' | 'open' =>
  VERIFICATION[req.routeOptions.url ?? ''] ?? 'open';

/** Header names that carry credentials: never logged. */
const REDACT = [
  'req.headers.authorization',
  'req.headers["x-signature-256"]',
  'req.headers["x-grafana-alerting-signature"]',
];

export function buildIngress(config: IngressConfig, deps: IngressDeps) {
  const now = deps.now ?? Date.now;
  const metrics = deps.metrics ?? new IngressMetrics();
  const rules = deps.rules ?? loadRoutingRules(resolveRoutesFile(config));
  const router = new Router(rules);
  const schemes = signatureSchemes(config.grafanaSignatureHeader, config.grafanaTimestampHeader);
  const authOn = authConfigured(config);

  const headersTimeout = Math.min(config.headersTimeoutMs, config.requestTimeoutMs);
  const app = Fastify({
    bodyLimit: config.bodyLimitBytes,
    // A client that sends its request slowly (a byte every few seconds never looks idle) is cut off once the
    // request has taken requestTimeout; Node checks every connectionsCheckingInterval (30 s by default, which
    // would let a slow body run twice as long as configured), so the check runs at a quarter of the bound.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.idleTimeoutMs,
    http: {
      headersTimeout,
      connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(headersTimeout / 4))),
    },
    genReqId: () => randomUUID(),
    trustProxy: false,
    ...(deps.logger
      ? { loggerInstance: deps.logger }
      : {
          logger: {
            level: config.logLevel,
            redact: {
              paths: [...REDACT, `req.headers["${config.grafanaSignatureHeader}"]`],
              censor: '[redacted]',
            },
          },
        }),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorateRequest('ingress', null as unknown as IngressRequestState);

  const windowMs = config.replayWindowSeconds * 1000;
  const replay: ReplayGuard = deps.redis
    ? new RedisReplayGuard(deps.redis, config.redisKeyPrefix, windowMs, app.log, () =>
        metrics.sharedStateFallbacks.inc({ what: 'replay-cache' }),
      )
    : new MemoryReplayGuard(windowMs);
  // PagerDuty signs no timestamp: its event ids are remembered as long as an event may be accepted.
  const pagerDutyEvents: ReplayGuard = deps.redis
    ? new RedisReplayGuard(
        deps.redis,
        `${config.redisKeyPrefix}pd:`,
        PAGERDUTY_EVENT_MAX_AGE_MS,
        app.log,
        () => metrics.sharedStateFallbacks.inc({ what: 'pagerduty-events' }),
      )
    : new MemoryReplayGuard(PAGERDUTY_EVENT_MAX_AGE_MS);
  const contacts = deps.contacts ?? parseContactConfig(undefined);

  // Per client address on the /v1 routes (@fastify/rate-limit; in Redis when configured, so the replicas
  // share one budget). The defaults sit far above what Alertmanager or Grafana send (one request per group
  // per group_interval); the limit stops a runaway or hostile sender from starving Temporal. Alert senders
  // retry 5xx but drop 4xx: a limited alert webhook gets 503 + Retry-After so it comes back later instead of
  // being lost; a person opening an incident gets 429. Redis away: no limit rather than refused alerts.
  const rateWindowMs = Math.max(1000, Math.ceil((config.rateLimitBurst / config.rateLimitPerSecond) * 1000));
  void app.register(rateLimit, {
    hook: 'onRequest',
    max: config.rateLimitBurst,
    timeWindow: rateWindowMs,
    keyGenerator: (req) => req.socket.remoteAddress ?? 'unknown',
    allowList: (req) => verificationOf(req) === 'open',
    ...(deps.redis
      ? { redis: deps.redis, nameSpace: `${config.redisKeyPrefix}rate:`, skipOnError: true }
      : {}),
    onExceeded: () => undefined,
    // The configured window, not ctx.after (the time left until this window resets).
    errorResponseBuilder: (req, ctx) => {
      const retryAfter = Math.max(1, Math.ceil(ctx.ttl / 1000));
      return new IngressError(
        (req.routeOptions.url ?? '').startsWith('/v1/alerts/') ? 503 : 429,
        'rate_limited',
        `rate limit of ${ctx.max} requests per ${rateWindowMs / 1000} s per client address exceeded; retry in ${retryAfter} s`,
        'rate',
        undefined,
        retryAfter,
      );
    },
  });

  const starter = meteredStarter(deps.starter, metrics);
  const intake = new HeartbeatIntake(starter, deps.heartbeats ?? heartbeatsConfigSchema.parse({}), {
    timeScale: config.timeScale,
    metrics,
    now,
  });
  const dispatcher = new AlertDispatcher(
    router,
    starter,
    metrics,
    {
      timeScale: config.timeScale,
      concurrency: config.signalConcurrency,
      uiBaseUrl: config.uiBaseUrl,
      maxAlertsPerRequest: config.maxAlertsPerRequest,
      ...(deps.policy ? { policy: deps.policy } : {}),
      heartbeats: intake,
    },
    app.log,
  );

  /**
   * The body's signature, on the raw bytes exactly as sent, before they are parsed: a forged or unsigned body
   * costs one HMAC, never a JSON parse or a sanitising pass (headers that cannot verify were refused before
   * the body was read, in preParsing). Then the replay claim, so a replayed body is not parsed either.
   */
  const verifyBody = async (req: FastifyRequest, raw: Buffer): Promise<void> => {
    if (req.ingress.verified) return;
    const verification = verificationOf(req);
    if (verification === 'slack') {
      const key = verifySlackSignature(
        req.headers,
        raw,
        config.slackSigningSecrets,
        config.replayWindowSeconds,
        now(),
      );
      if (!(await replay.claim(key, now())))
        throw new IngressError(
          401,
          'unauthorized',
          'this Slack request was already received (replayed)',
          SLACK_SIGNATURE_HEADER,
        );
      req.ingress.replayKey = key;
    }
    if (verification === 'pagerduty')
      verifyPagerDutySignature(req.headers[PAGERDUTY_SIGNATURE_HEADER], raw, config.pagerDutyWebhookSecrets);
    const scheme = req.ingress.pendingSignature;
    if (scheme) {
      const verified = verifySignature(
        req.headers,
        raw,
        scheme,
        config.hmacSecrets,
        config.replayWindowSeconds,
        now(),
      );
      // A signature already accepted, or being processed right now by a concurrent copy of the request (on
      // any replica, when they share Redis).
      if (!(await replay.claim(verified.replayKey, now())))
        throw new IngressError(
          401,
          'unauthorized',
          'this signature was already used (replayed request)',
          scheme.signatureHeader,
        );
      req.ingress.replayKey = verified.replayKey;
    }
    req.ingress.verified = true;
  };
  const counted = (req: FastifyRequest, raw: Buffer) =>
    metrics.bodyBytesParsed.inc({ route: req.routeOptions.url ?? 'unmatched' }, raw.length);

  // Every string of the parsed body (keys too) is cleaned here, once, for everything downstream, as the
  // incident's schemas clean it (NUL and lone surrogates -> U+FFFD; other controls, bidi overrides and
  // zero-width characters removed): PostgreSQL, Slack, PagerDuty and search attributes take the rest.
  const jsonParser = app.getDefaultJsonParser('remove', 'remove');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer' },
    async (req: FastifyRequest, body: Buffer | string) => {
      const raw = Buffer.isBuffer(body) ? body : Buffer.from(body);
      req.ingress.rawBody = raw;
      await verifyBody(req, raw);
      if (raw.length === 0)
        throw new IngressError(400, 'invalid_json', 'the body is empty; send a JSON object', 'body');
      counted(req, raw);
      const value = await new Promise<unknown>(
        (resolve, reject) =>
          void jsonParser(req, raw.toString('utf8'), (err, parsed) => (err ? reject(err) : resolve(parsed))),
      ).catch((err: Error) => {
        throw new IngressError(
          400,
          'invalid_json',
          `the body is not valid JSON (${err.message.slice(0, 200)})`,
          'body',
        );
      });
      return cleanParsedJson(value);
    },
  );

  const hosts = allowedHostNames(config);
  // Slack sends application/x-www-form-urlencoded (interactions: one `payload` field of JSON; commands: the
  // command's fields). The raw bytes are kept for its signature, as for JSON.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'buffer' },
    async (req: FastifyRequest, body: Buffer | string) => {
      // Only Slack's routes take forms; everything else is JSON.
      if (verificationOf(req) !== 'slack')
        throw new IngressError(
          415,
          'unsupported_media_type',
          'send Content-Type: application/json',
          'content-type',
        );
      const raw = Buffer.isBuffer(body) ? body : Buffer.from(body);
      req.ingress.rawBody = raw;
      await verifyBody(req, raw);
      counted(req, raw);
      return cleanParsedJson(Object.fromEntries(new URLSearchParams(raw.toString('utf8'))));
    },
  );

  // A /v1 route without a verification entry would be open: refuse to build such an ingress.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/v1/') && !VERIFICATION[route.url])
      throw new Error(`route ${route.url} has no verification: add it to VERIFICATION`);
  });

  app.addHook('onRequest', async (req) => {
    req.ingress = {
      startedAt: process.hrtime.bigint(),
      rawBody: null,
      pendingSignature: null,
      verified: false,
      replayKey: null,
      pagerDutyKey: null,
    };
    // DNS rebinding: a browser page reaching the ingress through a name of its own sends that name.
    const name = hostName(req.headers.host);
    if (hosts && (name === null || !hosts.has(name))) {
      throw new IngressError(
        421,
        'host_not_allowed',
        `Host ${JSON.stringify(String(req.headers.host ?? '').slice(0, 100))} is not one this ingress answers for: add it to INGRESS_ALLOWED_HOSTS`,
        'host',
      );
    }
  });

  // Auth after the rate limit (a route's onRequest hook) and before the body is read.
  app.addHook('preParsing', async (req) => {
    const verification = verificationOf(req);
    // Slack's and PagerDuty's signatures cover the body; what their headers lack is refused before it is read.
    if (verification === 'slack') {
      checkSlackHeaders(req.headers, config.slackSigningSecrets, config.replayWindowSeconds, now());
      return;
    }
    if (verification === 'pagerduty') {
      presentedPagerDutySignatures(req.headers[PAGERDUTY_SIGNATURE_HEADER], config.pagerDutyWebhookSecrets);
      return;
    }
    if (verification === 'open' || !authOn) {
      req.ingress.verified = true;
      return;
    }
    const scheme =
      config.hmacSecrets.length > 0 && req.headers.authorization === undefined
        ? presentedScheme(req.headers, schemes)
        : null;
    if (scheme) req.ingress.pendingSignature = scheme;
    else if (config.bearerTokens.length > 0) {
      checkBearer(req.headers, config.bearerTokens);
      req.ingress.verified = true;
    } else
      throw new IngressError(
        401,
        'unauthorized',
        `missing signature: send ${schemes.map((s) => s.signatureHeader).join(' or ')}`,
        schemes[0]?.signatureHeader ?? 'authorization',
      );
  });

  // A request without a body never reaches a parser: its (empty) body is verified here.
  app.addHook('preValidation', async (req) => {
    await verifyBody(req, req.ingress.rawBody ?? Buffer.alloc(0));
  });

  // A client that hangs up before the answer (PagerDuty's or Slack's timeout) must not keep its signature or
  // event id claimed: the retry it sends next is the same request.
  app.addHook('onRequestAbort', async (req) => {
    if (req.ingress?.pagerDutyKey) await pagerDutyEvents.release(req.ingress.pagerDutyKey);
    if (req.ingress?.replayKey) await replay.release(req.ingress.replayKey);
  });

  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    const code = reply.statusCode;
    metrics.requests.inc({ route, code: String(code) });
    if (req.ingress)
      metrics.requestDuration.observe(
        { route },
        Number(process.hrtime.bigint() - req.ingress.startedAt) / 1e9,
      );
    if (req.ingress?.pagerDutyKey) {
      if (code < 300) await pagerDutyEvents.commit(req.ingress.pagerDutyKey, now());
      else await pagerDutyEvents.release(req.ingress.pagerDutyKey);
    }
    if (req.ingress?.replayKey) {
      // Only an accepted request uses its signature up: one answered 503 may be retried as it is.
      if (code < 300) await replay.commit(req.ingress.replayKey, now());
      else await replay.release(req.ingress.replayKey);
    }
  });

  app.setErrorHandler(
    (err: FastifyError | IngressError | Error, req: FastifyRequest, reply: FastifyReply) => {
      const e = toIngressError(err, config, req.routeOptions.bodyLimit ?? config.bodyLimitBytes);
      const route = req.routeOptions.url;
      // Refused before its body was read (credentials, size): the connection is closed after the answer
      // rather than kept alive by reading and discarding what the client is still sending.
      if (!req.raw.complete) void reply.header('connection', 'close');
      // A rate-limited request is a refusal the ingress means to give, even when it is a 503 (alert senders
      // retry 5xx): counted, and logged at debug, so a flood does not fill the log with errors.
      if (e.code === 'rate_limited') {
        metrics.rateLimited.inc({ route: route ?? 'unmatched' });
        req.log.debug({ code: e.code }, 'request refused: rate limit');
      } else if (e.status >= 500)
        req.log.error({ err: { name: err.name, message: err.message } }, 'request failed');
      else req.log.info({ code: e.code, field: e.field }, 'request refused');
      if (route && (ALERT_ROUTES as readonly string[]).includes(route))
        metrics.alertsRejected.inc({ route, reason: e.code });
      if (e.retryAfterSeconds !== undefined) void reply.header('retry-after', String(e.retryAfterSeconds));
      return reply
        .status(e.status)
        .type('application/json')
        .send(envelope(e, String(req.id)));
    },
  );

  app.setNotFoundHandler((req, reply) => {
    const e = new IngressError(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`, 'url');
    return reply.status(404).send(envelope(e, String(req.id)));
  });

  // The routes, in a plugin registered after the rate limit's so that its onRoute hook sees every one.
  void app.register(async (scope) => {
    const routes = scope.withTypeProvider<ZodTypeProvider>();
    routes.post('/v1/alerts/alertmanager', { schema: { body: alertmanagerBodySchema } }, async (req) => {
      return dispatcher.dispatch(normalizeAlertmanager(req.body), {
        source: 'alertmanager',
        truncatedAlerts: req.body.truncatedAlerts,
      });
    });

    routes.post('/v1/alerts/grafana', { schema: { body: grafanaBodySchema } }, async (req) => {
      return dispatcher.dispatch(normalizeGrafana(req.body), {
        source: 'grafana',
        truncatedAlerts: req.body.truncatedAlerts,
      });
    });

    routes.post('/v1/alerts/generic', { schema: { body: genericBodySchema } }, async (req) => {
      return dispatcher.dispatch(normalizeGeneric(req.body), { source: req.body.source, truncatedAlerts: 0 });
    });

    routes.post('/v1/incidents', { schema: { body: manualIncidentBodySchema } }, async (req, reply) => {
      const b = req.body;
      const classified = b.severity ? null : classifySeverity(b.assessment ?? {});
      const severity = b.severity ?? classified?.severity ?? 'P0';
      const key = b.idempotencyKey ? `manual|${b.idempotencyKey}` : `manual|${randomUUID()}`;
      const workflowId = `incident-${b.kind}-${shortHash(key)}`;
      const input: IncidentInput = {
        title: b.title,
        ...(b.severity ? { severity: b.severity } : { assessment: b.assessment }),
        kind: b.kind,
        summary: b.summary,
        detectedAt: b.detectedAt,
        source: { system: b.openedBy ? `manual:${b.openedBy}`.slice(0, 100) : 'manual', dedupKey: key },
        timeScale: config.timeScale,
        ...(deps.policy ? { policy: deps.policy, policyComplete: true } : {}),
      };
      const details = [
        `**${severity} ${b.kind}** opened by hand${b.openedBy ? ` by ${b.openedBy}` : ''} through ingress.`,
        classified ? `\n- Severity from the 1.3 decision tree: ${classified.reason}` : '',
      ].join('');
      const run = await starter.openIncident({
        workflowId,
        input,
        kind: b.kind,
        severity,
        details,
        reuseRunning: b.idempotencyKey !== undefined,
      });
      metrics.incidentsOpenedByHand.inc({ kind: b.kind, severity });
      return reply.status(201).send({
        workflowId: run.workflowId,
        runId: run.runId,
        kind: b.kind,
        severity,
        severitySource: classified ? 'decision-tree' : 'given',
        url: incidentUrl(config.uiBaseUrl, deps.starter.namespace, run.workflowId, run.runId),
      });
    });

    const channels = { config, starter, contacts, metrics, log: app.log, now, pagerDutyEvents };
    registerPagerDutyRoute(routes, channels);
    registerSlackRoutes(routes, channels);
    registerHeartbeatRoutes(routes, { intake, starter });
    registerOncallRoutes(routes, { starter, contacts, now });

    let health: { at: number; value: { reachable: boolean; error?: string } } | null = null;
    routes.get('/healthz', async (req, reply) => {
      if (!health || now() - health.at > 1000) health = { at: now(), value: await starter.health() };
      const ok = health.value.reachable;
      // Up or degraded for anyone (probes); what is wrong, with a bearer token: Temporal's error text says
      // where it runs.
      let details = false;
      if (config.bearerTokens.length > 0 && req.headers.authorization !== undefined) {
        try {
          checkBearer(req.headers, config.bearerTokens);
          details = true;
        } catch {
          details = false;
        }
      }
      return reply.status(ok ? 200 : 503).send(
        details
          ? {
              status: ok ? 'ok' : 'degraded',
              temporal: {
                reachable: ok,
                namespace: starter.namespace,
                taskQueue: config.taskQueue,
                ...(health.value.error ? { error: health.value.error } : {}),
              },
              routingRules: rules.rules.length,
              auth: authOn ? 'on' : 'off',
            }
          : { status: ok ? 'ok' : 'degraded' },
      );
    });

    const scrapeTokens = metricsTokens(config);
    routes.get('/metrics', async (req, reply) => {
      if (scrapeTokens === null)
        throw new IngressError(
          401,
          'unauthorized',
          'GET /metrics needs a token: set INGRESS_METRICS_TOKENS (or INGRESS_METRICS_AUTH=none to leave it open)',
          'authorization',
        );
      if (scrapeTokens.length > 0) checkBearer(req.headers, scrapeTokens);
      return reply.type(metrics.contentType).send(await metrics.render());
    });
  });

  return app;
}

export type IngressApp = ReturnType<typeof buildIngress>;

/**
 * The Host header's name, lower case, without its port (`[::1]:8080` -> `::1`), or null when the value is not
 * one host with an optional numeric port (`a:1, evil.example`, `a:@evil.example`, `a b`): such a value
 * is not taken apart into a name that happens to be allowed.
 */
export function hostName(host: string | undefined): string | null {
  const h = (host ?? '').trim().toLowerCase();
  const m = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9._-]+))(?::(\d{1,5}))?$/.exec(h);
  if (!m) return null;
  return m[1] ?? m[2] ?? null;
}
