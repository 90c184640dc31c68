// HTTP plumbing of the platform checks: one undici call with the config's timeouts and body cap, its
// outcome as a value (HttpOutcome) rather than a throw, so a check turns anything the platform does
// (down, 5xx, 404, an error body, a body that fails its schema) into a finding (notOk), and a mutating call
// turns it into an ApplicationFailure the retry policy can act on (mustBeOk).
import { ApplicationFailure } from '@temporalio/common';
import { Agent, request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import type { ReachError } from '../../playbook/procedures';
import { fillPath, type PlatformConfig } from '../../platform/config';
import { classifyTransportError, readCapped, transportErrorCode } from '../http-transport';
import type { CheckFinding, PathKey, Service } from './finding';

export type HttpOutcome<T> =
  | { kind: 'ok'; status: number; body: T }
  | { kind: 'not-configured' }
  | { kind: 'not-found'; status: number; message: string }
  | { kind: 'unreachable'; reach: ReachError; message: string }
  | { kind: 'http-error'; status: number; message: string }
  | { kind: 'error-body'; status: number; message: string }
  | { kind: 'invalid'; status: number; message: string };

/** How a platform call failed to reach the other side (the 3.1 table reads it: refused vs DNS vs timeout). */
export function classifyReachError(err: unknown): ReachError {
  return classifyTransportError(err);
}

export function messageOf(err: unknown): string {
  const code = transportErrorCode(err);
  const msg = err instanceof Error ? err.message || err.name : String(err);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}

/** Text of an error envelope `{error, message}` or a short raw body. */
export function envelopeMessage(body: unknown, raw: string): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const parts = [b.error, b.message, b.detail].filter((x) => typeof x === 'string') as string[];
    if (parts.length) return parts.join(': ');
  }
  return raw.slice(0, 300);
}

/** `dispatcher`: tests point it anywhere; default an Agent with the config's timeouts. */
export function createPlatformHttp(cfg: PlatformConfig, dispatcher?: Dispatcher) {
  const agent =
    dispatcher ??
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
        dispatcher: agent,
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
      raw = await readCapped(res.body, cfg.http.maxBodyBytes);
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

  /** How findings name an endpoint: the API and the path (`trading-api /api/health`). */
  const label = (service: Service, key: PathKey) =>
    `${service === 'trading' ? 'trading-api' : cfg.containers.apis.inference} ${cfg.paths[key] ?? key}`;

  return { httpJson, api, label };
}

export type PlatformHttp = ReturnType<typeof createPlatformHttp>;

/** The finding for anything but a 200 with a valid body. */
export function notOk<D>(
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
        outcome: 'unknown',
        text: `${what}: unreachable (${out.reach}: ${out.message})`,
        data,
      };
    case 'http-error':
      return { check, outcome: 'unknown', text: `${what}: HTTP ${out.status}: ${out.message}`, data };
    case 'error-body':
      return {
        check,
        outcome: 'unknown',
        text: `${what}: HTTP ${out.status} with an error body: ${out.message}`,
        data,
      };
    case 'invalid':
      return { check, outcome: 'unknown', text: `${what}: ${out.message}`, data };
  }
}

/** The mutating calls: anything but a 2xx with a valid body is an ApplicationFailure. */
export function mustBeOk<T>(what: string, out: HttpOutcome<T>): T {
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
