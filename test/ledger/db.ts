// A fresh ledger database per test file: dropped if left over from an earlier run, created and migrated.
import pg from 'pg';
import { createLedgerPool, migrateLedger } from '../../src/ledger/db';

const SERVER = process.env.LEDGER_TEST_SERVER_URL ?? 'postgres://postgres@127.0.0.1:5432';

export interface TestLedger {
  url: string;
  pool: pg.Pool;
  close(): Promise<void>;
}

export function testLedgerUrl(name: string): string {
  return `${SERVER}/incident_ledger_test_${name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`;
}

export async function dropDatabase(url: string): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export async function freshLedger(name: string): Promise<TestLedger> {
  const url = testLedgerUrl(name);
  await dropDatabase(url);
  await migrateLedger(url);
  const pool = createLedgerPool(url);
  return { url, pool, close: () => pool.end() };
}
