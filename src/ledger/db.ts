// The incident ledger database: connection, create-if-absent, and migrations (node-pg-migrate).
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

export const DEFAULT_LEDGER_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/incident_ledger';
export const MIGRATIONS_DIR = path.resolve(__dirname, '..', '..', 'migrations');
export const MIGRATIONS_TABLE = 'pgmigrations';

const run = promisify(execFile);

/** The database name of a connection URL (the path without its slash). */
export function databaseName(databaseUrl: string): string {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  if (!name) throw new Error('ledger database URL has no database name');
  return name;
}

/** The URL with only the credentials and host kept, for logs. */
export function redactUrl(databaseUrl: string): string {
  const u = new URL(databaseUrl);
  if (u.password) u.password = '***';
  return u.toString();
}

/** Creates the database if absent, connecting to the server's `postgres` database. Safe to race. */
export async function ensureDatabase(databaseUrl: string): Promise<boolean> {
  const name = databaseName(databaseUrl);
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
      return true;
    } catch (err) {
      // 42P04 duplicate_database; 23505 when two creators race on pg_database's unique index.
      const code = (err as { code?: string }).code;
      if (code === '42P04' || code === '23505') return false;
      throw err;
    }
  } finally {
    await client.end();
  }
}

export interface MigrateResult {
  created: boolean;
  /** Names of the migrations applied by this call (empty when the schema was current). */
  applied: string[];
}

/**
 * Creates the database if absent and runs every pending migration in `migrations/`.
 *
 * node-pg-migrate 9 is an ES module only; this project is CommonJS and its tests run under jest's module
 * system, which cannot load it. So its own CLI runs in a child process (one code path for the worker,
 * `npm run migrate` and tests). Its advisory lock in `wait` mode makes concurrent worker starts queue up.
 */
export async function migrateLedger(
  databaseUrl: string,
  opts: { direction?: 'up' | 'down'; count?: number } = {},
): Promise<MigrateResult> {
  const created = await ensureDatabase(databaseUrl);
  const bin = require.resolve('node-pg-migrate/bin/node-pg-migrate');
  const args = [
    bin,
    opts.direction ?? 'up',
    ...(opts.count === undefined ? [] : [String(opts.count)]),
    '--migrations-dir',
    MIGRATIONS_DIR,
    '--migrations-table',
    MIGRATIONS_TABLE,
    '--database-url-var',
    'LEDGER_MIGRATE_DATABASE_URL',
    '--advisory-lock-mode',
    'wait',
    '--check-order',
  ];
  try {
    const { stdout } = await run(process.execPath, args, {
      env: { ...process.env, LEDGER_MIGRATE_DATABASE_URL: databaseUrl },
      cwd: path.dirname(MIGRATIONS_DIR),
      timeout: 120_000,
    });
    const applied = [...stdout.matchAll(/^> - (.+)$/gm)].map((m) => m[1]!.trim());
    return { created, applied };
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    const detail = (e.stderr || e.stdout || e.message).trim().split('\n').slice(-5).join('\n');
    throw new Error(`ledger migration failed on ${redactUrl(databaseUrl)}: ${detail}`);
  }
}

/** A pool for the ledger. `allowExitOnIdle` so a worker or script exits once its work is done. */
export function createLedgerPool(databaseUrl: string, opts: pg.PoolConfig = {}): pg.Pool {
  // Short timeouts: a database that is down or stuck fails a write fast (the activity retries), never hangs it.
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: 5,
    allowExitOnIdle: true,
    connectionTimeoutMillis: 5_000,
    statement_timeout: 15_000,
    query_timeout: 20_000,
    ...opts,
  });
  // An idle client losing its connection (server restart) must not crash the worker; the next query reconnects.
  pool.on('error', (err) => console.warn(`[ledger] idle connection error: ${err.message}`));
  return pool;
}
