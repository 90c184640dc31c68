// What ingress replicas share: the replay cache of signed requests, and (through
// @fastify/rate-limit's Redis store, see server.ts) the rate limits. With INGRESS_REDIS_URL every replica
// and every restart sees the same state; without it, this process's memory (one ingress).
//
// Redis away never refuses an alert: the rate limit is skipped (skipOnError) and the replay guard falls
// back to this process's memory, which still refuses a replay sent to the same replica; the signed
// timestamp window bounds the rest. Each fallback is logged once per outage and counted.
import Redis from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { ReplayCache } from './auth';

/**
 * A signature is claimed while its request runs (a concurrent copy is refused), kept for the replay window
 * once the request succeeded, and released when it failed (the sender may retry the same request).
 */
export interface ReplayGuard {
  /** true: first use, now claimed; false: already used, or in use by a request running now. */
  claim(key: string, nowMs: number): Promise<boolean>;
  /** The request succeeded: the signature stays used for the window. */
  commit(key: string, nowMs: number): Promise<void>;
  /** The request failed (503, 4xx after auth): the same signed request may come again. */
  release(key: string): Promise<void>;
}

/** How long a claim lasts if its replica dies before answering (longer than any request takes). */
const IN_FLIGHT_MS = 120_000;

/** One process's memory. */
export class MemoryReplayGuard implements ReplayGuard {
  private readonly used: ReplayCache;
  /** key -> when it was claimed; a claim older than IN_FLIGHT_MS is free again (its request never ended). */
  private readonly inFlight = new Map<string, number>();
  constructor(windowMs: number) {
    this.used = new ReplayCache(windowMs);
  }
  async claim(key: string, nowMs: number): Promise<boolean> {
    const claimedAt = this.inFlight.get(key);
    if (this.used.has(key, nowMs) || (claimedAt !== undefined && nowMs - claimedAt < IN_FLIGHT_MS))
      return false;
    this.inFlight.set(key, nowMs);
    // Bounded: stale claims go first.
    for (const [k, at] of this.inFlight) {
      if (nowMs - at >= IN_FLIGHT_MS || this.inFlight.size > 100_000) this.inFlight.delete(k);
      else break;
    }
    return true;
  }
  async commit(key: string, nowMs: number): Promise<void> {
    this.inFlight.delete(key);
    this.used.add(key, nowMs);
  }
  async release(key: string): Promise<void> {
    this.inFlight.delete(key);
  }
}

/**
 * Shared by every replica: `SET key NX` claims atomically (two replicas given the same signed request at
 * once: one wins), the value says whether it is in flight or used, and keys expire after twice the window.
 */
export class RedisReplayGuard implements ReplayGuard {
  private readonly fallback: MemoryReplayGuard;
  /** Keys this process claimed in memory while Redis was away: committed and released there. */
  private readonly local = new Set<string>();
  private outage = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly windowMs: number,
    private readonly log: FastifyBaseLogger,
    private readonly onFallback: () => void = () => undefined,
  ) {
    this.fallback = new MemoryReplayGuard(windowMs);
  }

  private key(k: string): string {
    return `${this.prefix}replay:${k}`;
  }

  async claim(key: string, nowMs: number): Promise<boolean> {
    try {
      const set = await this.redis.set(this.key(key), 'in-flight', 'PX', IN_FLIGHT_MS, 'NX');
      this.recovered();
      return set === 'OK';
    } catch (err) {
      this.down(err);
      const ok = await this.fallback.claim(key, nowMs);
      if (ok) this.local.add(key);
      return ok;
    }
  }

  async commit(key: string, nowMs: number): Promise<void> {
    if (this.local.delete(key)) return this.fallback.commit(key, nowMs);
    try {
      await this.redis.set(this.key(key), 'used', 'PX', this.windowMs * 2);
    } catch (err) {
      this.down(err);
      await this.fallback.commit(key, nowMs);
    }
  }

  async release(key: string): Promise<void> {
    if (this.local.delete(key)) return this.fallback.release(key);
    try {
      // Only our own claim: a signature another request already used up stays used.
      await this.redis.eval(
        "if redis.call('GET', KEYS[1]) == 'in-flight' then return redis.call('DEL', KEYS[1]) end return 0",
        1,
        this.key(key),
      );
    } catch (err) {
      this.down(err);
    }
  }

  private down(err: unknown): void {
    this.onFallback();
    if (this.outage) return;
    this.outage = true;
    this.log.error(
      { err: { message: (err as Error).message } },
      "Redis is unreachable: the replay cache falls back to this replica's memory until it is back",
    );
  }

  private recovered(): void {
    if (!this.outage) return;
    this.outage = false;
    this.log.info('Redis is back: the replay cache is shared again');
  }
}

/**
 * The client for INGRESS_REDIS_URL: fails fast while Redis is away (no offline queue, one try per command,
 * 500 ms to connect) so a request never waits on it, and reconnects in the background.
 */
export function connectIngressRedis(url: string, log: FastifyBaseLogger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 500,
    commandTimeout: 1000,
    retryStrategy: (times) => Math.min(times * 200, 5000),
    connectionName: 'incident-ingress',
  });
  let reported = false;
  redis.on('error', (err: Error) => {
    if (reported) return;
    reported = true;
    log.warn({ err: { message: err.message } }, 'Redis connection error (retrying in the background)');
  });
  redis.on('ready', () => {
    reported = false;
  });
  return redis;
}
