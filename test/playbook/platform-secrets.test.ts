// The platform's Redis (--requirepass) and PostgreSQL passwords come from environment variables named in
// the config (`passwordEnv`), like platform auth's `secretEnv`. Against a real redis-server started here
// with a password, and the real local PostgreSQL (trust auth: the password is accepted, so the test reads
// what pg was handed).
import { ApplicationFailure } from '@temporalio/common';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createCommandRunner } from '../../src/activities/platform/commands';
import type { PlatformContext } from '../../src/activities/platform/context';
import { createDatabaseChecks, createWithDb } from '../../src/activities/platform/database';
import { createPlatformHttp } from '../../src/activities/platform/http';
import { createRedisChecks } from '../../src/activities/platform/redis';
import { judgeReading } from '../../src/playbook/readings';
import {
  PlatformConfigError,
  PlatformSecretMissing,
  databaseConnectionString,
  resolvePlatformConfig,
  type PlatformConfig,
} from '../../src/platform/config';

const PG_URL = process.env.SIM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_VAR = `TEST_PLATFORM_REDIS_PASSWORD_${process.pid}`;
const DB_VAR = `TEST_PLATFORM_DB_PASSWORD_${process.pid}`;
const redisSecret = randomBytes(18).toString('hex');
// Characters a URL would misread unless encoded: @ : / % # ? and a space.
const dbSecret = `p@ss:w/rd%41 #?${randomBytes(6).toString('hex')}`;

let redisPort: number;
let redisServer: ChildProcess;
let redisDir: string;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

beforeAll(async () => {
  redisPort = await freePort();
  redisDir = mkdtempSync(path.join(os.tmpdir(), 'redis-requirepass-'));
  // The config on stdin (`redis-server -`), so the password is not on any command line.
  redisServer = spawn('redis-server', ['-'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
    redisServer.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    redisServer.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited ${code}: ${out}`));
    });
  });
  redisServer.stdin!.end(
    [
      `port ${redisPort}`,
      'bind 127.0.0.1',
      `requirepass ${redisSecret}`,
      'save ""',
      'appendonly no',
      `dir ${redisDir}`,
      'loglevel notice',
    ].join('\n') + '\n',
  );
  await ready;
});

afterAll(async () => {
  delete process.env[REDIS_VAR];
  delete process.env[DB_VAR];
  if (redisServer.exitCode === null) {
    const exited = new Promise((resolve) => redisServer.once('exit', resolve));
    redisServer.kill('SIGTERM');
    await exited;
  }
  rmSync(redisDir, { recursive: true, force: true });
});

function platform(overrides: Record<string, unknown>): PlatformConfig {
  return resolvePlatformConfig({ profile: 'deployed', overrides });
}

function context(cfg: PlatformConfig): PlatformContext {
  return {
    cfg,
    http: createPlatformHttp(cfg),
    commands: createCommandRunner(cfg),
    withDb: createWithDb(cfg),
  };
}

const redisAt = (over: Record<string, unknown> = {}) =>
  createRedisChecks(
    context(platform({ redis: { url: `redis://127.0.0.1:${redisPort}`, connectTimeoutMs: 2_000, ...over } })),
  );

describe('config: passwordEnv beside the Redis and database URLs', () => {
  test('names an environment variable, holds no secret, and a URL with its own password is refused', () => {
    const cfg = platform({
      redis: { passwordEnv: 'REDIS_PASSWORD' },
      database: { passwordEnv: 'POSTGRES_PASSWORD' },
    });
    expect(cfg.redis.passwordEnv).toBe('REDIS_PASSWORD');
    expect(cfg.database.passwordEnv).toBe('POSTGRES_PASSWORD');
    expect(() => platform({ redis: { passwordEnv: 'not a variable' } })).toThrow(
      /platform\.redis\.passwordEnv/,
    );
    expect(() => platform({ database: { passwordEnv: '' } })).toThrow(PlatformConfigError);
    expect(() =>
      platform({ database: { url: 'postgres://admin:inline@db:5432/usdcop_trading', passwordEnv: 'PW' } }),
    ).toThrow(/platform\.database\.passwordEnv: the url carries a password/);
    expect(() => platform({ redis: { url: 'redis://:inline@redis:6379', passwordEnv: 'PW' } })).toThrow(
      /platform\.redis\.passwordEnv/,
    );
    // Without passwordEnv a URL may still carry its password (tests, local setups): unchanged behaviour.
    expect(platform({ redis: { url: 'redis://:inline@redis:6379' } }).redis.url).toBe(
      'redis://:inline@redis:6379',
    );
  });

  test('a missing or empty variable is an error naming the key and the variable', () => {
    const cfg = platform({ database: { url: PG_URL, passwordEnv: DB_VAR } });
    expect(() => databaseConnectionString(cfg, {})).toThrow(PlatformSecretMissing);
    expect(() => databaseConnectionString(cfg, {})).toThrow(
      `platform.database.passwordEnv names the environment variable ${DB_VAR}, which is not set in this worker's environment`,
    );
    expect(() => databaseConnectionString(cfg, { [DB_VAR]: '' })).toThrow(/which is empty/);
  });
});

describe('Redis with --requirepass (a real redis-server on loopback)', () => {
  test('without a password the server refuses: the check is unknown (NOAUTH), never evidence', async () => {
    delete process.env[REDIS_VAR];
    const f = await redisAt().checkRedis();
    expect(f.outcome).toBe('unknown');
    expect(f.text).toMatch(/NOAUTH/);
  });

  test('with passwordEnv set: PING answers PONG, judged ok; the secret is in no finding', async () => {
    process.env[REDIS_VAR] = redisSecret;
    const f = await redisAt({ passwordEnv: REDIS_VAR }).checkRedis();
    expect(f).toMatchObject({ outcome: 'answered', data: { reachable: true } });
    expect(f.text).toMatch(/PONG/);
    expect(judgeReading(f.check, f.data)).toBe('ok');
    expect(JSON.stringify(f)).not.toContain(redisSecret);
  });

  test('the variable unset: not attempted, the finding names the variable; a wrong one: refused', async () => {
    delete process.env[REDIS_VAR];
    const missing = await redisAt({ passwordEnv: REDIS_VAR }).checkRedis();
    expect(missing.outcome).toBe('unknown');
    expect(missing.text).toBe(
      `Redis PING not attempted: platform.redis.passwordEnv names the environment variable ${REDIS_VAR}, which is not set in this worker's environment`,
    );
    const wrong = `${redisSecret}x`;
    process.env[REDIS_VAR] = wrong;
    const refused = await redisAt({ passwordEnv: REDIS_VAR }).checkRedis();
    expect(refused.outcome).toBe('unknown');
    expect(refused.text).toMatch(/WRONGPASS|invalid password/i);
    expect(refused.text).not.toContain(wrong);
  });
});

describe('PostgreSQL with passwordEnv (the real local server)', () => {
  test('pg is handed exactly the secret (special characters survive the URL); SELECT 1 answers', async () => {
    process.env[DB_VAR] = dbSecret;
    const cfg = platform({ database: { url: PG_URL, passwordEnv: DB_VAR } });
    const ctx = context(cfg);
    const seen = await ctx.withDb(async (db) => {
      const r = await db.query<{ u: string; d: string }>('SELECT current_user AS u, current_database() AS d');
      return { password: db.password, user: db.user, database: db.database, row: r.rows[0] };
    });
    const url = new URL(PG_URL);
    expect(seen.password).toBe(dbSecret);
    expect(seen.user).toBe(decodeURIComponent(url.username));
    expect(seen.row).toEqual({ u: decodeURIComponent(url.username), d: url.pathname.slice(1) });
    const f = await createDatabaseChecks(ctx).checkDatabase();
    expect(f).toMatchObject({ outcome: 'answered', data: { reachable: true } });
    expect(JSON.stringify(f)).not.toContain(dbSecret);
    expect(JSON.stringify(cfg)).not.toContain(dbSecret);
  });

  test('the variable unset: the checks say which variable, the connection is a non-retryable config failure', async () => {
    delete process.env[DB_VAR];
    const ctx = context(platform({ database: { url: PG_URL, passwordEnv: DB_VAR } }));
    const f = await createDatabaseChecks(ctx).checkDatabase();
    expect(f.outcome).toBe('unknown');
    expect(f.text).toContain(`platform.database.passwordEnv names the environment variable ${DB_VAR}`);
    expect(judgeReading(f.check, f.data)).toBe('unknown'); // our config, never evidence against the database
    const err = await ctx.withDb(async () => 'connected').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'PlatformConfig', nonRetryable: true });
  });
});
