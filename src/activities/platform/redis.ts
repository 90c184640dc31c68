// 3.1 diagnosis / 5.2 "Redis": the one Redis check. A new client per PING with retries off, so an
// unreachable Redis answers a finding within the connect timeout instead of a reconnect loop.
import Redis from 'ioredis';
import type { CheckFinding, PlatformContext } from './context';
import { messageOf } from './http';

export function createRedisChecks({ cfg }: PlatformContext) {
  return {
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
          outcome: 'answered',
          text: `Redis PING -> ${pong} in ${latencyMs} ms`,
          data: { reachable: pong === 'PONG', latencyMs },
        };
      } catch (err) {
        return {
          check: 'redis',
          outcome: 'unknown',
          text: `Redis PING failed: ${messageOf(err)}`,
          data: { reachable: false, latencyMs: null },
        };
      } finally {
        redis.disconnect();
      }
    },
  };
}
