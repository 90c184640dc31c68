// The simulator's state in real PostgreSQL tables, so the engine's SQL checks (3.2 recent trades,
// 3.3 freshness, 3.4 pg_stat_activity) run against rows and backends that really exist.
import { Client, Pool } from 'pg';

export const USD_COP = 'USD/COP';
/** The real table holds several pairs: freshness must filter by symbol (trading-platform.md). */
const OTHER_SYMBOL = 'USD/MXN';
const LONG_QUERY_APP = 'usdcop-sim-long-query';

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS usdcop_m5_ohlcv (
  time timestamptz NOT NULL,
  symbol text NOT NULL DEFAULT 'USD/COP',
  open double precision NOT NULL,
  high double precision NOT NULL,
  low double precision NOT NULL,
  close double precision NOT NULL,
  volume double precision NOT NULL DEFAULT 0,
  source text NOT NULL DEFAULT 'twelvedata',
  PRIMARY KEY (time, symbol)
);
-- 3.3 step 3 queries the playbook's name: a view keeps both names on the same rows.
CREATE OR REPLACE VIEW ohlcv_usdcop_5m AS
  SELECT time AS "timestamp", open, high, low, close, volume, source
  FROM usdcop_m5_ohlcv WHERE symbol = 'USD/COP';
CREATE TABLE IF NOT EXISTS trades_history (
  id bigserial PRIMARY KEY,
  model_id text NOT NULL,
  side text NOT NULL CHECK (side IN ('LONG', 'SHORT')),
  entry_price double precision NOT NULL,
  exit_price double precision,
  entry_time timestamptz NOT NULL,
  exit_time timestamptz,
  pnl_usd double precision,
  pnl_pct double precision,
  exit_reason text,
  created_at timestamptz NOT NULL DEFAULT now(),
  -- 3.2 diagnosis step 3 selects trade_id, signal, pnl: generated so both queries work.
  trade_id bigint GENERATED ALWAYS AS (id) STORED,
  signal text GENERATED ALWAYS AS (side) STORED,
  pnl double precision GENERATED ALWAYS AS (pnl_usd) STORED
);
CREATE INDEX IF NOT EXISTS trades_history_created_at_idx ON trades_history (created_at DESC);
CREATE TABLE IF NOT EXISTS trading_operations_state (
  id smallint PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  mode text NOT NULL DEFAULT 'normal' CHECK (mode IN ('normal', 'paused', 'killed')),
  kill_switch_active boolean NOT NULL DEFAULT false,
  activated_at timestamptz,
  activated_by text,
  reason text,
  updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO trading_operations_state (id) VALUES (1) ON CONFLICT DO NOTHING;
`;

// Bars on the 5-minute grid; prices are a deterministic wave so repeated seeds are identical.
const BAR_SELECT = `
  SELECT t, s.symbol,
    s.base * (1 + 0.002 * sin(extract(epoch FROM t) / 3600)) AS open,
    s.base * (1 + 0.002 * sin(extract(epoch FROM t) / 3600)) * 1.0006 AS high,
    s.base * (1 + 0.002 * sin(extract(epoch FROM t) / 3600)) * 0.9994 AS low,
    s.base * (1 + 0.002 * sin(extract(epoch FROM t) / 3600)) * 1.0002 AS close,
    1000 + (extract(epoch FROM t)::bigint / 300) % 500 AS volume,
    'twelvedata' AS source`;
const GRID_NOW = `date_bin('5 minutes', now(), timestamptz '2000-01-01')`;
const SYMBOLS = `(VALUES ('${USD_COP}', 4150.0::float8), ('${OTHER_SYMBOL}', 17.2::float8)) AS s(symbol, base)`;

export interface OperationsRow {
  mode: 'normal' | 'paused' | 'killed';
  kill_switch_active: boolean;
  activated_at: Date | null;
  activated_by: string | null;
  reason: string | null;
}

export interface Freshness {
  latest: Date | null;
  stalenessSeconds: number | null;
}

export interface TradeStats {
  total_trades: number;
  winning_trades: number;
  total_pnl_usd: number;
  consecutive_losses: number;
}

export interface LongQueryInfo {
  pid: number;
  seconds: number;
  startedAt: string;
  active: boolean;
  endedBy: 'cleared' | 'finished' | 'terminated' | null;
}

function databaseName(url: URL): string {
  const name = decodeURIComponent(url.pathname.replace(/^\//, ''));
  // CREATE DATABASE cannot take a bind parameter, so the name is restricted instead.
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(name))
    throw new Error(`simulator database name must be a plain identifier, got "${name}"`);
  return name;
}

/** Creates the database through the `postgres` maintenance database when it is absent. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = databaseName(url);
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } catch (err) {
        // Two test files may race to create it: "already exists" is success.
        const code = (err as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') throw err;
      }
    }
  } finally {
    await client.end();
  }
}

export class SimDb {
  readonly pool: Pool;
  private longQuery: { client: Client; info: LongQueryInfo } | null = null;
  private injectedLosses: number[] = [];

  constructor(readonly databaseUrl: string) {
    this.pool = new Pool({ connectionString: databaseUrl, max: 6, application_name: 'usdcop-simulator' });
    // An idle client killed by pg_terminate_backend (3.4 remediation) must not crash the process.
    this.pool.on('error', () => undefined);
  }

  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      // Serialise concurrent simulators on one database: CREATE ... IF NOT EXISTS is not race-free.
      await client.query(`SELECT pg_advisory_lock(hashtext('usdcop_simulator_migrate'))`);
      try {
        await client.query(SCHEMA_SQL);
      } finally {
        await client.query(`SELECT pg_advisory_unlock(hashtext('usdcop_simulator_migrate'))`);
      }
    } finally {
      client.release();
    }
  }

  /** 24 hours of fresh bars for two pairs, 20 mixed trades, operations normal. */
  async seed(): Promise<void> {
    this.injectedLosses = [];
    await this.pool.query(`
      TRUNCATE usdcop_m5_ohlcv, trades_history RESTART IDENTITY;
      UPDATE trading_operations_state SET mode = 'normal', kill_switch_active = false, activated_at = NULL,
        activated_by = NULL, reason = NULL, updated_at = now();
      INSERT INTO usdcop_m5_ohlcv (time, symbol, open, high, low, close, volume, source)
        ${BAR_SELECT}
        FROM generate_series(${GRID_NOW} - interval '24 hours', ${GRID_NOW}, interval '5 minutes') AS t
        CROSS JOIN ${SYMBOLS};
      INSERT INTO trades_history (model_id, side, entry_price, exit_price, entry_time, exit_time, pnl_usd, pnl_pct, exit_reason, created_at)
        SELECT 'ppo_primary', CASE WHEN i % 2 = 0 THEN 'LONG' ELSE 'SHORT' END, 4150, 4150 + pnl / 10,
          now() - i * interval '70 minutes', now() - i * interval '70 minutes' + interval '30 minutes',
          pnl, pnl / 100, CASE WHEN pnl > 0 THEN 'TAKE_PROFIT' ELSE 'STOP_LOSS' END,
          now() - i * interval '70 minutes' + interval '30 minutes'
        FROM (SELECT i, CASE WHEN i % 3 = 0 THEN -35.5 ELSE 52.25 END AS pnl FROM generate_series(1, 20) AS i) AS g;
    `);
  }

  async isEmpty(): Promise<boolean> {
    const r = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM usdcop_m5_ohlcv`);
    return Number(r.rows[0]?.n ?? 0) === 0;
  }

  /** Appends bars up to the current 5-minute slot; USD/COP only when it is not faulted stale. */
  async freshen(includeUsdCop: boolean): Promise<void> {
    const symbols = includeUsdCop ? [USD_COP, OTHER_SYMBOL] : [OTHER_SYMBOL];
    await this.pool.query(
      `INSERT INTO usdcop_m5_ohlcv (time, symbol, open, high, low, close, volume, source)
        ${BAR_SELECT}
        FROM ${SYMBOLS}
        CROSS JOIN LATERAL generate_series(
          coalesce(date_bin('5 minutes', (SELECT max(time) FROM usdcop_m5_ohlcv o WHERE o.symbol = s.symbol), timestamptz '2000-01-01') + interval '5 minutes',
                   ${GRID_NOW} - interval '24 hours'),
          ${GRID_NOW}, interval '5 minutes') AS t
        WHERE s.symbol = ANY($1::text[])
        ON CONFLICT (time, symbol) DO NOTHING`,
      [symbols],
    );
  }

  /** 3.3: the latest USD/COP bar moved `minutes` into the past; nothing newer remains. */
  async makeStale(minutes: number): Promise<void> {
    await this.pool.query(
      `WITH gone AS (DELETE FROM usdcop_m5_ohlcv WHERE symbol = $1 AND time > now() - $2 * interval '1 minute')
       INSERT INTO usdcop_m5_ohlcv (time, symbol, open, high, low, close, volume, source)
         VALUES (now() - $2 * interval '1 minute', $1, 4150, 4152, 4148, 4151, 900, 'twelvedata')
         ON CONFLICT (time, symbol) DO NOTHING`,
      [USD_COP, minutes],
    );
  }

  async freshness(): Promise<Freshness> {
    // The real deployment's freshness query (trading-platform.md, Database).
    const r = await this.pool.query<{ latest: Date | null; staleness: number | null }>(
      `SELECT max(time) AS latest, extract(epoch FROM now() - max(time))::float8 AS staleness FROM usdcop_m5_ohlcv WHERE symbol = $1`,
      [USD_COP],
    );
    const row = r.rows[0];
    return { latest: row?.latest ?? null, stalenessSeconds: row?.staleness ?? null };
  }

  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  async operations(): Promise<OperationsRow> {
    const r = await this.pool.query<OperationsRow>(
      `SELECT mode, kill_switch_active, activated_at, activated_by, reason FROM trading_operations_state WHERE id = 1`,
    );
    const row = r.rows[0];
    if (!row) throw new Error('trading_operations_state row missing');
    return row;
  }

  async setOperations(next: OperationsRow): Promise<OperationsRow> {
    const r = await this.pool.query<OperationsRow>(
      `UPDATE trading_operations_state SET mode = $1, kill_switch_active = $2, activated_at = $3, activated_by = $4,
         reason = $5, updated_at = now() WHERE id = 1
       RETURNING mode, kill_switch_active, activated_at, activated_by, reason`,
      [next.mode, next.kill_switch_active, next.activated_at, next.activated_by, next.reason],
    );
    const row = r.rows[0];
    if (!row) throw new Error('trading_operations_state row missing');
    return row;
  }

  async tradeStats(model: string, hours: number): Promise<TradeStats> {
    const r = await this.pool.query<{ total: string; wins: string; pnl: number | null; streak: string }>(
      `WITH recent AS (
         SELECT pnl_usd, created_at FROM trades_history WHERE model_id = $1 AND created_at > now() - $2 * interval '1 hour'
       )
       SELECT count(*) AS total, count(*) FILTER (WHERE pnl_usd > 0) AS wins, sum(pnl_usd)::float8 AS pnl,
         (SELECT count(*) FROM trades_history t WHERE t.model_id = $1 AND t.pnl_usd < 0 AND t.created_at >
           coalesce((SELECT max(created_at) FROM trades_history w WHERE w.model_id = $1 AND w.pnl_usd >= 0), '-infinity')) AS streak
       FROM recent`,
      [model, hours],
    );
    const row = r.rows[0];
    return {
      total_trades: Number(row?.total ?? 0),
      winning_trades: Number(row?.wins ?? 0),
      total_pnl_usd: Number(row?.pnl ?? 0),
      consecutive_losses: Number(row?.streak ?? 0),
    };
  }

  /** 3.2 "loss streak": the newest `count` trades become losses; replaces an earlier injection. */
  async setConsecutiveLosses(count: number): Promise<void> {
    if (this.injectedLosses.length > 0) {
      await this.pool.query('DELETE FROM trades_history WHERE id = ANY($1::bigint[])', [this.injectedLosses]);
      this.injectedLosses = [];
    }
    if (count === 0) return;
    const r = await this.pool.query<{ id: string }>(
      // Spread between the newest existing trade and now, so the streak is the most recent run.
      `WITH last AS (SELECT coalesce(max(created_at), now() - interval '1 day') AS t FROM trades_history),
       slots AS (SELECT k, last.t + k * (now() - last.t) / ($1::int + 1) AS at FROM last, generate_series(1, $1::int) AS k)
       INSERT INTO trades_history (model_id, side, entry_price, exit_price, entry_time, exit_time, pnl_usd, pnl_pct, exit_reason, created_at)
       SELECT 'ppo_primary', CASE WHEN k % 2 = 0 THEN 'LONG' ELSE 'SHORT' END, 4150, 4146,
         at - interval '5 minutes', at, -(40 + k), -(40 + k) / 100.0, 'STOP_LOSS', at
       FROM slots RETURNING id`,
      [count],
    );
    this.injectedLosses = r.rows.map((row) => Number(row.id));
  }

  /** 3.4: a real backend running `pg_sleep`, visible in pg_stat_activity under its own pid. */
  async startLongQuery(seconds: number): Promise<LongQueryInfo> {
    await this.stopLongQuery();
    const client = new Client({ connectionString: this.databaseUrl, application_name: LONG_QUERY_APP });
    await client.connect();
    const pidRow = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const info: LongQueryInfo = {
      pid: pidRow.rows[0]?.pid ?? 0,
      seconds,
      startedAt: new Date().toISOString(),
      active: true,
      endedBy: null,
    };
    const entry = { client, info };
    this.longQuery = entry;
    // Terminated by the engine's remediation (pg_terminate_backend) or cancelled by us: record, never crash.
    client.on('error', () => undefined);
    client
      .query('SELECT pg_sleep($1) /* usdcop-sim long-running query */', [seconds])
      .then(() => {
        info.endedBy ??= 'finished';
      })
      .catch(() => {
        info.endedBy ??= 'terminated';
      })
      .finally(() => {
        info.active = false;
        void client.end().catch(() => undefined);
      });
    return info;
  }

  async stopLongQuery(): Promise<void> {
    const current = this.longQuery;
    this.longQuery = null;
    if (!current) return;
    if (current.info.active) {
      current.info.endedBy = 'cleared';
      await this.pool.query('SELECT pg_cancel_backend($1)', [current.info.pid]);
      // Wait until the backend has really left pg_stat_activity's active set.
      for (let i = 0; i < 100 && current.info.active; i++) await new Promise((r) => setTimeout(r, 20));
    }
    await current.client.end().catch(() => undefined);
  }

  longQueryInfo(): LongQueryInfo | null {
    return this.longQuery ? { ...this.longQuery.info } : null;
  }

  async close(): Promise<void> {
    await this.stopLongQuery();
    await this.pool.end();
  }
}
