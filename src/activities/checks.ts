// Activities of the playbook procedures 3.1-3.4: the "Immediate actions" and "Diagnosis" checks, and the
// mutating remediations the approval gate lets through. Side effects only; every decision is taken by
// src/playbook/procedures.ts in the workflow.
//
// Findings, not crashes: a check answers a finding (ok | failed | unavailable | unknown) for anything the
// platform does (down, 5xx, 404, a body that says unhealthy or carries `error`); it throws only for our
// own mistakes (a 4xx other than 404 -> non-retryable ApplicationFailure: fix the config, not retry).
//
// Mutating calls run at most once per decision even when Temporal retries the activity (worker died after
// the call, before reporting it). How each one is guarded:
// - activateKillSwitch: reads /operations/status first; an active kill switch is never activated again.
// - resumeTrading:      reads /operations/status first; only a killed platform is resumed (resume on a
//                       platform that is not killed is a no-op there anyway: "Trading already active").
// - pauseTrading:       reads /operations/status first; paused or killed is left alone.
// - rollbackModel:      the workflow passes the champion it saw before asking approval; the activity reads
//                       /models/router/status and rolls back only while that champion is still in place
//                       (a second rollback would go two versions back). Status unreadable -> no rollback.
// - reloadModels:       idempotent on the platform (reloads the same artifacts); verified by the caller.
// - restartContainer:   `inspect:<container>` (when allow-listed) gives State.StartedAt; a container
//                       started after the approval (`notStartedAfter`) was already restarted: skipped.
// - terminateBackend:   pg_terminate_backend only for the same pid AND the same query_start
//                       (microseconds) that the approval listed: a retry finds it gone, a recycled pid
//                       running another query is never hit.
import { Context, heartbeat } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import Redis from 'ioredis';
import { spawn } from 'node:child_process';
import { Client as PgClient, escapeIdentifier } from 'pg';
import { Agent, request, type Dispatcher } from 'undici';
import { z } from 'zod';
import {
  DISK_FULL_PATTERN,
  LOG_ERROR_PATTERN,
  OUT_OF_MEMORY_PATTERN,
  consecutiveLosses,
  type ContainerFacts,
  type ContainerState,
  type LongQuery,
  type ReachError,
} from '../playbook/procedures';
import { databaseName, fillPath, type PlatformConfig, type PlatformPaths } from '../platform/config';

export type FindingOutcome = 'ok' | 'failed' | 'unavailable' | 'unknown';

/** What a check found; `data` carries the facts the decision tables read. */
export interface CheckFinding<D> {
  check: string;
  outcome: FindingOutcome;
  text: string;
  data: D;
}

export interface ProcedureActivityDeps {
  platform: PlatformConfig;
  /** undici dispatcher (tests point it anywhere); default an Agent with the config's timeouts. */
  dispatcher?: Dispatcher;
}

type Service = 'trading' | 'inference';
type PathKey = keyof PlatformPaths;

// ---------- response schemas (trading-platform.md); loose: extra fields are fine, missing ones are not ----------

const nullableString = z.string().nullable().optional();
const healthBody = z.looseObject({
  status: z.string(),
  model_loaded: z.boolean().optional(),
  database_connected: z.boolean().optional(),
  /** The real trading-api's GET /api/health says `database: connected|disconnected`. */
  database: z.string().optional(),
  version: z.string().optional(),
});
const operationsBody = z.looseObject({
  mode: z.enum(['normal', 'paused', 'killed']),
  kill_switch_active: z.boolean(),
  activated_at: nullableString,
  activated_by: nullableString,
  reason: nullableString,
});
const modelsBody = z.looseObject({
  models: z.array(
    z.looseObject({
      model_id: z.string(),
      status: z.string(),
      version: z.string().optional(),
      description: z.string().optional(),
    }),
  ),
  default_model: z.string().optional(),
});
const routerStatusBody = z.looseObject({
  enabled: z.boolean(),
  ready: z.boolean().optional(),
  champion: z.string().nullable().optional(),
  shadow: z.string().nullable().optional(),
  shadow_enabled: z.boolean().optional(),
  statistics: z
    .looseObject({
      total_predictions: z.number().optional(),
      agreement_rate: z.number().nullable().optional(),
    })
    .optional(),
  message: z.string().optional(),
});
const routerHistoryBody = z.looseObject({
  predictions: z.array(z.looseObject({ agreed: z.boolean().optional() })),
});
const driftBody = z.looseObject({
  overall_drift_score: z.number().optional(),
  psi: z.number().optional(),
  drift_detected: z.boolean().optional(),
  alert_active: z.boolean().optional(),
  features_drifted: z.number().optional(),
  _demo: z.boolean().optional(),
});
const metricsBody = z.looseObject({
  model_id: z.string().optional(),
  metrics: z.looseObject({
    sharpe_ratio: z.number().nullable(),
    win_rate: z.number().nullable().optional(),
    consecutive_losses: z.number().optional(),
    error_rate: z.number().optional(),
    total_trades: z.number().optional(),
  }),
});
const consistencyBody = z.looseObject({
  model_id: z.string().optional(),
  overall_status: z.enum(['passed', 'failed', 'warning', 'error']),
  passed: z.boolean().optional(),
  failed_checks: z.array(z.string()).optional(),
});
const dataStatusBody = z.looseObject({
  status: z.string(),
  is_stale: z.boolean().optional(),
  staleness_seconds: z.number().nullable().optional(),
  last_update: nullableString,
});
const dataSourcesBody = z.looseObject({
  sources: z.array(z.looseObject({ name: z.string(), role: z.string().optional(), status: z.string() })),
  fallback_available: z.boolean().optional(),
});
const shadowBody = z.looseObject({
  champion: z.looseObject({ sharpe_ratio: z.number().nullable().optional(), label: z.string().optional() }),
  shadow: z.looseObject({ sharpe_ratio: z.number().nullable().optional(), label: z.string().optional() }),
  agreement_rate: z.number().optional(),
  recommendation: z.string().optional(),
});
const rollbackTargetsBody = z.looseObject({
  available_targets: z.array(
    z.looseObject({ model_id: z.string(), version: z.union([z.string(), z.number()]) }),
  ),
});
const killSwitchBody = z.looseObject({
  success: z.boolean(),
  mode: z.string().optional(),
  activated_at: nullableString,
  message: z.string().optional(),
  positions_closed: z.number().optional(),
});
const simpleOkBody = z.looseObject({
  success: z.boolean(),
  mode: z.string().optional(),
  message: z.string().optional(),
});
const rollbackBody = z.looseObject({
  success: z.boolean(),
  previous_model: z.string(),
  new_model: z.string(),
  message: z.string().optional(),
});
const reloadBody = z.looseObject({
  success: z.boolean(),
  reloaded_models: z.array(z.string()).optional(),
  failed_models: z.array(z.unknown()).optional(),
  message: z.string().optional(),
});
const airflowRunsBody = z.looseObject({
  dag_runs: z.array(
    z.looseObject({
      dag_run_id: z.string(),
      state: z.string(),
      start_date: nullableString,
      end_date: nullableString,
    }),
  ),
  total_entries: z.number().optional(),
});
const statusPageBody = z.looseObject({
  status: z.looseObject({ indicator: z.string(), description: z.string().optional() }),
});

// ---------- HTTP ----------

type HttpOutcome<T> =
  | { kind: 'ok'; status: number; body: T }
  | { kind: 'not-configured' }
  | { kind: 'not-found'; status: number; message: string }
  | { kind: 'unreachable'; reach: ReachError; message: string }
  | { kind: 'http-error'; status: number; message: string }
  | { kind: 'error-body'; status: number; message: string }
  | { kind: 'invalid'; status: number; message: string };

function errorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown }; errors?: { code?: unknown }[] };
  const code = e?.code ?? e?.cause?.code ?? e?.errors?.[0]?.code;
  return typeof code === 'string' ? code : undefined;
}

export function classifyReachError(err: unknown): ReachError {
  switch (errorCode(err)) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
    case 'ABORT_ERR':
      return 'timeout';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unresolved';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    default:
      return (err as Error)?.name === 'TimeoutError' ? 'timeout' : 'other';
  }
}

function messageOf(err: unknown): string {
  const code = errorCode(err);
  const msg = err instanceof Error ? err.message || err.name : String(err);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

/** Text of an error envelope `{error, message}` or a short raw body. */
function envelopeMessage(body: unknown, raw: string): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const parts = [b.error, b.message, b.detail].filter((x) => typeof x === 'string') as string[];
    if (parts.length) return parts.join(': ');
  }
  return raw.slice(0, 300);
}

function currentActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}

/** Heartbeats while a remediation runs, so a worker that dies is noticed within the heartbeat timeout. */
async function withHeartbeat<T>(fn: () => Promise<T>): Promise<T> {
  if (!currentActivity()) return fn();
  heartbeat();
  const timer = setInterval(() => heartbeat(), 1_000);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
  }
}

function logInfo(message: string, attrs: Record<string, unknown>): void {
  currentActivity()?.log.info(message, attrs);
}

export function createProcedureActivities(deps: ProcedureActivityDeps) {
  const cfg = deps.platform;
  const dispatcher =
    deps.dispatcher ??
    new Agent({
      connect: { timeout: cfg.http.connectTimeoutMs },
      headersTimeout: cfg.http.headersTimeoutMs,
      bodyTimeout: cfg.http.bodyTimeoutMs,
      keepAliveTimeout: 4_000,
    });

  function authHeaders(service: Service): Record<string, string> {
    const auth = cfg.services[service].auth;
    if (!auth) return {};
    const secret = auth.secret ?? (auth.secretEnv ? process.env[auth.secretEnv] : undefined);
    if (!secret)
      throw ApplicationFailure.nonRetryable(
        `platform auth for ${service} has no secret (set ${auth.secretEnv ?? 'secret'})`,
        'PlatformConfig',
      );
    return auth.scheme === 'bearer' ? { authorization: `Bearer ${secret}` } : { 'x-api-key': secret };
  }

  async function readCapped(body: Dispatcher.ResponseData['body']): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body) {
      size += (chunk as Buffer).length;
      if (size > cfg.http.maxBodyBytes) {
        body.destroy();
        throw new Error(`response body over ${cfg.http.maxBodyBytes} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  async function httpJson<S extends z.ZodType>(
    url: string,
    schema: S,
    opts: { method?: 'GET' | 'POST'; body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<HttpOutcome<z.infer<S>>> {
    let status: number;
    let raw: string;
    try {
      const res = await request(url, {
        method: opts.method ?? 'GET',
        dispatcher,
        headers: {
          accept: 'application/json',
          ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...opts.headers,
        },
        body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
        headersTimeout: cfg.http.headersTimeoutMs,
        bodyTimeout: cfg.http.bodyTimeoutMs,
        signal: AbortSignal.timeout(
          cfg.http.connectTimeoutMs + cfg.http.headersTimeoutMs + cfg.http.bodyTimeoutMs,
        ),
      });
      status = res.statusCode;
      raw = await readCapped(res.body);
    } catch (err) {
      return { kind: 'unreachable', reach: classifyReachError(err), message: messageOf(err) };
    }
    let parsed: unknown = undefined;
    try {
      parsed = raw ? JSON.parse(raw) : undefined;
    } catch {
      parsed = undefined;
    }
    if (status === 404) return { kind: 'not-found', status, message: envelopeMessage(parsed, raw) };
    if (status < 200 || status >= 300)
      return { kind: 'http-error', status, message: envelopeMessage(parsed, raw) };
    if (
      parsed &&
      typeof parsed === 'object' &&
      !Array.isArray(parsed) &&
      (parsed as Record<string, unknown>).error != null
    ) {
      // trading-platform.md: the deployed /models/rollback-targets answers 200 {error: "Unknown model: ..."}.
      return { kind: 'error-body', status, message: envelopeMessage(parsed, raw) };
    }
    const r = schema.safeParse(parsed);
    if (!r.success) {
      const issues = r.error.issues
        .slice(0, 3)
        .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
        .join('; ');
      return { kind: 'invalid', status, message: `unexpected response body (${issues})` };
    }
    return { kind: 'ok', status, body: r.data };
  }

  function apiUrl(
    service: Service,
    key: PathKey,
    params: Record<string, string> = {},
    query?: Record<string, string>,
  ): string | null {
    const template = cfg.paths[key];
    if (template === null) return null;
    const url = new URL(cfg.services[service].baseUrl.replace(/\/+$/, '') + fillPath(template, params));
    if (query) for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    return url.toString();
  }

  async function api<S extends z.ZodType>(
    service: Service,
    key: PathKey,
    schema: S,
    opts: {
      method?: 'GET' | 'POST';
      body?: unknown;
      params?: Record<string, string>;
      query?: Record<string, string>;
    } = {},
  ): Promise<HttpOutcome<z.infer<S>>> {
    const url = apiUrl(service, key, opts.params, opts.query);
    if (url === null) return { kind: 'not-configured' };
    const out = await httpJson(url, schema, {
      method: opts.method,
      body: opts.body,
      headers: authHeaders(service),
    });
    // Our request is wrong (auth, validation): a config problem, retrying will not help.
    if (out.kind === 'http-error' && out.status >= 400 && out.status < 500) {
      throw ApplicationFailure.nonRetryable(
        `${opts.method ?? 'GET'} ${cfg.paths[key]} on ${service}: HTTP ${out.status}: ${out.message}`,
        'PlatformBadRequest',
        { status: out.status },
      );
    }
    return out;
  }

  const label = (service: Service, key: PathKey) =>
    `${service === 'trading' ? 'trading-api' : cfg.containers.apis.inference} ${cfg.paths[key] ?? key}`;

  /** The finding for anything but a 200 with a valid body. */
  function notOk<D>(
    check: string,
    what: string,
    out: Exclude<HttpOutcome<unknown>, { kind: 'ok' }>,
    data: D,
  ): CheckFinding<D> {
    switch (out.kind) {
      case 'not-configured':
        return {
          check,
          outcome: 'unavailable',
          text: `${what}: not available on this deployment (no path configured)`,
          data,
        };
      case 'not-found':
        return {
          check,
          outcome: 'unavailable',
          text: `${what}: not available on this deployment (HTTP 404)`,
          data,
        };
      case 'unreachable':
        return {
          check,
          outcome: 'failed',
          text: `${what}: unreachable (${out.reach}: ${out.message})`,
          data,
        };
      case 'http-error':
        return { check, outcome: 'failed', text: `${what}: HTTP ${out.status}: ${out.message}`, data };
      case 'error-body':
        return {
          check,
          outcome: 'failed',
          text: `${what}: HTTP ${out.status} with an error body: ${out.message}`,
          data,
        };
      case 'invalid':
        return { check, outcome: 'unknown', text: `${what}: ${out.message}`, data };
    }
  }

  /** The mutating calls: anything but a 2xx with a valid body is an ApplicationFailure. */
  function mustBeOk<T>(what: string, out: HttpOutcome<T>): T {
    switch (out.kind) {
      case 'ok':
        return out.body;
      case 'not-configured':
        throw ApplicationFailure.nonRetryable(
          `${what}: no path configured on this deployment`,
          'PlatformNotConfigured',
        );
      case 'not-found':
        throw ApplicationFailure.nonRetryable(`${what}: HTTP 404: ${out.message}`, 'PlatformNotFound');
      case 'error-body':
        throw ApplicationFailure.nonRetryable(`${what}: error body: ${out.message}`, 'PlatformError');
      case 'unreachable':
        throw ApplicationFailure.retryable(
          `${what}: unreachable (${out.reach}: ${out.message})`,
          'PlatformUnavailable',
        );
      case 'http-error':
        throw ApplicationFailure.retryable(
          `${what}: HTTP ${out.status}: ${out.message}`,
          'PlatformUnavailable',
        );
      case 'invalid':
        throw ApplicationFailure.retryable(`${what}: ${out.message}`, 'PlatformInvalidResponse');
    }
  }

  // ---------- SQL ----------

  async function withDb<T>(fn: (db: PgClient) => Promise<T>): Promise<T> {
    const db = new PgClient({
      connectionString: cfg.database.url,
      connectionTimeoutMillis: cfg.database.connectTimeoutMs,
      statement_timeout: cfg.database.statementTimeoutMs,
      query_timeout: cfg.database.statementTimeoutMs + 1_000,
      application_name: 'incident-response',
    });
    db.on('error', () => undefined);
    await db.connect();
    try {
      return await fn(db);
    } finally {
      await db.end().catch(() => undefined);
    }
  }

  const ident = (name: string) =>
    name
      .split('.')
      .map((p) => escapeIdentifier(p))
      .join('.');

  // ---------- commands (allow-list) ----------

  interface CommandResult {
    configured: boolean;
    ok: boolean;
    exitCode: number | null;
    stdout: string;
    stderr: string;
    error: string | null;
  }

  function runCommand(name: string): Promise<CommandResult> {
    const argv = cfg.commands[name];
    if (!argv)
      return Promise.resolve({
        configured: false,
        ok: false,
        exitCode: null,
        stdout: '',
        stderr: '',
        error: `command "${name}" is not configured`,
      });
    const [file, ...args] = argv as [string, ...string[]];
    return new Promise((resolve) => {
      let stdout = '';
      let stderr = '';
      const cap = 1_000_000;
      // spawn with an argument vector and no shell: nothing from input is ever parsed as shell syntax.
      const child = spawn(file, args, {
        shell: false,
        timeout: cfg.commandTimeoutMs,
        stdio: ['ignore', 'pipe', 'pipe'],
        killSignal: 'SIGKILL',
      });
      child.stdout.on('data', (d: Buffer) => {
        if (stdout.length < cap) stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        if (stderr.length < cap) stderr += d.toString();
      });
      child.on('error', (err) =>
        resolve({
          configured: true,
          ok: false,
          exitCode: null,
          stdout,
          stderr,
          error: `${file}: ${messageOf(err)}`,
        }),
      );
      child.on('close', (code, signal) =>
        resolve({
          configured: true,
          ok: code === 0,
          exitCode: code,
          stdout,
          stderr,
          error:
            code === 0
              ? null
              : signal
                ? `${file} killed by ${signal} (timeout ${cfg.commandTimeoutMs} ms?)`
                : `${file} exited ${code}: ${stderr.trim().slice(-300)}`,
        }),
      );
    });
  }

  interface InspectState {
    status: ContainerState;
    oomKilled: boolean | null;
    startedAt: string | null;
  }

  async function inspectContainer(
    container: string,
  ): Promise<{ configured: boolean; state: InspectState | null; error: string | null }> {
    const r = await runCommand(`inspect:${container}`);
    if (!r.configured) return { configured: false, state: null, error: r.error };
    if (!r.ok) return { configured: true, state: null, error: r.error };
    try {
      const parsed = z
        .array(
          z.looseObject({
            State: z.looseObject({
              Status: z.string(),
              OOMKilled: z.boolean().optional(),
              StartedAt: z.string().optional(),
            }),
          }),
        )
        .min(1)
        .parse(JSON.parse(r.stdout));
      const st = parsed[0]!.State;
      return {
        configured: true,
        state: {
          status: containerState(st.Status),
          oomKilled: st.OOMKilled ?? null,
          startedAt: st.StartedAt ?? null,
        },
        error: null,
      };
    } catch (err) {
      return { configured: true, state: null, error: `unexpected docker inspect output: ${messageOf(err)}` };
    }
  }

  async function operationsStatus() {
    return api(cfg.operationsService, 'operationsStatus', operationsBody);
  }

  // ---------- the activities ----------

  return heartbeating({
    /** What this worker's platform config offers; the procedure plans its steps from it (recorded in history). */
    async platformCapabilities(): Promise<{
      profile: string;
      championModelId: string;
      apiContainers: string[];
      databaseContainer: string;
      airflowScheduler: string;
      commands: string[];
      airflowConfigured: boolean;
      dataProviderConfigured: boolean;
      databaseThresholds: {
        poolExhaustedRatio: number;
        overloadActiveBackends: number;
        overloadPingMs: number;
      };
    }> {
      return {
        profile: cfg.profile,
        championModelId: cfg.championModelId,
        apiContainers: [cfg.containers.apis.trading, cfg.containers.apis.inference],
        databaseContainer: cfg.containers.database,
        airflowScheduler: cfg.containers.airflowScheduler,
        commands: Object.keys(cfg.commands).sort(),
        airflowConfigured: cfg.airflow !== undefined,
        dataProviderConfigured: cfg.dataProvider !== undefined,
        databaseThresholds: {
          poolExhaustedRatio: cfg.database.poolExhaustedRatio,
          overloadActiveBackends: cfg.database.overloadActiveBackends,
          overloadPingMs: cfg.database.overloadPingMs,
        },
      };
    },

    /** 3.1 step 2 / 5.2 "System health": GET health, judged by the body (always 200). */
    async checkServiceHealth(service: Service): Promise<
      CheckFinding<{
        service: Service;
        container: string;
        reachable: boolean;
        reachError: ReachError | null;
        healthy: boolean | null;
        databaseConnected: boolean | null;
        modelLoaded: boolean | null;
      }>
    > {
      const key: PathKey = service === 'trading' ? 'tradingHealth' : 'inferenceHealth';
      const container = cfg.containers.apis[service];
      const check = `health:${container}`;
      const out = await api(service, key, healthBody);
      const base = {
        service,
        container,
        reachable: out.kind !== 'unreachable',
        reachError: out.kind === 'unreachable' ? out.reach : null,
        healthy: null,
        databaseConnected: null,
        modelLoaded: null,
      };
      if (out.kind !== 'ok') return notOk(check, label(service, key), out, base);
      const b = out.body;
      const databaseConnected =
        b.database_connected ?? (b.database === undefined ? null : b.database === 'connected');
      const healthy =
        ['healthy', 'ok'].includes(b.status.toLowerCase()) &&
        databaseConnected !== false &&
        b.model_loaded !== false;
      const parts = [
        `status ${b.status}`,
        ...(databaseConnected === null
          ? []
          : [`database ${databaseConnected ? 'connected' : 'disconnected'}`]),
        ...(b.model_loaded === undefined ? [] : [`model ${b.model_loaded ? 'loaded' : 'not loaded'}`]),
      ];
      return {
        check,
        outcome: healthy ? 'ok' : 'failed',
        text: `${label(service, key)}: ${parts.join(', ')}`,
        data: { ...base, healthy, databaseConnected, modelLoaded: b.model_loaded ?? null },
      };
    },

    /** 3.1 step 3 / 3.3 step 5: kill switch and mode. */
    async checkOperationsStatus(): Promise<
      CheckFinding<{
        mode: 'normal' | 'paused' | 'killed' | null;
        killSwitchActive: boolean | null;
        reason: string | null;
        activatedBy: string | null;
        activatedAt: string | null;
      }>
    > {
      const out = await operationsStatus();
      const empty = {
        mode: null,
        killSwitchActive: null,
        reason: null,
        activatedBy: null,
        activatedAt: null,
      };
      if (out.kind !== 'ok')
        return notOk('operations-status', label(cfg.operationsService, 'operationsStatus'), out, empty);
      const b = out.body;
      const data = {
        mode: b.mode,
        killSwitchActive: b.kill_switch_active,
        reason: b.reason ?? null,
        activatedBy: b.activated_by ?? null,
        activatedAt: b.activated_at ?? null,
      };
      const text = b.kill_switch_active
        ? `kill switch ACTIVE since ${b.activated_at ?? '?'} by ${b.activated_by ?? '?'}: ${b.reason ?? 'no reason given'}`
        : b.mode === 'paused'
          ? `trading paused: ${b.reason ?? 'no reason given'}`
          : 'trading active (mode normal, kill switch off)';
      return { check: 'operations-status', outcome: b.mode === 'normal' ? 'ok' : 'failed', text, data };
    },

    /** 3.1 diagnosis / 5.2 "Model status": every model loaded? */
    async checkModels(): Promise<
      CheckFinding<{
        models: { modelId: string; status: string; version: string | null }[];
        notLoaded: string[];
      }>
    > {
      const out = await api('inference', 'models', modelsBody);
      if (out.kind !== 'ok')
        return notOk('models', label('inference', 'models'), out, { models: [], notLoaded: [] });
      const models = out.body.models.map((m) => ({
        modelId: m.model_id,
        status: m.status,
        version: m.version ?? null,
      }));
      const notLoaded = out.body.models
        .filter((m) => m.status !== 'loaded' || m.version === 'stub')
        .map((m) => m.model_id);
      return {
        check: 'models',
        outcome: notLoaded.length ? 'failed' : 'ok',
        text: notLoaded.length
          ? `models not loaded (or stub): ${notLoaded.join(', ')}`
          : `${models.length} models loaded: ${models.map((m) => `${m.modelId} ${m.version ?? ''}`.trim()).join(', ')}`,
        data: { models, notLoaded },
      };
    },

    /** 3.2 step 2 / rollback step 3: champion, shadow, ready. */
    async checkRouterStatus(): Promise<
      CheckFinding<{
        enabled: boolean | null;
        ready: boolean | null;
        champion: string | null;
        shadow: string | null;
        shadowEnabled: boolean | null;
        agreementRate: number | null;
      }>
    > {
      const out = await api('inference', 'routerStatus', routerStatusBody);
      const empty = {
        enabled: null,
        ready: null,
        champion: null,
        shadow: null,
        shadowEnabled: null,
        agreementRate: null,
      };
      if (out.kind !== 'ok') return notOk('router-status', label('inference', 'routerStatus'), out, empty);
      const b = out.body;
      const data = {
        enabled: b.enabled,
        ready: b.ready ?? null,
        champion: b.champion ?? null,
        shadow: b.shadow ?? null,
        shadowEnabled: b.shadow_enabled ?? null,
        agreementRate: b.statistics?.agreement_rate ?? null,
      };
      if (!b.enabled)
        return {
          check: 'router-status',
          outcome: 'unknown',
          text: `model router disabled${b.message ? `: ${b.message}` : ''}`,
          data,
        };
      return {
        check: 'router-status',
        outcome: b.ready === false ? 'failed' : 'ok',
        text: `router ${b.ready === false ? 'NOT ready' : 'ready'}: champion ${data.champion ?? '?'}, shadow ${data.shadow ?? 'none'}${data.agreementRate !== null ? `, agreement ${(data.agreementRate * 100).toFixed(0)}%` : ''}`,
        data,
      };
    },

    /** 3.2 step 3: recent predictions. */
    async checkRouterHistory(limit: number): Promise<CheckFinding<{ count: number; disagreements: number }>> {
      const out = await api('inference', 'routerHistory', routerHistoryBody, {
        query: { limit: String(limit) },
      });
      if (out.kind !== 'ok')
        return notOk('router-history', label('inference', 'routerHistory'), out, {
          count: 0,
          disagreements: 0,
        });
      const count = out.body.predictions.length;
      const disagreements = out.body.predictions.filter((p) => p.agreed === false).length;
      return {
        check: 'router-history',
        outcome: 'ok',
        text: `${count} recent predictions, champion and shadow disagreed on ${disagreements}`,
        data: { count, disagreements },
      };
    },

    /** 3.2 step 4: drift (router/drift, else the deployed /monitoring/drift; `_demo` data is unknown). */
    async checkDrift(): Promise<
      CheckFinding<{ score: number | null; driftDetected: boolean | null; source: string | null }>
    > {
      const primary = await api('inference', 'routerDrift', driftBody);
      let out = primary;
      let key: PathKey = 'routerDrift';
      if (primary.kind === 'not-found' || primary.kind === 'not-configured') {
        out = await api('inference', 'monitoringDrift', driftBody);
        key = 'monitoringDrift';
      }
      const empty = { score: null, driftDetected: null, source: null };
      if (out.kind !== 'ok') {
        const f = notOk('drift', label('inference', key), out, empty);
        return key === 'monitoringDrift'
          ? { ...f, text: `${label('inference', 'routerDrift')} not available; ${f.text}` }
          : f;
      }
      const b = out.body;
      if (b._demo)
        return {
          check: 'drift',
          outcome: 'unknown',
          text: `${label('inference', key)} answered canned demo data (_demo: true): drift unknown`,
          data: { ...empty, source: cfg.paths[key] },
        };
      const score = b.overall_drift_score ?? b.psi ?? null;
      const detected = b.drift_detected ?? b.alert_active ?? (score === null ? null : score > 0.2);
      return {
        check: 'drift',
        outcome: detected ? 'failed' : 'ok',
        text: `drift score (PSI) ${score ?? '?'}${detected ? ' > 0.2: feature drift' : ''} (${cfg.paths[key]})`,
        data: { score, driftDetected: detected, source: cfg.paths[key] },
      };
    },

    /** 3.2 diagnosis 1: metrics over a window; the Sharpe ratio drives the 3.2 table. */
    async checkModelMetrics(
      modelId: string,
      window: string,
    ): Promise<
      CheckFinding<{
        modelId: string;
        sharpe: number | null;
        winRate: number | null;
        errorRate: number | null;
        consecutiveLosses: number | null;
      }>
    > {
      const out = await api('inference', 'modelMetrics', metricsBody, {
        params: { model_id: modelId },
        query: { window },
      });
      const empty = { modelId, sharpe: null, winRate: null, errorRate: null, consecutiveLosses: null };
      if (out.kind !== 'ok') return notOk('model-metrics', label('inference', 'modelMetrics'), out, empty);
      const m = out.body.metrics;
      const data = {
        modelId,
        sharpe: m.sharpe_ratio,
        winRate: m.win_rate ?? null,
        errorRate: m.error_rate ?? null,
        consecutiveLosses: m.consecutive_losses ?? null,
      };
      const bad =
        (m.sharpe_ratio !== null && m.sharpe_ratio < 0.8) ||
        (m.error_rate ?? 0) > 0.05 ||
        (m.win_rate ?? 1) < 0.4;
      return {
        check: 'model-metrics',
        outcome: bad ? 'failed' : 'ok',
        text: `${modelId} ${window}: Sharpe ${m.sharpe_ratio ?? '?'}, win rate ${m.win_rate ?? '?'}, error rate ${m.error_rate ?? '?'}, consecutive losses ${m.consecutive_losses ?? '?'}`,
        data,
      };
    },

    /** 3.2 diagnosis 2 / 3.3 recovery 2: feature consistency. */
    async checkConsistency(
      modelId: string,
    ): Promise<CheckFinding<{ modelId: string; status: string | null; failedChecks: string[] }>> {
      const out = await api('inference', 'consistency', consistencyBody, { params: { model_id: modelId } });
      if (out.kind !== 'ok')
        return notOk('consistency', label('inference', 'consistency'), out, {
          modelId,
          status: null,
          failedChecks: [],
        });
      const b = out.body;
      return {
        check: 'consistency',
        outcome: b.overall_status === 'passed' ? 'ok' : b.overall_status === 'warning' ? 'ok' : 'failed',
        text: `feature consistency of ${modelId}: ${b.overall_status}${b.failed_checks?.length ? ` (failed: ${b.failed_checks.join(', ')})` : ''}`,
        data: { modelId, status: b.overall_status, failedChecks: b.failed_checks ?? [] },
      };
    },

    /** 3.2 diagnosis 4: GET data/status (missing on the deployed code: the SQL freshness check covers it). */
    async checkDataStatus(): Promise<
      CheckFinding<{ status: string | null; stale: boolean | null; stalenessSeconds: number | null }>
    > {
      const out = await api('trading', 'dataStatus', dataStatusBody);
      if (out.kind !== 'ok')
        return notOk('data-status', label('trading', 'dataStatus'), out, {
          status: null,
          stale: null,
          stalenessSeconds: null,
        });
      const b = out.body;
      const stale = b.is_stale ?? b.status !== 'healthy';
      return {
        check: 'data-status',
        outcome: stale ? 'failed' : 'ok',
        text: `data status ${b.status}${b.staleness_seconds != null ? `, last update ${Math.round(b.staleness_seconds)}s ago` : ''}`,
        data: { status: b.status, stale, stalenessSeconds: b.staleness_seconds ?? null },
      };
    },

    /** 3.3 diagnosis: fallback data source available? */
    async checkDataSources(): Promise<
      CheckFinding<{
        sources: { name: string; role: string | null; status: string }[];
        fallbackAvailable: boolean | null;
      }>
    > {
      const out = await api('trading', 'dataSources', dataSourcesBody);
      if (out.kind !== 'ok')
        return notOk('data-sources', label('trading', 'dataSources'), out, {
          sources: [],
          fallbackAvailable: null,
        });
      const sources = out.body.sources.map((s) => ({ name: s.name, role: s.role ?? null, status: s.status }));
      const degraded = sources.filter((s) => !['ok', 'healthy', 'standby', 'active'].includes(s.status));
      return {
        check: 'data-sources',
        outcome: degraded.length ? 'failed' : 'ok',
        text: `data sources: ${sources.map((s) => `${s.name}${s.role ? ` (${s.role})` : ''} ${s.status}`).join(', ')}; fallback ${out.body.fallback_available ? 'available' : 'not available'}`,
        data: { sources, fallbackAvailable: out.body.fallback_available ?? null },
      };
    },

    /** 3.2 diagnosis 5 / "Activate shadow mode comparison". */
    async checkShadowComparison(): Promise<
      CheckFinding<{
        championSharpe: number | null;
        shadowSharpe: number | null;
        agreementRate: number | null;
        recommendation: string | null;
      }>
    > {
      const out = await api('inference', 'shadowComparison', shadowBody);
      const empty = { championSharpe: null, shadowSharpe: null, agreementRate: null, recommendation: null };
      if (out.kind !== 'ok')
        return notOk('shadow-comparison', label('inference', 'shadowComparison'), out, empty);
      const b = out.body;
      const data = {
        championSharpe: b.champion.sharpe_ratio ?? null,
        shadowSharpe: b.shadow.sharpe_ratio ?? null,
        agreementRate: b.agreement_rate ?? null,
        recommendation: b.recommendation ?? null,
      };
      return {
        check: 'shadow-comparison',
        outcome: 'ok',
        text: `shadow comparison: champion ${b.champion.label ?? ''} Sharpe ${data.championSharpe ?? '?'} vs shadow ${b.shadow.label ?? ''} Sharpe ${data.shadowSharpe ?? '?'}, agreement ${data.agreementRate ?? '?'}${data.recommendation ? `, recommendation ${data.recommendation}` : ''}`,
        data,
      };
    },

    /** 3.2 rollback step 1. */
    async checkRollbackTargets(): Promise<CheckFinding<{ targets: { modelId: string; version: string }[] }>> {
      const out = await api('inference', 'rollbackTargets', rollbackTargetsBody);
      if (out.kind !== 'ok')
        return notOk('rollback-targets', label('inference', 'rollbackTargets'), out, { targets: [] });
      const targets = out.body.available_targets.map((t) => ({
        modelId: t.model_id,
        version: String(t.version),
      }));
      return {
        check: 'rollback-targets',
        outcome: targets.length ? 'ok' : 'failed',
        text: targets.length
          ? `rollback targets: ${targets.map((t) => `${t.modelId} ${t.version}`).join(', ')}`
          : 'no rollback target available',
        data: { targets },
      };
    },

    /** 3.2 diagnosis 3: recent trades (SQL, table/columns from the profile). */
    async checkRecentTrades(): Promise<
      CheckFinding<{ count: number; consecutiveLosses: number; winRate: number | null; pnlSum: number }>
    > {
      const t = cfg.tables.trades;
      const empty = { count: 0, consecutiveLosses: 0, winRate: null, pnlSum: 0 };
      try {
        const rows = await withDb((db) =>
          db.query<{ trade_id: string; signal: string; pnl: number | null; created_at: Date }>(
            `SELECT ${ident(t.idColumn)} AS trade_id, ${ident(t.sideColumn)} AS signal, ${ident(t.pnlColumn)}::float8 AS pnl, ${ident(t.createdAtColumn)} AS created_at
             FROM ${ident(t.table)} WHERE ${ident(t.createdAtColumn)} > now() - interval '24 hours'
             ORDER BY ${ident(t.createdAtColumn)} DESC, ${ident(t.idColumn)} DESC LIMIT 20`,
          ),
        );
        const pnl = rows.rows.map((r) => (r.pnl === null ? null : Number(r.pnl)));
        const losses = consecutiveLosses(pnl);
        const closed = pnl.filter((p): p is number => p !== null);
        const winRate = closed.length ? closed.filter((p) => p > 0).length / closed.length : null;
        const pnlSum = closed.reduce((a, b) => a + b, 0);
        return {
          check: 'recent-trades',
          outcome: losses > 5 ? 'failed' : 'ok',
          text: `${rows.rowCount} trades in 24h, PnL ${pnlSum.toFixed(2)}, win rate ${winRate === null ? '?' : `${(winRate * 100).toFixed(0)}%`}, ${losses} consecutive losses${losses > 5 ? ' (> 5: unusual loss streak)' : ''}`,
          data: { count: rows.rowCount ?? 0, consecutiveLosses: losses, winRate, pnlSum },
        };
      } catch (err) {
        return {
          check: 'recent-trades',
          outcome: 'failed',
          text: `recent trades query failed: ${messageOf(err)}`,
          data: empty,
        };
      }
    },

    /** 3.3 step 3 / recovery 1: `SELECT MAX(time), NOW() - MAX(time)` (symbol-filtered on the real table). */
    async checkDataFreshness(): Promise<
      CheckFinding<{ latest: string | null; stalenessMinutes: number | null }>
    > {
      const o = cfg.tables.ohlcv;
      try {
        const r = await withDb((db) =>
          db.query<{ latest: Date | null; staleness_seconds: number | null }>(
            `SELECT max(${ident(o.timeColumn)}) AS latest, EXTRACT(EPOCH FROM now() - max(${ident(o.timeColumn)}))::float8 AS staleness_seconds
             FROM ${ident(o.table)}${o.symbolColumn ? ` WHERE ${ident(o.symbolColumn)} = $1` : ''}`,
            o.symbolColumn ? [o.symbol] : [],
          ),
        );
        const row = r.rows[0];
        const latest = row?.latest ? new Date(row.latest).toISOString() : null;
        const minutes = row?.staleness_seconds == null ? null : Number(row.staleness_seconds) / 60;
        const stale = minutes === null || minutes > 10;
        return {
          check: 'data-freshness',
          outcome: stale ? 'failed' : 'ok',
          text: latest
            ? `latest ${o.symbol} bar ${latest}, ${minutes!.toFixed(1)} minutes old${stale ? ' (> 10: stale)' : ''}`
            : `no ${o.symbol} bars in ${o.table}`,
          data: { latest, stalenessMinutes: minutes },
        };
      } catch (err) {
        return {
          check: 'data-freshness',
          outcome: 'failed',
          text: `freshness query failed: ${messageOf(err)}`,
          data: { latest: null, stalenessMinutes: null },
        };
      }
    },

    /** 3.1 diagnosis / 3.4 / 5.2 "Database": `SELECT 1`, timed. */
    async checkDatabase(): Promise<
      CheckFinding<{ reachable: boolean; pingMs: number | null; error: string | null }>
    > {
      const started = performance.now();
      try {
        await withDb((db) => db.query('SELECT 1 AS health_check'));
        const pingMs = Math.round(performance.now() - started);
        return {
          check: 'database',
          outcome: 'ok',
          text: `SELECT 1 on ${databaseName(cfg)} answered in ${pingMs} ms`,
          data: { reachable: true, pingMs, error: null },
        };
      } catch (err) {
        return {
          check: 'database',
          outcome: 'failed',
          text: `SELECT 1 on ${databaseName(cfg)} failed: ${messageOf(err)}`,
          data: { reachable: false, pingMs: null, error: messageOf(err) },
        };
      }
    },

    /** 3.4 "Check active connections": pg_stat_activity counts for the trading database and the limit. */
    async checkDatabaseConnections(): Promise<
      CheckFinding<{ connections: number | null; active: number | null; limit: number | null }>
    > {
      try {
        const r = await withDb(async (db) => {
          const counts = await db.query<{ total: string; active: string }>(
            `SELECT count(*) AS total, count(*) FILTER (WHERE state IS NOT NULL AND state <> 'idle' AND pid <> pg_backend_pid()) AS active
             FROM pg_stat_activity WHERE datname = $1`,
            [databaseName(cfg)],
          );
          const max =
            cfg.database.maxConnections ??
            Number(
              (await db.query<{ max_connections: string }>('SHOW max_connections')).rows[0]
                ?.max_connections ?? 0,
            );
          return {
            connections: Number(counts.rows[0]?.total ?? 0),
            active: Number(counts.rows[0]?.active ?? 0),
            limit: max || null,
          };
        });
        const ratio = r.limit ? r.connections / r.limit : 0;
        return {
          check: 'database-connections',
          outcome: ratio >= cfg.database.poolExhaustedRatio ? 'failed' : 'ok',
          text: `${r.connections} connections to ${databaseName(cfg)} (${r.active} active) of a limit of ${r.limit ?? '?'}`,
          data: r,
        };
      } catch (err) {
        return {
          check: 'database-connections',
          outcome: 'failed',
          text: `pg_stat_activity query failed: ${messageOf(err)}`,
          data: { connections: null, active: null, limit: null },
        };
      }
    },

    /** 3.4 "Check for long-running queries" (over the configured minutes, not idle). */
    async checkLongRunningQueries(): Promise<
      CheckFinding<{ queries: (LongQuery & { queryStartUs: string })[] }>
    > {
      try {
        const rows = await withDb((db) =>
          db.query<{
            pid: number;
            duration_seconds: number;
            query: string;
            query_start: Date;
            query_start_us: string;
            state: string | null;
          }>(
            `SELECT pid, EXTRACT(EPOCH FROM now() - query_start)::float8 AS duration_seconds, query, query_start,
                    (EXTRACT(EPOCH FROM query_start) * 1000000)::bigint::text AS query_start_us, state
             FROM pg_stat_activity
             WHERE (now() - query_start) > make_interval(secs => $1) AND state <> 'idle' AND pid <> pg_backend_pid() AND datname = $2
             ORDER BY query_start LIMIT 20`,
            [cfg.database.longQueryMinutes * 60, databaseName(cfg)],
          ),
        );
        const queries = rows.rows.map((r) => ({
          pid: r.pid,
          durationSeconds: Number(r.duration_seconds),
          query: r.query.slice(0, 2000),
          queryStart: new Date(r.query_start).toISOString(),
          queryStartUs: r.query_start_us,
          state: r.state,
        }));
        return {
          check: 'long-running-queries',
          outcome: queries.length ? 'failed' : 'ok',
          text: queries.length
            ? `${queries.length} queries running over ${cfg.database.longQueryMinutes} min: ${queries.map((q) => `pid ${q.pid} (${Math.round(q.durationSeconds)}s)`).join(', ')}`
            : `no query running over ${cfg.database.longQueryMinutes} min`,
          data: { queries },
        };
      } catch (err) {
        return {
          check: 'long-running-queries',
          outcome: 'failed',
          text: `long-running query check failed: ${messageOf(err)}`,
          data: { queries: [] },
        };
      }
    },

    /** 3.1 diagnosis / 5.2 "Redis": PING with short timeouts and no reconnect storm. */
    async checkRedis(
      urlOverride?: string,
    ): Promise<CheckFinding<{ reachable: boolean; latencyMs: number | null }>> {
      const url = urlOverride ?? cfg.redis.url;
      const redis = new Redis(url, {
        lazyConnect: true,
        connectTimeout: cfg.redis.connectTimeoutMs,
        commandTimeout: cfg.redis.connectTimeoutMs,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
        reconnectOnError: () => false,
      });
      redis.on('error', () => undefined);
      const started = performance.now();
      try {
        await redis.connect();
        const pong = await redis.ping();
        const latencyMs = Math.round(performance.now() - started);
        return {
          check: 'redis',
          outcome: pong === 'PONG' ? 'ok' : 'failed',
          text: `Redis PING -> ${pong} in ${latencyMs} ms`,
          data: { reachable: pong === 'PONG', latencyMs },
        };
      } catch (err) {
        return {
          check: 'redis',
          outcome: 'failed',
          text: `Redis PING failed: ${messageOf(err)}`,
          data: { reachable: false, latencyMs: null },
        };
      } finally {
        redis.disconnect();
      }
    },

    /** 3.1 step 4: container status via the allow-listed `container-status` and `inspect:<container>`. */
    async checkContainers(): Promise<CheckFinding<{ containers: ContainerFacts[] | null }>> {
      const wanted = [
        cfg.containers.apis.trading,
        cfg.containers.apis.inference,
        cfg.containers.database,
        cfg.containers.redis,
      ];
      const ps = await runCommand('container-status');
      const found = new Map<string, ContainerFacts>();
      if (ps.ok) {
        for (const line of ps.stdout.split('\n')) {
          if (!line.trim()) continue;
          try {
            const row = z
              .looseObject({ Names: z.string(), State: z.string().optional(), Status: z.string().optional() })
              .parse(JSON.parse(line));
            const name = row.Names.split(',')[0]!.replace(/^\//, '');
            if (wanted.includes(name))
              found.set(name, {
                name,
                state: containerState(row.State ?? row.Status ?? ''),
                oomKilled: null,
              });
          } catch {
            // a line that is not a container row: ignore
          }
        }
      }
      // inspect gives OOMKilled (3.1 memory exhaustion) and the state when `docker ps` is not configured.
      for (const name of wanted) {
        const ins = await inspectContainer(name);
        if (ins.state)
          found.set(name, {
            name,
            state: found.get(name)?.state ?? ins.state.status,
            oomKilled: ins.state.oomKilled,
          });
      }
      if (!ps.configured && found.size === 0) {
        return {
          check: 'containers',
          outcome: 'unavailable',
          text: 'container status: not configured (no `container-status` or `inspect:<container>` command in the allow-list)',
          data: { containers: null },
        };
      }
      if (!ps.ok && found.size === 0)
        return {
          check: 'containers',
          outcome: 'unknown',
          text: `container status failed: ${ps.error}`,
          data: { containers: null },
        };
      const containers = wanted.map(
        (n) => found.get(n) ?? { name: n, state: 'unknown' as const, oomKilled: null },
      );
      const bad = containers.filter((c) => c.state !== 'running' || c.oomKilled);
      return {
        check: 'containers',
        outcome: bad.length ? 'failed' : 'ok',
        text: `containers: ${containers.map((c) => `${c.name} ${c.state}${c.oomKilled ? ' (OOM-killed)' : ''}`).join(', ')}`,
        data: { containers },
      };
    },

    /** 3.1/3.3/3.4 logs: `docker logs <c> --tail N` (allow-listed), grepped here, never through a shell. */
    async checkContainerLogs(
      container: string,
      filter: 'errors' | 'twelvedata' = 'errors',
    ): Promise<
      CheckFinding<{ container: string; lines: string[]; outOfMemory: boolean; diskFull: boolean }>
    > {
      const check = `logs:${container}`;
      const r = await runCommand(`logs:${container}`);
      const empty = { container, lines: [], outOfMemory: false, diskFull: false };
      if (!r.configured)
        return {
          check,
          outcome: 'unavailable',
          text: `logs of ${container}: not configured (no \`logs:${container}\` command in the allow-list)`,
          data: empty,
        };
      if (!r.ok) return { check, outcome: 'unknown', text: `logs of ${container}: ${r.error}`, data: empty };
      const all = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim());
      const pattern = filter === 'twelvedata' ? /twelvedata/i : LOG_ERROR_PATTERN;
      const lines = all
        .filter((l) => pattern.test(l))
        .slice(-20)
        .map((l) => l.slice(0, 500));
      const outOfMemory = all.some((l) => OUT_OF_MEMORY_PATTERN.test(l));
      const diskFull = all.some((l) => DISK_FULL_PATTERN.test(l));
      const problems =
        filter === 'errors'
          ? lines.length > 0
          : lines.some((l) => LOG_ERROR_PATTERN.test(l) || /timeout|rate limit|429/i.test(l));
      return {
        check,
        outcome: problems || outOfMemory || diskFull ? 'failed' : 'ok',
        text: `logs of ${container}: ${lines.length} ${filter === 'errors' ? 'ERROR/CRITICAL/Exception' : 'twelvedata'} lines${outOfMemory ? ', out of memory' : ''}${diskFull ? ', disk full' : ''}${lines.length ? `; last: ${lines[lines.length - 1]}` : ''}`,
        data: { container, lines, outOfMemory, diskFull },
      };
    },

    /** 3.1 diagnosis: `airflow dags list-runs -d l1_feature_refresh --state running`, via the REST API when configured. */
    async checkAirflowDagRuns(): Promise<
      CheckFinding<{ dagId: string | null; running: number; failed: number; latestState: string | null }>
    > {
      const a = cfg.airflow;
      if (!a)
        return {
          check: 'airflow',
          outcome: 'unavailable',
          text: 'Airflow DAG runs: Airflow REST API not configured',
          data: { dagId: null, running: 0, failed: 0, latestState: null },
        };
      const password = a.password ?? (a.passwordEnv ? process.env[a.passwordEnv] : undefined);
      const headers: Record<string, string> =
        a.username && password
          ? { authorization: `Basic ${Buffer.from(`${a.username}:${password}`).toString('base64')}` }
          : {};
      const url = `${a.baseUrl.replace(/\/$/, '')}/api/v1/dags/${encodeURIComponent(a.dagId)}/dagRuns?order_by=-execution_date&limit=10`;
      const out = await httpJson(url, airflowRunsBody, { headers });
      const empty = { dagId: a.dagId, running: 0, failed: 0, latestState: null };
      if (out.kind === 'http-error' && out.status >= 400 && out.status < 500) {
        throw ApplicationFailure.nonRetryable(
          `Airflow GET dagRuns: HTTP ${out.status}: ${out.message}`,
          'PlatformBadRequest',
          { status: out.status },
        );
      }
      if (out.kind !== 'ok') return notOk('airflow', `Airflow DAG ${a.dagId}`, out, empty);
      const runs = out.body.dag_runs;
      const running = runs.filter((r) => r.state === 'running').length;
      const failed = runs.filter((r) => r.state === 'failed').length;
      return {
        check: 'airflow',
        outcome: runs[0]?.state === 'failed' ? 'failed' : 'ok',
        text: `Airflow DAG ${a.dagId}: ${running} running, ${failed} failed of the last ${runs.length}; latest ${runs[0]?.state ?? 'none'}`,
        data: { dagId: a.dagId, running, failed, latestState: runs[0]?.state ?? null },
      };
    },

    /** 3.3 step 2 "Check TwelveData status" (statuspage JSON), when configured. */
    async checkDataProviderStatus(): Promise<CheckFinding<{ indicator: string | null }>> {
      const p = cfg.dataProvider;
      if (!p)
        return {
          check: 'data-provider',
          outcome: 'unavailable',
          text: 'data provider status page: not configured',
          data: { indicator: null },
        };
      const out = await httpJson(p.statusUrl, statusPageBody);
      if (out.kind !== 'ok') return notOk('data-provider', `${p.name} status page`, out, { indicator: null });
      const s = out.body.status;
      return {
        check: 'data-provider',
        outcome: s.indicator === 'none' ? 'ok' : 'failed',
        text: `${p.name} status: ${s.description ?? s.indicator}`,
        data: { indicator: s.indicator },
      };
    },

    // ---------- mutating (only behind the approval gate; each guarded, see the header) ----------

    /** 5.1 "Kill all trading": POST /operations/kill-switch unless already active. */
    async activateKillSwitch(input: {
      reason: string;
      activatedBy: string;
      closePositions?: boolean;
      notifyTeam?: boolean;
    }): Promise<{ applied: boolean; alreadyActive: boolean; activatedAt: string | null; message: string }> {
      return withHeartbeat(async () => {
        const before = mustBeOk('operations status before kill switch', await operationsStatus());
        if (before.kill_switch_active) {
          return {
            applied: false,
            alreadyActive: true,
            activatedAt: before.activated_at ?? null,
            message: `kill switch already active (by ${before.activated_by ?? '?'}: ${before.reason ?? ''})`,
          };
        }
        const r = mustBeOk(
          'POST kill-switch',
          await api(cfg.operationsService, 'killSwitch', killSwitchBody, {
            method: 'POST',
            body: {
              reason: input.reason,
              activated_by: input.activatedBy,
              close_positions: input.closePositions ?? true,
              notify_team: input.notifyTeam ?? true,
            },
          }),
        );
        if (!r.success)
          throw ApplicationFailure.retryable(
            `kill switch not activated: ${r.message ?? ''}`,
            'PlatformError',
          );
        logInfo('kill switch activated', { activatedBy: input.activatedBy });
        return {
          applied: true,
          alreadyActive: false,
          activatedAt: r.activated_at ?? null,
          message: r.message ?? 'kill switch activated',
        };
      });
    },

    /** 5.1 "Resume trading": only a killed platform; the code is CONFIRM_RESUME (checked by the parent and the platform). */
    async resumeTrading(input: {
      resumedBy: string;
      confirmationCode: string;
    }): Promise<{ applied: boolean; modeBefore: string; message: string }> {
      return withHeartbeat(async () => {
        const before = mustBeOk('operations status before resume', await operationsStatus());
        if (!before.kill_switch_active) {
          return {
            applied: false,
            modeBefore: before.mode,
            message:
              before.mode === 'paused'
                ? 'kill switch not active; trading is paused and the platform has no unpause'
                : 'kill switch not active: trading already active',
          };
        }
        const r = mustBeOk(
          'POST resume',
          await api(cfg.operationsService, 'resume', simpleOkBody, {
            method: 'POST',
            body: { resumed_by: input.resumedBy, confirmation_code: input.confirmationCode },
          }),
        );
        logInfo('trading resumed', { resumedBy: input.resumedBy });
        return { applied: true, modeBefore: before.mode, message: r.message ?? 'resumed' };
      });
    },

    /** 5.1 "Pause trading (soft)": unless already paused or killed. */
    async pauseTrading(input: {
      pausedBy: string;
      reason: string;
    }): Promise<{ applied: boolean; modeBefore: string; message: string }> {
      return withHeartbeat(async () => {
        const before = mustBeOk('operations status before pause', await operationsStatus());
        if (before.mode !== 'normal')
          return { applied: false, modeBefore: before.mode, message: `trading already ${before.mode}` };
        const r = mustBeOk(
          'POST pause',
          await api(cfg.operationsService, 'pause', simpleOkBody, {
            method: 'POST',
            body: { paused_by: input.pausedBy, reason: input.reason },
          }),
        );
        return { applied: true, modeBefore: before.mode, message: r.message ?? 'paused' };
      });
    },

    /** 3.2 rollback step 2: POST /models/rollback while `expectedChampion` is still the champion. */
    async rollbackModel(input: {
      reason: string;
      initiatedBy: string;
      expectedChampion: string | null;
      targetVersion?: number;
    }): Promise<{
      applied: boolean;
      previousModel: string | null;
      newModel: string | null;
      message: string;
    }> {
      return withHeartbeat(async () => {
        const status = mustBeOk(
          'router status before rollback',
          await api('inference', 'routerStatus', routerStatusBody),
        );
        const champion = status.champion ?? null;
        if (input.expectedChampion !== null && champion !== input.expectedChampion) {
          return {
            applied: false,
            previousModel: input.expectedChampion,
            newModel: champion,
            message: `champion is already ${champion ?? '?'} (was ${input.expectedChampion}): not rolling back again`,
          };
        }
        const r = mustBeOk(
          'POST rollback',
          await api('inference', 'rollback', rollbackBody, {
            method: 'POST',
            body: {
              reason: input.reason,
              initiated_by: input.initiatedBy,
              ...(input.targetVersion !== undefined ? { target_version: input.targetVersion } : {}),
            },
          }),
        );
        if (!r.success)
          throw ApplicationFailure.retryable(
            `rollback reported failure: ${r.message ?? ''}`,
            'PlatformError',
          );
        logInfo('model rolled back', { from: r.previous_model, to: r.new_model });
        return {
          applied: true,
          previousModel: r.previous_model,
          newModel: r.new_model,
          message: r.message ?? 'rolled back',
        };
      });
    },

    /** 5.1 "Force model reload": idempotent on the platform; success is verified afterwards by the caller. */
    async reloadModels(): Promise<{ applied: boolean; reloaded: string[]; failed: number; message: string }> {
      return withHeartbeat(async () => {
        const r = mustBeOk('POST reload', await api('inference', 'reload', reloadBody, { method: 'POST' }));
        return {
          applied: r.success,
          reloaded: r.reloaded_models ?? [],
          failed: r.failed_models?.length ?? 0,
          message: r.message ?? '',
        };
      });
    },

    /** 5.1 "Restart trading/inference API": the allow-listed `restart:<container>`; skipped when already restarted. */
    async restartContainer(input: {
      container: string;
      notStartedAfter: string;
    }): Promise<{ applied: boolean; message: string; startedAt: string | null }> {
      return withHeartbeat(async () => {
        if (!cfg.commands[`restart:${input.container}`]) {
          throw ApplicationFailure.nonRetryable(
            `restart of ${input.container} is not configured (no \`restart:${input.container}\` command in the allow-list)`,
            'CommandNotConfigured',
          );
        }
        const before = await inspectContainer(input.container);
        if (
          before.state?.startedAt &&
          before.state.status === 'running' &&
          Date.parse(before.state.startedAt) > Date.parse(input.notStartedAfter)
        ) {
          return {
            applied: false,
            message: `${input.container} already restarted at ${before.state.startedAt}`,
            startedAt: before.state.startedAt,
          };
        }
        const r = await runCommand(`restart:${input.container}`);
        if (!r.ok)
          throw ApplicationFailure.retryable(
            `restart of ${input.container} failed: ${r.error}`,
            'CommandFailed',
          );
        const after = await inspectContainer(input.container);
        logInfo('container restarted', { container: input.container });
        return {
          applied: true,
          message: `${input.container} restarted${r.stdout.trim() ? `: ${r.stdout.trim().slice(0, 200)}` : ''}`,
          startedAt: after.state?.startedAt ?? null,
        };
      });
    },

    /** 3.4 "Kill long-running queries": pg_terminate_backend for that pid and that query only. */
    async terminateBackend(input: {
      pid: number;
      queryStartUs: string;
    }): Promise<{ applied: boolean; message: string }> {
      return withHeartbeat(async () => {
        const r = await withDb((db) =>
          db.query<{ terminated: boolean }>(
            `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
             WHERE pid = $1 AND (EXTRACT(EPOCH FROM query_start) * 1000000)::bigint = $2::bigint`,
            [input.pid, input.queryStartUs],
          ),
        );
        const row = r.rows[0];
        if (!row)
          return {
            applied: false,
            message: `pid ${input.pid} no longer runs that query (already ended or terminated)`,
          };
        logInfo('backend terminated', { pid: input.pid });
        return {
          applied: row.terminated,
          message: row.terminated
            ? `pid ${input.pid} terminated`
            : `pg_terminate_backend(${input.pid}) returned false`,
        };
      });
    },
  });
}

/**
 * Every activity heartbeats while it runs (checks may wait on several commands or timeouts), so the
 * workflows can use a short heartbeatTimeout and a killed worker's activity is retried within seconds.
 */
function heartbeating<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(activities)) {
    out[name] = (...args: never[]) => withHeartbeat(() => fn(...args));
  }
  return out as T;
}

function containerState(raw: string): ContainerState {
  const s = raw.toLowerCase();
  for (const st of ['running', 'exited', 'restarting', 'dead', 'paused', 'created'] as const)
    if (s.startsWith(st)) return st;
  if (s.startsWith('up')) return 'running';
  return 'unknown';
}

export type ProcedureActivities = ReturnType<typeof createProcedureActivities>;
