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
import type { KeyValueStore } from '../../ledger/kv';

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

/** For tests and single-process use; the real store is the ledger's (src/ledger/kv.ts). */
export class InMemoryKeyValueStore implements KeyValueStore {
  readonly entries = new Map<string, string>();
  async get(key: string): Promise<string | undefined> {
    return this.entries.get(key);
  }
  async set(key: string, value: string): Promise<void> {
    this.entries.set(key, value);
  }
}

export interface BestEffortOptions {
  /** Longest wait for the inner store on a delivery's path; past it the store counts as down. Default 1000 ms. */
  timeoutMs?: number;
  /** While down, the inner store is probed in the background this often (doubling to 30 s). Default 2000 ms. */
  probeEveryMs?: number;
  /** Keys this process remembers (sent markers, message refs); the oldest are forgotten past it. Default 20,000. */
  memoryEntries?: number;
}

/**
 * A store that never holds up a page and never makes this process send a key twice, whatever the inner store
 * (the ledger database) does. Paging must not wait on the database, e.g. during a 3.4 database incident on
 * the same server:
 * - Every key this process wrote is remembered in memory and answered from there first, so a retried
 *   delivery on the same worker finds what it sent even while the database is down.
 * - A read waits at most `timeoutMs`; a read that fails or times out counts as "not sent" and marks the store
 *   down. While down, reads skip it (memory only) and a background probe finds when it is back: one slow read
 *   per outage, not one per delivery.
 * - Writes land in memory at once and go to the inner store behind the delivery (waiting at most `timeoutMs`
 *   while it is up); a write that does not land is retried in the background until it does, so other workers
 *   see the key once the database is back.
 * A retry that lands on another worker during the outage can still send again (at least once: a duplicate
 * beats a lost page); the Slack and PagerDuty keys make such a repeat a new message, never a missed one.
 */
export class BestEffortKeyValueStore implements KeyValueStore {
  private readonly memory = new Map<string, string>();
  /** Writes the inner store has not confirmed, in order. */
  private readonly unsaved = new Map<string, string>();
  private readonly timeoutMs: number;
  private readonly probeEveryMs: number;
  private readonly memoryEntries: number;
  private downSince: number | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private probeWaitMs: number;
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly inner: KeyValueStore,
    private readonly warn: (message: string) => void = (m) => console.warn(m),
    options: BestEffortOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 1_000;
    this.probeEveryMs = options.probeEveryMs ?? 2_000;
    this.memoryEntries = options.memoryEntries ?? 20_000;
    this.probeWaitMs = this.probeEveryMs;
  }

  /** True while the inner store is considered down (reads answer from memory only). */
  get down(): boolean {
    return this.downSince !== null;
  }

  /** Writes not yet in the inner store. */
  get unsavedCount(): number {
    return this.unsaved.size;
  }

  async get(key: string): Promise<string | undefined> {
    const known = this.memory.get(key);
    if (known !== undefined) return known;
    if (this.downSince !== null) return undefined;
    try {
      const value = await this.bounded(this.inner.get(key), 'read');
      if (value !== undefined) this.remember(key, value);
      return value;
    } catch (err) {
      this.markDown(err, `sending ${key} without its check`);
      return undefined;
    }
  }

  async set(key: string, value: string): Promise<void> {
    this.remember(key, value);
    this.unsaved.delete(key); // re-inserted last: the newest value of a key is the one written
    this.unsaved.set(key, value);
    if (this.unsaved.size > this.memoryEntries) {
      // A very long outage: the oldest marker stays in memory but will not reach the store.
      this.unsaved.delete(this.unsaved.keys().next().value as string);
    }
    if (this.downSince !== null) return;
    try {
      await this.bounded(this.inner.set(key, value), 'write');
      if (this.unsaved.get(key) === value) this.unsaved.delete(key);
    } catch (err) {
      if (this.refusedForGood(err, key)) return;
      this.markDown(err, `${key} kept in memory, written when the store is back`);
    }
  }

  /** A value the store will never take (e.g. PostgreSQL data exception 22xxx): kept in memory only. */
  private refusedForGood(err: unknown, key: string): boolean {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !/^(22|23)/.test(code)) return false;
    this.unsaved.delete(key);
    this.warn(`[notify] idempotency store refused ${key} (SQLSTATE ${code}): remembered by this worker only`);
    return true;
  }

  /** Stops the background probe (tests, shutdown); unsaved writes stay in memory. */
  close(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
  }

  private remember(key: string, value: string): void {
    this.memory.delete(key);
    this.memory.set(key, value);
    while (this.memory.size > this.memoryEntries) {
      const oldest = this.memory.keys().next().value as string;
      this.memory.delete(oldest);
    }
  }

  private bounded<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`idempotency store ${what} timed out after ${this.timeoutMs} ms`)),
        this.timeoutMs,
      );
    });
    p.catch(() => undefined); // settles later, if ever: nobody waits for it any more
    return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
  }

  private markDown(err: unknown, consequence: string): void {
    if (this.downSince === null) {
      this.downSince = Date.now();
      this.warn(
        `[notify] idempotency store unavailable (${err instanceof Error ? err.message : String(err)}): ${consequence}; paging goes on from this worker's memory until it is back`,
      );
    }
    this.scheduleProbe();
  }

  private scheduleProbe(): void {
    if (this.probeTimer) return;
    const wait = this.probeWaitMs;
    this.probeWaitMs = Math.min(this.probeWaitMs * 2, 30_000);
    this.probeTimer = setTimeout(() => {
      this.probeTimer = null;
      void this.probe();
    }, wait);
    this.probeTimer.unref();
  }

  /** Writes what did not land (or reads one key), off the delivery path; success brings the store back. */
  private probe(): Promise<void> {
    if (!this.flushing)
      this.flushing = (async () => {
        try {
          if (this.unsaved.size === 0) await this.bounded(this.inner.get('probe:best-effort'), 'read');
          // Until none is left: writes made while this runs are taken too.
          while (this.unsaved.size > 0)
            for (const [key, value] of [...this.unsaved]) {
              try {
                await this.bounded(this.inner.set(key, value), 'write');
              } catch (err) {
                if (this.refusedForGood(err, key)) continue;
                throw err;
              }
              if (this.unsaved.get(key) === value) this.unsaved.delete(key);
            }
          if (this.downSince !== null)
            this.warn(
              `[notify] idempotency store back after ${Math.round((Date.now() - this.downSince) / 1000)} s`,
            );
          this.downSince = null;
          this.probeWaitMs = this.probeEveryMs;
        } catch {
          if (this.downSince === null) this.downSince = Date.now();
          this.scheduleProbe();
        }
      })().finally(() => (this.flushing = null));
    return this.flushing;
  }
}
