// Shared HTTP plumbing for the notification channels: one undici call with timeouts, and the mapping of
// every failure to an ApplicationFailure the Temporal retry policy can act on (DESIGN "Side effects":
// retries with backoff via retry policies, not hand-written loops; non-retryable errors for bad requests).
//
// Secrets (webhook URLs, tokens, routing keys) never appear in a message or detail built here: callers pass
// a channel name, and transport errors are reduced to their error code. The body cap and the transport error
// classification are the ones the platform checks use (../http-transport.ts).
import { ApplicationFailure } from '@temporalio/common';
import { Agent, request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { BodyTooLargeError, classifyTransportError, readCapped, transportErrorCode } from '../http-transport';

/** Failure types, stable names for `RetryPolicy.nonRetryableErrorTypes` and for dashboards. */
export const CHANNEL_ERROR = {
  /** HTTP 429 (or Slack `ratelimited`): retryable, `nextRetryDelay` = Retry-After when the service sent one. */
  rateLimited: 'ChannelRateLimited',
  /** 5xx or a transient service error: retryable with the policy's backoff. */
  unavailable: 'ChannelUnavailable',
  /** Connect, headers, body or total timeout: retryable. */
  timeout: 'ChannelTimeout',
  /** Connection refused/reset, DNS: retryable. */
  network: 'ChannelNetworkError',
  /** A response that does not match the service's documented shape: retryable (the service may recover). */
  badResponse: 'ChannelBadResponse',
  /** The request will never succeed as sent (bad payload, bad credentials, unknown channel): non-retryable. */
  rejected: 'ChannelRejected',
} as const;
export type ChannelErrorType = (typeof CHANNEL_ERROR)[keyof typeof CHANNEL_ERROR];

export interface HttpTimeouts {
  /** Time to establish TCP/TLS; applied by the dispatcher (see createChannelDispatcher). */
  connectMs: number;
  /** Time from sending the request to receiving the response headers. */
  headersMs: number;
  /** Maximum idle time between body chunks. */
  bodyMs: number;
  /** Hard limit for the whole call, whatever the above. */
  totalMs: number;
}

export const httpTimeoutsSchema = z.object({
  connectMs: z.number().int().positive().default(3_000),
  headersMs: z.number().int().positive().default(8_000),
  bodyMs: z.number().int().positive().default(8_000),
  // Below the paging activities' startToCloseTimeout (15 s), so a slow service ends in a typed ChannelTimeout
  // rather than an activity timeout.
  totalMs: z.number().int().positive().default(10_000),
});

/** An undici Agent with the connect timeout set: channels take any Dispatcher so tests can inject their own. */
export function createChannelDispatcher(
  timeouts: Partial<Pick<HttpTimeouts, 'connectMs' | 'headersMs' | 'bodyMs'>> = {},
): Dispatcher {
  const t = httpTimeoutsSchema.parse(timeouts);
  return new Agent({ connect: { timeout: t.connectMs }, headersTimeout: t.headersMs, bodyTimeout: t.bodyMs });
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface PostJsonOptions {
  /** Channel name for error messages; never the URL. */
  channel: string;
  dispatcher: Dispatcher;
  url: string;
  headers?: Record<string, string>;
  body: unknown;
  timeouts: HttpTimeouts;
  /** Responses larger than this are cut off and reported as a bad response. */
  maxResponseBytes?: number;
}

/** POST a JSON body and read the whole response as text. Transport failures throw retryable ApplicationFailures. */
export async function postJson(opts: PostJsonOptions): Promise<HttpResponse> {
  const signal = AbortSignal.timeout(opts.timeouts.totalMs);
  let res: Dispatcher.ResponseData;
  try {
    res = await request(opts.url, {
      dispatcher: opts.dispatcher,
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', ...opts.headers },
      body: JSON.stringify(opts.body),
      headersTimeout: opts.timeouts.headersMs,
      bodyTimeout: opts.timeouts.bodyMs,
      signal,
    });
  } catch (err) {
    throw transportFailure(opts.channel, err, signal);
  }
  try {
    const body = await readBody(res.body, opts.maxResponseBytes ?? 256 * 1024);
    return { status: res.statusCode, headers: res.headers, body };
  } catch (err) {
    if (err instanceof ApplicationFailure) throw err;
    throw transportFailure(opts.channel, err, signal);
  }
}

/** readCapped, with an oversized body reported as a bad response (the service may recover: retryable). */
async function readBody(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string> {
  try {
    return await readCapped(body, maxBytes);
  } catch (err) {
    if (err instanceof BodyTooLargeError)
      throw ApplicationFailure.create({
        message: `response larger than ${maxBytes} bytes`,
        type: CHANNEL_ERROR.badResponse,
      });
    throw err;
  }
}

/** The transport error code, only when it looks like one: it is echoed in messages, which carry no secrets. */
function safeTransportCode(err: unknown): string {
  const code = transportErrorCode(err);
  if (code !== undefined && /^[A-Z0-9_]{1,64}$/.test(code)) return code;
  if (typeof err === 'object' && err !== null) {
    const name = (err as { name?: unknown }).name;
    if (typeof name === 'string' && /^[A-Za-z]{1,64}$/.test(name)) return name;
  }
  return 'unknown';
}

function transportFailure(channel: string, err: unknown, totalSignal: AbortSignal): ApplicationFailure {
  const code = safeTransportCode(err);
  const timedOut = classifyTransportError(err) === 'timeout' || totalSignal.aborted;
  // The raw error is not attached as `cause`: undici messages can carry the host and, for some errors, the URL.
  return ApplicationFailure.create({
    message: timedOut ? `${channel}: request timed out (${code})` : `${channel}: request failed (${code})`,
    type: timedOut ? CHANNEL_ERROR.timeout : CHANNEL_ERROR.network,
    details: [{ channel, code }],
  });
}

/**
 * Retry-After: delta-seconds or an HTTP-date (RFC 9110 10.2.3). Returns whole seconds >= 0, or undefined when
 * absent or unreadable.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  nowMs: number = Date.now(),
): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const trimmed = v.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** A service error code safe to echo in messages (e.g. `invalid_payload`), or undefined. */
export function safeErrorCode(text: string): string | undefined {
  const t = text.trim();
  return /^[a-z0-9_.-]{1,64}$/i.test(t) ? t : undefined;
}

export function rateLimitedFailure(
  channel: string,
  status: number,
  retryAfterSeconds: number | undefined,
  error?: string,
): ApplicationFailure {
  const wait = retryAfterSeconds === undefined ? '' : `, retry after ${retryAfterSeconds} s`;
  return ApplicationFailure.create({
    message: `${channel}: rate limited (HTTP ${status}${error ? ` ${error}` : ''})${wait}`,
    type: CHANNEL_ERROR.rateLimited,
    nonRetryable: false,
    // Temporal uses nextRetryDelay instead of the policy's backoff for this one retry (Duration number = ms).
    ...(retryAfterSeconds === undefined ? {} : { nextRetryDelay: retryAfterSeconds * 1000 }),
    details: [{ channel, status, error, retryAfterSeconds }],
  });
}

export function unavailableFailure(channel: string, status: number, error?: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${channel}: service unavailable (HTTP ${status}${error ? ` ${error}` : ''})`,
    type: CHANNEL_ERROR.unavailable,
    nonRetryable: false,
    details: [{ channel, status, error }],
  });
}

export function rejectedFailure(
  channel: string,
  status: number,
  error?: string,
  extra?: Record<string, unknown>,
): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${channel}: rejected (HTTP ${status}${error ? ` ${error}` : ''})`,
    type: CHANNEL_ERROR.rejected,
    nonRetryable: true,
    details: [{ channel, status, error, ...extra }],
  });
}

export function badResponseFailure(channel: string, status: number, why: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${channel}: unexpected response (HTTP ${status}): ${why}`,
    type: CHANNEL_ERROR.badResponse,
    nonRetryable: false,
    details: [{ channel, status }],
  });
}

/** Parse a JSON body against a schema; undefined when it is not JSON or does not match. */
export function parseJsonBody<T>(text: string, schema: z.ZodType<T>): T | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = schema.safeParse(json);
  return r.success ? r.data : undefined;
}

/**
 * Idempotency and message-reference store. The real one is the PostgreSQL ledger; InMemoryKeyValueStore is
 * for tests and single-process use.
 */
export interface KeyValueStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

export class InMemoryKeyValueStore implements KeyValueStore {
  readonly entries = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.entries.get(key);
  }
  async set(key: string, value: string): Promise<void> {
    this.entries.set(key, value);
  }
}

/**
 * A store whose failures never stop a page: reads that fail count as "not sent yet" and writes that fail
 * are logged. Paging must not wait on the database (a duplicate page beats a lost one), so Slack and
 * PagerDuty keep working through a ledger outage, e.g. a 3.4 database incident on the same server.
 */
export class BestEffortKeyValueStore implements KeyValueStore {
  constructor(
    private readonly inner: KeyValueStore,
    private readonly warn: (message: string) => void = (m) => console.warn(m),
  ) {}
  async get(key: string): Promise<string | undefined> {
    try {
      return await this.inner.get(key);
    } catch (err) {
      this.warn(`[notify] idempotency store unavailable (${(err as Error).message}); sending ${key} anyway`);
      return undefined;
    }
  }
  async set(key: string, value: string): Promise<void> {
    try {
      await this.inner.set(key, value);
    } catch (err) {
      this.warn(`[notify] idempotency store unavailable (${(err as Error).message}); ${key} not remembered`);
    }
  }
}
