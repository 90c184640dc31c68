// Ingress configuration: validated once at start-up from the environment (STYLE: "environment validated
// once at start-up"). The Temporal connection itself is not here: it comes from the standard TEMPORAL_*
// variables through @temporalio/envconfig.
import path from 'node:path';
import { z } from 'zod';
import { TASK_QUEUE } from '../workflows/definitions';

const list = z
  .union([z.string(), z.array(z.string())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0));
const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no', ''])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const ingressConfigSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: int(0, 65535).default(8080),
    /** Accepted `Authorization: Bearer <token>` values (several, for rotation). */
    bearerTokens: list.default([]),
    /**
     * GET /metrics: `token` (default) needs `Authorization: Bearer` with one of metricsTokens, or of
     * bearerTokens when none is set (only INGRESS_INSECURE without any token leaves it open); `none` leaves it
     * open to whoever reaches the port. Its series name routes, alert names, rates and Temporal's health.
     */
    metricsAuth: z.enum(['token', 'none']).default('token'),
    /** Scrape tokens for GET /metrics: a scraper needs no token that can open incidents. */
    metricsTokens: list.default([]),
    /** Shared secrets for HMAC-SHA256 signatures (Grafana and `X-Signature-256`); several for rotation. */
    hmacSecrets: list.default([]),
    grafanaSignatureHeader: z
      .string()
      .min(1)
      .default('x-grafana-alerting-signature')
      .transform((s) => s.toLowerCase()),
    grafanaTimestampHeader: z
      .string()
      .min(1)
      .default('x-grafana-alerting-timestamp')
      .transform((s) => s.toLowerCase()),
    /** Signed requests carrying a timestamp older or newer than this are refused (5 minutes). */
    replayWindowSeconds: int(1, 86_400).default(300),
    /**
     * Accept requests without authentication when no token or secret is configured (INGRESS_INSECURE=1; local
     * experiments only, with a loud start-up warning). Without it, no auth configured is a start-up error.
     */
    insecure: bool.default(false),
    /**
     * Host header names accepted (DNS rebinding: a web page must not reach the ingress through a name of its
     * own). Default: 127.0.0.1, localhost, ::1 and the bound host; bound to 0.0.0.0 or :: without a list, any
     * host. `*` accepts any.
     */
    allowedHosts: list.default([]),
    routesFile: z.string().min(1).default('config/alert-routes.yaml'),
    /**
     * 16 MiB: a whole Alertmanager/Grafana group of 1,000 alerts (max_alerts) of up to ~16 KiB each fits.
     * A body over it is a 413, which senders do not retry: keep it above what they can send.
     */
    bodyLimitBytes: int(1024, 64 * 1024 * 1024).default(16 * 1024 * 1024),
    /**
     * Slack's routes: an interaction carries the clicked message (form-encoded JSON, a few KiB for the engine's
     * messages); 256 KiB leaves room for the largest Block Kit message. Smaller than the alerts' limit because
     * these bytes are read before anyone is known: the signature is over the whole body.
     */
    slackBodyLimitBytes: int(1024, 16 * 1024 * 1024).default(256 * 1024),
    /** PagerDuty's webhook route: a v3 event is a few KiB. */
    pagerDutyBodyLimitBytes: int(1024, 16 * 1024 * 1024).default(64 * 1024),
    /**
     * Time to receive a whole request, headers and body (Node's requestTimeout): a sender that trickles its
     * body is answered 408 and disconnected past it. 30 s is far above what a 16 MiB body takes on any link an
     * alert sender uses; the handler's own time (Temporal calls) is not counted.
     */
    requestTimeoutMs: int(1000, 600_000).default(30_000),
    /** Time to receive the request's headers (Node's headersTimeout); at most requestTimeoutMs. */
    headersTimeoutMs: int(1000, 600_000).default(10_000),
    /**
     * A connection with no traffic either way for this long is closed (Fastify's connectionTimeout); above
     * the longest answer (a 1,000-alert notification, INGRESS_TEMPORAL_TIMEOUT_MS per call).
     */
    idleTimeoutMs: int(1000, 3_600_000).default(120_000),
    /** Alerts signalled (Temporal calls) per request; past it the rest are folded into their incidents. */
    maxAlertsPerRequest: int(1, 10_000).default(1000),
    /**
     * Per client address, on the /v1 routes (@fastify/rate-limit): at most `rateLimitBurst` requests per
     * window of burst/perSecond seconds (default 500 per 10 s), shared by the replicas through Redis.
     */
    rateLimitPerSecond: int(1, 1_000_000).default(50),
    rateLimitBurst: int(1, 1_000_000).default(500),
    /**
     * What the replicas share: signatures already used (the replay cache) and the rate
     * limits. Absent: this process's memory (one ingress). redis:// or rediss://, user:password allowed.
     */
    redisUrl: z.url({ protocol: /^rediss?$/ }).optional(),
    /** Slack app signing secrets (POST /v1/slack/interactions and /v1/slack/commands); several during a rotation. */
    slackSigningSecrets: list.default([]),
    /** The Slack app's bot token: the resolve dialog (views.open). The same SLACK_BOT_TOKEN as the worker's. */
    slackBotToken: z.string().min(1).optional(),
    slackApiBaseUrl: z.url().default('https://slack.com/api'),
    /**
     * Where a Slack `response_url` may point: host names (https on the default port only) or whole origins
     * (`http://127.0.0.1:3000`, for a fake Slack in tests). The ingress POSTs replies there, so any other
     * address would let a forged or altered payload make it call into the network it runs in.
     */
    slackResponseUrlHosts: list.default(['hooks.slack.com']),
    /** PagerDuty v3 webhook signing secrets (POST /v1/pagerduty/webhooks); several during a rotation. */
    pagerDutyWebhookSecrets: list.default([]),
    /** Prefix of the ingress's Redis keys (several deployments on one Redis). */
    redisKeyPrefix: z.string().min(1).max(100).default('incident-ingress:'),
    taskQueue: z.string().min(1).default(TASK_QUEUE),
    timeScale: z.coerce.number().positive().max(1_000_000).default(1),
    /** Deadline of one Temporal call; past it the webhook gets 503 + Retry-After. */
    temporalTimeoutMs: int(100, 120_000).default(5000),
    retryAfterSeconds: int(1, 3600).default(30),
    /** Incidents signalled in parallel for one request (alerts of one incident stay in order). */
    signalConcurrency: int(1, 256).default(16),
    uiBaseUrl: z
      .url()
      .default('http://127.0.0.1:8233')
      .transform((s) => s.replace(/\/+$/, '')),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .superRefine((cfg, ctx) => {
    const problem = authProblem(cfg);
    if (problem) ctx.addIssue({ code: 'custom', path: ['insecure'], message: problem });
  });

export type IngressConfig = z.output<typeof ingressConfigSchema>;
export type IngressConfigInput = z.input<typeof ingressConfigSchema>;

/** Environment variable -> config key. */
export const INGRESS_ENV = {
  INGRESS_HOST: 'host',
  INGRESS_PORT: 'port',
  INGRESS_BEARER_TOKENS: 'bearerTokens',
  INGRESS_HMAC_SECRETS: 'hmacSecrets',
  INGRESS_METRICS_AUTH: 'metricsAuth',
  INGRESS_METRICS_TOKENS: 'metricsTokens',
  INGRESS_GRAFANA_SIGNATURE_HEADER: 'grafanaSignatureHeader',
  INGRESS_GRAFANA_TIMESTAMP_HEADER: 'grafanaTimestampHeader',
  INGRESS_REPLAY_WINDOW_SECONDS: 'replayWindowSeconds',
  INGRESS_INSECURE: 'insecure',
  INGRESS_ALLOWED_HOSTS: 'allowedHosts',
  INGRESS_ROUTES_FILE: 'routesFile',
  INGRESS_BODY_LIMIT_BYTES: 'bodyLimitBytes',
  INGRESS_SLACK_BODY_LIMIT_BYTES: 'slackBodyLimitBytes',
  INGRESS_PAGERDUTY_BODY_LIMIT_BYTES: 'pagerDutyBodyLimitBytes',
  INGRESS_MAX_ALERTS_PER_REQUEST: 'maxAlertsPerRequest',
  INGRESS_REQUEST_TIMEOUT_MS: 'requestTimeoutMs',
  INGRESS_HEADERS_TIMEOUT_MS: 'headersTimeoutMs',
  INGRESS_IDLE_TIMEOUT_MS: 'idleTimeoutMs',
  INGRESS_RATE_LIMIT_PER_SECOND: 'rateLimitPerSecond',
  INGRESS_RATE_LIMIT_BURST: 'rateLimitBurst',
  INGRESS_REDIS_URL: 'redisUrl',
  PAGERDUTY_WEBHOOK_SECRET: 'pagerDutyWebhookSecrets',
  SLACK_SIGNING_SECRET: 'slackSigningSecrets',
  SLACK_BOT_TOKEN: 'slackBotToken',
  SLACK_API_BASE_URL: 'slackApiBaseUrl',
  SLACK_RESPONSE_URL_HOSTS: 'slackResponseUrlHosts',
  INGRESS_REDIS_KEY_PREFIX: 'redisKeyPrefix',
  INGRESS_TASK_QUEUE: 'taskQueue',
  INGRESS_TIME_SCALE: 'timeScale',
  INGRESS_TEMPORAL_TIMEOUT_MS: 'temporalTimeoutMs',
  INGRESS_RETRY_AFTER_SECONDS: 'retryAfterSeconds',
  INGRESS_SIGNAL_CONCURRENCY: 'signalConcurrency',
  TEMPORAL_UI_URL: 'uiBaseUrl',
  INGRESS_LOG_LEVEL: 'logLevel',
} as const satisfies Record<string, keyof IngressConfigInput>;

// A Redis URL may carry a password.
const SECRET_KEYS: ReadonlySet<string> = new Set([
  'bearerTokens',
  'hmacSecrets',
  'metricsTokens',
  'redisUrl',
  'pagerDutyWebhookSecrets',
  'slackSigningSecrets',
  'slackBotToken',
]);

export class IngressConfigError extends Error {
  override name = 'IngressConfigError';
}

/**
 * Reads the INGRESS_* variables (and TEMPORAL_UI_URL) and validates them; `overrides` (already typed, e.g.
 * from tests or `npm start`) win over the environment. Throws IngressConfigError naming each bad variable,
 * never echoing a secret.
 */
export function loadIngressConfig(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<IngressConfigInput> = {},
): IngressConfig {
  const raw: Record<string, unknown> = {};
  const envName: Record<string, string> = {};
  for (const [name, key] of Object.entries(INGRESS_ENV)) {
    envName[key] = name;
    const value = env[name];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const parsed = ingressConfigSchema.safeParse({ ...raw, ...overrides });
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const where = key in overrides ? key : (envName[key] ?? key);
      const value = raw[key] ?? (overrides as Record<string, unknown>)[key];
      const shown = SECRET_KEYS.has(key) || value === undefined ? '' : ` (got ${JSON.stringify(value)})`;
      return `  ${where}: ${issue.message}${shown}`;
    });
    throw new IngressConfigError(`invalid ingress configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}

export function resolveRoutesFile(cfg: Pick<IngressConfig, 'routesFile'>, cwd = process.cwd()): string {
  return path.resolve(cwd, cfg.routesFile);
}

export function authConfigured(cfg: Pick<IngressConfig, 'bearerTokens' | 'hmacSecrets'>): boolean {
  return cfg.bearerTokens.length > 0 || cfg.hmacSecrets.length > 0;
}

/**
 * The tokens GET /metrics accepts: [] when it is open (INGRESS_METRICS_AUTH=none, or an insecure ingress with
 * no token at all); null when it needs a token and none is configured (it answers 401 saying so).
 */
export function metricsTokens(
  cfg: Pick<IngressConfig, 'metricsAuth' | 'metricsTokens' | 'bearerTokens' | 'hmacSecrets'>,
): string[] | null {
  if (cfg.metricsAuth === 'none') return [];
  if (cfg.metricsTokens.length > 0) return cfg.metricsTokens;
  if (cfg.bearerTokens.length > 0) return cfg.bearerTokens;
  return authConfigured(cfg) ? null : [];
}

export function isLoopback(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  return (
    h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1'
  );
}

/**
 * Every inbound route requires authentication: a bearer token or an HMAC secret, unless
 * INGRESS_INSECURE says otherwise.
 */
export function authProblem(
  cfg: Pick<IngressConfig, 'bearerTokens' | 'hmacSecrets' | 'insecure'>,
): string | null {
  if (authConfigured(cfg) || cfg.insecure) return null;
  return 'no authentication configured: set INGRESS_BEARER_TOKENS (Alertmanager http_config.authorization) or INGRESS_HMAC_SECRETS (Grafana), or INGRESS_INSECURE=1 to accept unauthenticated requests (local experiments only)';
}

/** Host names (lower case, no port) the Host header may carry, or null for any. */
export function allowedHostNames(cfg: Pick<IngressConfig, 'host' | 'allowedHosts'>): Set<string> | null {
  const bare = (h: string) =>
    h
      .trim()
      .toLowerCase()
      .replace(/^\[|\]$/g, '');
  if (cfg.allowedHosts.includes('*')) return null;
  if (cfg.allowedHosts.length > 0) return new Set(cfg.allowedHosts.map(bare));
  const host = bare(cfg.host);
  if (host === '0.0.0.0' || host === '::') return null;
  return new Set(['127.0.0.1', 'localhost', '::1', host]);
}
