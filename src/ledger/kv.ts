// The KeyValueStore of the Slack and PagerDuty channels (idempotency markers and message references),
// kept in the ledger database so every worker process sees the same keys and a restart forgets nothing.
import type pg from 'pg';

/**
 * Idempotency and message-reference store of the notification channels. Declared here, beside the real one,
 * so the ledger needs nothing from the activities that use it.
 */
export interface KeyValueStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string): Promise<void>;
}

export class PgKeyValueStore implements KeyValueStore {
  constructor(private readonly db: Pick<pg.Pool, 'query'>) {}

  async get(key: string): Promise<string | undefined> {
    const res = await this.db.query<{ value: string }>('SELECT value FROM kv_store WHERE key = $1', [key]);
    return res.rows[0]?.value;
  }

  /** Insert or overwrite; writing the value already stored changes nothing (updated_at included). */
  async set(key: string, value: string): Promise<void> {
    await this.db.query(
      `INSERT INTO kv_store (key, value) VALUES ($1, $2)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
       WHERE kv_store.value IS DISTINCT FROM EXCLUDED.value`,
      [key, value],
    );
  }
}
