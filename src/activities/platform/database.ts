// The trading database checks (pg): 3.2 recent trades, 3.3 data freshness, 3.4 connections and
// long-running queries, 3.1/5.2 `SELECT 1`. Table and column names come from the platform profile, so
// every identifier is quoted (escapeIdentifier) and every value is a bind parameter.
import { ApplicationFailure } from '@temporalio/common';
import { Client as PgClient, escapeIdentifier } from 'pg';
import { consecutiveLosses, type LongQuery } from '../../playbook/procedures';
import {
  PlatformConfigError,
  databaseConnectionString,
  databaseName,
  type PlatformConfig,
} from '../../platform/config';
import type { CheckFinding } from './finding';
import { messageOf } from './http';

export type WithDb = <T>(fn: (db: PgClient) => Promise<T>) => Promise<T>;

/**
 * A fresh connection per call, always closed: the engine holds no connection to the trading database
 * between checks (in 3.4 the connections may be what is exhausted), and the timeouts keep a stuck server
 * from stalling a check past its activity timeout.
 */
export function createWithDb(cfg: PlatformConfig): WithDb {
  return async function withDb<T>(fn: (db: PgClient) => Promise<T>): Promise<T> {
    let connectionString: string;
    try {
      // Holds the `passwordEnv` secret: handed to pg only, never logged or put in a finding.
      connectionString = databaseConnectionString(cfg);
    } catch (err) {
      // Our configuration, not the database: a retry cannot help (the checks report it as `unknown`).
      if (err instanceof PlatformConfigError)
        throw ApplicationFailure.nonRetryable(err.message, 'PlatformConfig');
      throw err;
    }
    const db = new PgClient({
      connectionString,
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
  };
}

/** `schema.table` from the profile, each part quoted. */
const ident = (name: string) =>
  name
    .split('.')
    .map((p) => escapeIdentifier(p))
    .join('.');

/** The SQLSTATE of an error PostgreSQL itself sent (pg's DatabaseError carries a severity); else null. */
function serverSqlState(err: unknown): string | null {
  const e = err as { code?: unknown; severity?: unknown } | null;
  return e && typeof e.severity === 'string' && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)
    ? e.code
    : null;
}

export function createDatabaseChecks({ cfg, withDb }: { cfg: PlatformConfig; withDb: WithDb }) {
  return {
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
          outcome: 'answered',
          text: `${rows.rowCount} trades in 24h, PnL ${pnlSum.toFixed(2)}, win rate ${winRate === null ? '?' : `${(winRate * 100).toFixed(0)}%`}, ${losses} consecutive losses`,
          data: { count: rows.rowCount ?? 0, consecutiveLosses: losses, winRate, pnlSum },
        };
      } catch (err) {
        return {
          check: 'recent-trades',
          outcome: 'unknown',
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
        return {
          check: 'data-freshness',
          outcome: 'answered',
          text:
            latest && minutes !== null
              ? `latest ${o.symbol} bar ${latest}, ${minutes.toFixed(1)} minutes old`
              : `no ${o.symbol} bars in ${o.table} (empty table, or the wrong table or symbol)`,
          data: { latest, stalenessMinutes: minutes },
        };
      } catch (err) {
        return {
          check: 'data-freshness',
          outcome: 'unknown',
          text: `freshness query failed: ${messageOf(err)}`,
          data: { latest: null, stalenessMinutes: null },
        };
      }
    },

    /** 3.1 diagnosis / 3.4 / 5.2 "Database": `SELECT 1`, timed. */
    async checkDatabase(): Promise<
      CheckFinding<{
        reachable: boolean;
        pingMs: number | null;
        error: string | null;
        /** PostgreSQL's SQLSTATE when the server itself answered with the error (53300, 53100, ...). */
        sqlState: string | null;
      }>
    > {
      const started = performance.now();
      try {
        await withDb((db) => db.query('SELECT 1 AS health_check'));
        const pingMs = Math.round(performance.now() - started);
        return {
          check: 'database',
          outcome: 'answered',
          text: `SELECT 1 on ${databaseName(cfg)} answered in ${pingMs} ms`,
          data: { reachable: true, pingMs, error: null, sqlState: null },
        };
      } catch (err) {
        // An error the server sent (it has a severity and a SQLSTATE) is a measurement; a connection that
        // never got an answer (refused, DNS, timeout) is not.
        const sqlState = serverSqlState(err);
        return {
          check: 'database',
          outcome: sqlState ? 'answered' : 'unknown',
          text: `SELECT 1 on ${databaseName(cfg)} failed: ${messageOf(err)}${sqlState ? ` (SQLSTATE ${sqlState})` : ''}`,
          data: { reachable: false, pingMs: null, error: messageOf(err), sqlState },
        };
      }
    },

    /** 3.4 "Check active connections": pg_stat_activity counts for the trading database and the limit. */
    async checkDatabaseConnections(): Promise<
      CheckFinding<{
        connections: number | null;
        active: number | null;
        limit: number | null;
        /** Who holds the connections (application_name, else the user), most first: shown to the approver. */
        holders: { who: string; connections: number }[];
      }>
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
          const holders = await db.query<{ who: string; n: string }>(
            `SELECT coalesce(nullif(application_name, ''), usename::text, '?') AS who, count(*) AS n
             FROM pg_stat_activity WHERE datname = $1 GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5`,
            [databaseName(cfg)],
          );
          return {
            connections: Number(counts.rows[0]?.total ?? 0),
            active: Number(counts.rows[0]?.active ?? 0),
            limit: max || null,
            holders: holders.rows.map((h) => ({ who: h.who, connections: Number(h.n) })),
          };
        });
        return {
          check: 'database-connections',
          outcome: 'answered',
          text: `${r.connections} connections to ${databaseName(cfg)} (${r.active} active) of a limit of ${r.limit ?? '?'}; held by ${r.holders.map((h) => `${h.who} (${h.connections})`).join(', ') || 'nobody'}`,
          data: r,
        };
      } catch (err) {
        return {
          check: 'database-connections',
          outcome: 'unknown',
          text: `pg_stat_activity query failed: ${messageOf(err)}`,
          data: { connections: null, active: null, limit: null, holders: [] },
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
          outcome: 'answered',
          text: queries.length
            ? `${queries.length} queries running over ${cfg.database.longQueryMinutes} min: ${queries.map((q) => `pid ${q.pid} (${Math.round(q.durationSeconds)}s)`).join(', ')}`
            : `no query running over ${cfg.database.longQueryMinutes} min`,
          data: { queries },
        };
      } catch (err) {
        return {
          check: 'long-running-queries',
          outcome: 'unknown',
          text: `long-running query check failed: ${messageOf(err)}`,
          data: { queries: [] },
        };
      }
    },
  };
}
