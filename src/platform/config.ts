// Deployment profiles of the monitored trading platform (../shared/trading-platform.md): every base URL,
// path, table and column the 3.1-3.4 checks use comes from here. `playbook` is the playbook's contract
// (the default); `deployed` is the real deployment (backtest-api, usdcop_m5_ohlcv, pnl_usd, ...).
import { z } from 'zod';

export const PLATFORM_PROFILES = ['playbook', 'deployed'] as const;
export type PlatformProfileName = (typeof PLATFORM_PROFILES)[number];

/** A SQL identifier we interpolate (quoted) into queries: restricted so config can never inject SQL. */
const identifier = z
  .string()
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]{0,62}(\.[A-Za-z_][A-Za-z0-9_]{0,62})?$/,
    'must be a plain SQL identifier (optionally schema.table)',
  );
const column = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a plain SQL column name');
/** A path relative to the service's base URL; `{model_id}` is substituted (URL-encoded). null = not served. */
const apiPath = z
  .string()
  .regex(/^\/[A-Za-z0-9_\-./{}]*$/, 'must start with / and contain only path characters')
  .nullable();
const commandName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9:_-]{0,80}$/, 'command names are lower-case words joined by - : _');
/** An argument vector run without a shell: never a string built from input. */
const argv = z.array(z.string().min(1).max(1000)).min(1).max(64);

export const authSchema = z
  .object({
    /** X-API-Key header or Authorization: Bearer (trading-platform.md: the designed scheme, both optional). */
    scheme: z.enum(['x-api-key', 'bearer']),
    /** Name of the environment variable holding the key/token (preferred: keeps it out of the file). */
    secretEnv: z.string().min(1).optional(),
    /** The key/token itself (tests); never logged. */
    secret: z.string().min(1).optional(),
  })
  .strict()
  .refine((a) => a.secret !== undefined || a.secretEnv !== undefined, 'auth needs secret or secretEnv');
export type AuthConfig = z.infer<typeof authSchema>;

/** The name of an environment variable that holds a secret; the config file never holds the secret. */
const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'must be the name of an environment variable');

/** True when a connection URL carries a password of its own. */
function urlHasPassword(url: string): boolean {
  try {
    return new URL(url).password !== '';
  } catch {
    return false;
  }
}
const onePasswordSource = (r: { url: string; passwordEnv?: string | undefined }) =>
  !(r.passwordEnv !== undefined && urlHasPassword(r.url));
const onePasswordSourceMessage = {
  message:
    'the url carries a password and passwordEnv names another: keep one (passwordEnv keeps it out of the file)',
  path: ['passwordEnv'],
};

const serviceSchema = z
  .object({ baseUrl: z.url({ protocol: /^https?$/ }), auth: authSchema.optional() })
  .strict();

export const platformConfigSchema = z
  .object({
    profile: z.string().min(1),
    services: z.object({ trading: serviceSchema, inference: serviceSchema }).strict(),
    /** Which service serves /operations/* (kill switch, resume, pause, status). */
    operationsService: z.enum(['trading', 'inference']),
    paths: z
      .object({
        tradingHealth: apiPath,
        inferenceHealth: apiPath,
        operationsStatus: apiPath,
        killSwitch: apiPath,
        resume: apiPath,
        pause: apiPath,
        models: apiPath,
        routerStatus: apiPath,
        routerHistory: apiPath,
        routerDrift: apiPath,
        /** Nearest drift endpoint when routerDrift is missing (deployed: /api/v1/monitoring/drift). */
        monitoringDrift: apiPath,
        modelMetrics: apiPath,
        consistency: apiPath,
        dataStatus: apiPath,
        dataSources: apiPath,
        shadowComparison: apiPath,
        rollbackTargets: apiPath,
        rollback: apiPath,
        reload: apiPath,
      })
      .strict(),
    /** The model the playbook checks (`ppo_primary`). */
    championModelId: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/),
    http: z
      .object({
        connectTimeoutMs: z.number().int().positive().max(60_000),
        headersTimeoutMs: z.number().int().positive().max(120_000),
        bodyTimeoutMs: z.number().int().positive().max(120_000),
        maxBodyBytes: z.number().int().positive().max(50_000_000),
      })
      .strict(),
    database: z
      .object({
        /** Trading database (read checks; pg_terminate_backend only behind approval). */
        url: z.string().min(1),
        /**
         * Environment variable holding the database password (the real deployment's POSTGRES_PASSWORD),
         * added to the URL at connect time; the URL in the file then names no password.
         */
        passwordEnv: envVarName.optional(),
        /** Database name filter for pg_stat_activity; default: the URL's database. */
        name: z.string().min(1).optional(),
        connectTimeoutMs: z.number().int().positive(),
        statementTimeoutMs: z.number().int().positive(),
        /** 3.4 "queries running over 1 minute" (real database time, not scaled). */
        longQueryMinutes: z.number().positive(),
        /** The application's connection limit; default: the server's max_connections. */
        maxConnections: z.number().int().positive().optional(),
        poolExhaustedRatio: z.number().gt(0).max(1),
        overloadActiveBackends: z.number().int().positive(),
        overloadPingMs: z.number().positive(),
      })
      .strict()
      .refine(onePasswordSource, onePasswordSourceMessage),
    tables: z
      .object({
        ohlcv: z
          .object({
            table: identifier,
            timeColumn: column,
            symbolColumn: column.nullable(),
            symbol: z.string().min(1).max(40),
          })
          .strict(),
        trades: z
          .object({
            table: identifier,
            idColumn: column,
            sideColumn: column,
            pnlColumn: column,
            createdAtColumn: column,
            modelIdColumn: column.nullable(),
          })
          .strict(),
      })
      .strict(),
    redis: z
      .object({
        url: z.string().min(1),
        /** Environment variable holding the password (the real Redis runs with --requirepass $REDIS_PASSWORD). */
        passwordEnv: envVarName.optional(),
        connectTimeoutMs: z.number().int().positive(),
      })
      .strict()
      .refine(onePasswordSource, onePasswordSourceMessage),
    containers: z
      .object({
        /** The two APIs (3.1 restart, 3.4 "restart application containers"). */
        apis: z.object({ trading: z.string().min(1), inference: z.string().min(1) }).strict(),
        database: z.string().min(1),
        redis: z.string().min(1),
        airflowScheduler: z.string().min(1),
      })
      .strict(),
    /**
     * Allow-list of commands, by name: `container-status`, `inspect:<container>`, `logs:<container>`,
     * `restart:<container>`. Run with spawn(argv[0], argv.slice(1)) and no shell. A name that is not
     * here is reported as "not configured", never run.
     */
    commands: z.record(commandName, argv),
    commandTimeoutMs: z.number().int().positive().max(600_000),
    airflow: z
      .object({
        baseUrl: z.url({ protocol: /^https?$/ }),
        dagId: z.string().min(1),
        username: z.string().optional(),
        passwordEnv: z.string().optional(),
        password: z.string().optional(),
      })
      .strict()
      .optional(),
    /** 3.3 step 2 "Check TwelveData status" (statuspage JSON). Optional: external network. */
    dataProvider: z
      .object({ name: z.string().min(1), statusUrl: z.url({ protocol: /^https?$/ }) })
      .strict()
      .optional(),
  })
  .strict();
export type PlatformConfig = z.infer<typeof platformConfigSchema>;
export type PlatformPaths = PlatformConfig['paths'];

const dockerCommands = (containers: string[]): Record<string, string[]> => {
  const out: Record<string, string[]> = {
    // 3.1 step 4: `docker ps -a | grep -E "(trading|inference|postgres|redis)"`, as JSON lines.
    'container-status': ['docker', 'ps', '-a', '--format', '{{json .}}'],
  };
  for (const c of containers) {
    out[`inspect:${c}`] = ['docker', 'inspect', c];
    out[`logs:${c}`] = ['docker', 'logs', c, '--tail', '200'];
  }
  return out;
};

function playbookProfile(): PlatformConfig {
  const containers = {
    apis: { trading: 'trading-api', inference: 'inference-api' },
    database: 'postgres',
    redis: 'redis',
    airflowScheduler: 'airflow-scheduler',
  };
  return {
    profile: 'playbook',
    services: {
      trading: { baseUrl: 'http://trading-api:8000' },
      inference: { baseUrl: 'http://inference-api:8000' },
    },
    operationsService: 'trading',
    paths: {
      tradingHealth: '/api/v1/health',
      inferenceHealth: '/api/v1/health',
      operationsStatus: '/api/v1/operations/status',
      killSwitch: '/api/v1/operations/kill-switch',
      resume: '/api/v1/operations/resume',
      pause: '/api/v1/operations/pause',
      models: '/api/v1/models',
      routerStatus: '/api/v1/models/router/status',
      routerHistory: '/api/v1/models/router/history',
      routerDrift: '/api/v1/models/router/drift',
      monitoringDrift: '/api/v1/monitoring/drift',
      modelMetrics: '/api/v1/models/{model_id}/metrics',
      consistency: '/api/v1/health/consistency/{model_id}',
      dataStatus: '/api/v1/data/status',
      dataSources: '/api/v1/data/sources',
      shadowComparison: '/api/v1/models/shadow/comparison',
      rollbackTargets: '/api/v1/models/rollback-targets',
      rollback: '/api/v1/models/rollback',
      reload: '/api/v1/models/reload',
    },
    championModelId: 'ppo_primary',
    http: { connectTimeoutMs: 2_000, headersTimeoutMs: 5_000, bodyTimeoutMs: 5_000, maxBodyBytes: 1_000_000 },
    database: {
      url: 'postgres://trading_user@postgres:5432/trading_db',
      connectTimeoutMs: 3_000,
      statementTimeoutMs: 5_000,
      longQueryMinutes: 1,
      poolExhaustedRatio: 0.9,
      overloadActiveBackends: 50,
      overloadPingMs: 2_000,
    },
    tables: {
      ohlcv: { table: 'ohlcv_usdcop_5m', timeColumn: 'timestamp', symbolColumn: null, symbol: 'USD/COP' },
      trades: {
        table: 'trades_history',
        idColumn: 'trade_id',
        sideColumn: 'signal',
        pnlColumn: 'pnl',
        createdAtColumn: 'created_at',
        modelIdColumn: null,
      },
    },
    redis: { url: 'redis://redis:6379', connectTimeoutMs: 1_000 },
    containers,
    commands: {
      ...dockerCommands(['trading-api', 'inference-api', 'postgres', 'redis', 'airflow-scheduler']),
      // 5.1: `docker-compose restart trading-api` / `inference-api`.
      'restart:trading-api': ['docker', 'compose', 'restart', 'trading-api'],
      'restart:inference-api': ['docker', 'compose', 'restart', 'inference-api'],
      'restart:postgres': ['docker', 'compose', 'restart', 'postgres'],
    },
    commandTimeoutMs: 60_000,
  };
}

/**
 * The real deployment's container names (docker-compose.yml `container_name`): what `docker ps`, `docker
 * inspect`, `docker logs` and `docker restart` know. Compose's service names (`trading-api`, `postgres`,
 * ...) are network aliases and `docker compose` arguments, not container names.
 */
export const DEPLOYED_CONTAINER_NAMES = {
  tradingApi: 'usdcop-trading-api',
  backtestApi: 'usdcop-backtest-api',
  postgres: 'usdcop-postgres-timescale',
  redis: 'usdcop-redis',
  airflowScheduler: 'usdcop-airflow-scheduler',
} as const;

function deployedProfile(): PlatformConfig {
  const base = playbookProfile();
  return {
    ...base,
    profile: 'deployed',
    // backtest-api serves the operations and model routes (host port 8003; 8000 inside the network).
    services: {
      trading: { baseUrl: 'http://trading-api:8000' },
      inference: { baseUrl: 'http://backtest-api:8000' },
    },
    operationsService: 'inference',
    paths: {
      ...base.paths,
      // The real trading-api serves GET /api/health (always 200; judged by body).
      tradingHealth: '/api/health',
      // Deployed at /api/v1/consistency/{model_id}; the rest stays the playbook's path and meets 404 -> "not available".
      consistency: '/api/v1/consistency/{model_id}',
    },
    database: { ...base.database, url: 'postgres://admin@postgres:5432/usdcop_trading' },
    tables: {
      ohlcv: { table: 'usdcop_m5_ohlcv', timeColumn: 'time', symbolColumn: 'symbol', symbol: 'USD/COP' },
      trades: {
        table: 'trades_history',
        idColumn: 'id',
        sideColumn: 'side',
        pnlColumn: 'pnl_usd',
        createdAtColumn: 'created_at',
        modelIdColumn: 'model_id',
      },
    },
    containers: {
      apis: { trading: DEPLOYED_CONTAINER_NAMES.tradingApi, inference: DEPLOYED_CONTAINER_NAMES.backtestApi },
      database: DEPLOYED_CONTAINER_NAMES.postgres,
      redis: DEPLOYED_CONTAINER_NAMES.redis,
      airflowScheduler: DEPLOYED_CONTAINER_NAMES.airflowScheduler,
    },
    commands: {
      ...dockerCommands(Object.values(DEPLOYED_CONTAINER_NAMES)),
      // `docker restart <container>` works from any directory; `docker compose restart <service>` only
      // from the Compose project's, which the worker is not in.
      ...Object.fromEntries(
        [
          DEPLOYED_CONTAINER_NAMES.tradingApi,
          DEPLOYED_CONTAINER_NAMES.backtestApi,
          DEPLOYED_CONTAINER_NAMES.postgres,
        ].map((c) => [`restart:${c}`, ['docker', 'restart', c]]),
      ),
    },
  };
}

export const PLATFORM_PROFILE_DEFAULTS: Record<PlatformProfileName, () => PlatformConfig> = {
  playbook: playbookProfile,
  deployed: deployedProfile,
};

/** The deployment config section: a built-in profile plus overrides (deep-merged; arrays and `commands` entries replace). */
export const platformSectionSchema = z
  .object({
    profile: z.enum(PLATFORM_PROFILES).default('playbook'),
    overrides: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type PlatformSection = z.input<typeof platformSectionSchema>;

export class PlatformConfigError extends Error {
  override name = 'PlatformConfigError';
  constructor(readonly issues: { path: string; message: string }[]) {
    super(
      `invalid platform config:\n${issues.map((i) => `  - platform.${i.path || '(root)'}: ${i.message}`).join('\n')}`,
    );
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? deepMerge(base[k], v) : v;
  return out;
}

/** Profile defaults + overrides, validated; throws PlatformConfigError naming each bad key. */
export function resolvePlatformConfig(section: PlatformSection = {}): PlatformConfig {
  const parsedSection = platformSectionSchema.safeParse(section);
  if (!parsedSection.success) {
    throw new PlatformConfigError(
      parsedSection.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  const { profile, overrides } = parsedSection.data;
  const merged = deepMerge(PLATFORM_PROFILE_DEFAULTS[profile](), overrides);
  const r = platformConfigSchema.safeParse(merged);
  if (!r.success)
    throw new PlatformConfigError(
      r.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  return r.data;
}

/** A `passwordEnv` whose variable is missing: says which key and which variable, never a value. */
export class PlatformSecretMissing extends PlatformConfigError {
  override name = 'PlatformSecretMissing';
  constructor(
    readonly key: string,
    readonly variable: string,
    problem: string,
  ) {
    super([{ path: key, message: `environment variable ${variable} ${problem}` }]);
    this.message = `platform.${key} names the environment variable ${variable}, which ${problem} in this worker's environment`;
  }
}

/**
 * The secret a `passwordEnv` names, read when a connection is made (so a rotated secret is picked up
 * without a restart, and a process that never connects, like the ingress, needs no database password).
 */
export function secretFromEnv(key: string, name: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = z.string({ error: 'is not set' }).min(1, 'is empty').safeParse(env[name]);
  if (!r.success) throw new PlatformSecretMissing(key, name, r.error.issues[0]?.message ?? 'is not usable');
  return r.data;
}

/** Redis: the configured URL and, when `passwordEnv` is set, the password beside it (never in the URL). */
export function redisConnection(
  cfg: PlatformConfig,
  env: NodeJS.ProcessEnv = process.env,
): { url: string; password: string | undefined } {
  const { url, passwordEnv } = cfg.redis;
  return { url, password: passwordEnv ? secretFromEnv('redis.passwordEnv', passwordEnv, env) : undefined };
}

/**
 * The trading database's connection string, with the `passwordEnv` password in it. In the URL, because pg
 * lets a connection string override a separate `password` option (an empty one included). The result
 * holds the secret: pass it to pg, never log it (`databaseName` and the findings use `cfg.database.url`).
 */
export function databaseConnectionString(cfg: PlatformConfig, env: NodeJS.ProcessEnv = process.env): string {
  const { url, passwordEnv } = cfg.database;
  if (!passwordEnv) return url;
  const password = secretFromEnv('database.passwordEnv', passwordEnv, env);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PlatformConfigError([
      { path: 'database.url', message: 'must be a URL (postgres://user@host:port/db) to take passwordEnv' },
    ]);
  }
  // pg decodes the password with decodeURIComponent; the URL setter leaves `%` alone, so encode first.
  u.password = encodeURIComponent(password);
  if (u.password === '')
    throw new PlatformConfigError([
      { path: 'database.url', message: 'names no host, so it cannot carry the password from passwordEnv' },
    ]);
  return u.toString();
}

/** `{model_id}` substituted, URL-encoded. */
export function fillPath(template: string, params: Record<string, string> = {}): string {
  return template.replace(/\{([a-z_]+)\}/g, (_m, key: string) => encodeURIComponent(params[key] ?? ''));
}

/** The database name pg_stat_activity is filtered on. */
export function databaseName(cfg: PlatformConfig): string {
  if (cfg.database.name) return cfg.database.name;
  try {
    return decodeURIComponent(new URL(cfg.database.url).pathname.replace(/^\//, '')) || 'postgres';
  } catch {
    return 'postgres';
  }
}
