// 3.1 diagnosis / 5.2 "Redis": the one Redis check. A new client per PING with retries off, so an
// unreachable Redis answers a finding within the connect timeout instead of a reconnect loop.
import Redis from 'ioredis';
import { redisConnection } from '../../platform/config';
import type { CheckFinding } from './finding';
import type { PlatformContext } from './context';
import { messageOf } from './http';

export function createRedisChecks({ cfg }: PlatformContext) {
  return {
    /**
     * 3.1 diagnosis / 5.2 "Redis": PING with short timeouts and no reconnect storm, authenticated with the
     * `passwordEnv` secret when one is configured (the real Redis runs with --requirepass). An override URL
     * is used as given: the platform's password never goes to another address.
     */
    async checkRedis(
      urlOverride?: string,
    ): Promise<CheckFinding<{ reachable: boolean; latencyMs: number | null }>> {
      let url: string;
      let password: string | undefined;
      try {
        ({ url, password } = urlOverride ? { url: urlOverride, password: undefined } : redisConnection(cfg));
      } catch (err) {
        return {
          check: 'redis',
          outcome: 'unknown',
          text: `Redis PING not attempted: ${messageOf(err)}`,
          data: { reachable: false, latencyMs: null },
        };
      }
      const redis = new Redis(url, {
        ...(password !== undefined ? { password } : {}),
        lazyConnect: true,
        connectTimeout: cfg.redis.connectTimeoutMs,
        commandTimeout: cfg.redis.connectTimeoutMs,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        retryStrategy: () => null,
        reconnectOnError: () => false,
      });
      // The server's own refusal (NOAUTH, WRONGPASS) arrives as an event; the failed call only says
      // "Connection is closed.", so the finding carries both.
      let refusal: string | null = null;
      redis.on('error', (err: unknown) => {
        refusal = messageOf(err);
      });
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
        const msg = messageOf(err);
        return {
          check: 'redis',
          outcome: 'unknown',
          text: `Redis PING failed: ${msg}${refusal !== null && refusal !== msg ? ` (${refusal})` : ''}`,
          data: { reachable: false, latencyMs: null },
        };
      } finally {
        redis.disconnect();
      }
    },
  };
}
