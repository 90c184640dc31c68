// 6.4 targets by the highest severity an incident reached (as 6.1 sets the post-mortem), on real PostgreSQL:
// a P0 downgraded to P2 before resolution still answers to the 30-minute P0 MTTR target. Rows written by a
// worker that predates the `highest_severity` column, and rows from before the migration, fall back to the
// snapshot's highestSeverity, then to the final severity.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { migrateLedger } from '../../src/ledger/db';
import { computeReport, formatReport } from '../../src/ledger/report';
import { loadReportRows } from '../../src/ledger/report-rows';
import { LedgerStore } from '../../src/ledger/store';
import type { IncidentStatus } from '../../src/playbook/contract/incident';
import { freshLedger, type TestLedger } from '../ledger/db';
import { snapshot } from '../ledger/fixtures';

const run = promisify(execFile);
let ledger: TestLedger;

// October 2026 on the COT calendar.
const SINCE = Date.parse('2026-10-01T05:00:00.000Z');
const UNTIL = Date.parse('2026-11-01T05:00:00.000Z');

const raised = (s: IncidentStatus, highest: IncidentStatus['severity']): IncidentStatus => ({
  ...s,
  highestSeverity: highest,
});

const INCIDENTS: IncidentStatus[] = [
  // Opened P0, downgraded to P2, resolved after 45 min: misses the P0 target.
  raised(
    snapshot({
      id: 'p0-downgraded',
      severity: 'P2',
      openedAt: '2026-10-05T15:00:00.000Z',
      mtta: 120,
      mttr: 2700,
    }),
    'P0',
  ),
  snapshot({ id: 'p0-plain', severity: 'P0', openedAt: '2026-10-06T15:00:00.000Z', mtta: 60, mttr: 1500 }),
  snapshot({ id: 'p2-plain', severity: 'P2', openedAt: '2026-10-07T15:00:00.000Z', mtta: 600, mttr: 3600 }),
  // Written by an older worker (no highest_severity) whose snapshot says P1; final P3.
  raised(
    snapshot({ id: 'legacy', severity: 'P3', openedAt: '2026-10-08T15:00:00.000Z', mtta: 30, mttr: 900 }),
    'P1',
  ),
  // A snapshot from before highestSeverity existed: its final severity is all there is.
  snapshot({ id: 'ancient', severity: 'P3', openedAt: '2026-10-09T15:00:00.000Z', mtta: 30, mttr: 900 }),
];

const column = async () =>
  Object.fromEntries(
    (
      await ledger.pool.query<{ id: string; highest_severity: string | null }>(
        'SELECT id, highest_severity FROM incidents ORDER BY id',
      )
    ).rows.map((r) => [r.id, r.highest_severity]),
  );

beforeAll(async () => {
  ledger = await freshLedger('report_highest');
  const store = new LedgerStore(ledger.pool);
  for (const s of INCIDENTS) await store.upsertIncident(s, 1);
  await ledger.pool.query(`UPDATE incidents SET highest_severity = NULL WHERE id IN ('legacy', 'ancient')`);
  await ledger.pool.query(
    `UPDATE incidents SET snapshot = snapshot - 'highestSeverity' WHERE id = 'ancient'`,
  );
});
afterAll(async () => {
  await ledger.close();
});

test('the ledger row carries the highest severity from the incident snapshot', async () => {
  expect(await column()).toEqual({
    ancient: null,
    legacy: null,
    'p0-downgraded': 'P0',
    'p0-plain': 'P0',
    'p2-plain': 'P2',
  });
  const row = await ledger.pool.query(
    `SELECT severity, highest_severity FROM incidents WHERE id = 'p0-downgraded'`,
  );
  expect(row.rows[0]).toEqual({ severity: 'P2', highest_severity: 'P0' });
});

test('the report groups by the highest severity: a P0 downgraded before resolution misses the P0 MTTR target', async () => {
  const r = computeReport(await loadReportRows(ledger.pool, SINCE, UNTIL), SINCE, UNTIL);
  expect(r.incidents).toEqual({ total: 5, bySeverity: { P0: 2, P1: 1, P2: 1, P3: 1 } });
  expect(r.severityGrouping).toEqual({ by: 'highest', endedLower: 2 });
  // P0 MTTR 1500 and 2700: mean 2100 s, over the 1800 s target.
  expect(r.metrics.P0.mttr).toMatchObject({
    n: 2,
    mean: 2100,
    targetSeconds: 1800,
    withinTarget: 1,
    met: false,
  });
  // P2 keeps only the incident that was never more than P2.
  expect(r.metrics.P2.mttr).toMatchObject({ n: 1, mean: 3600 });
  expect(r.metrics.P1.mttr).toMatchObject({ n: 1, mean: 900, met: true });
  expect(r.monthly.find((m) => m.month === '2026-10')?.bySeverity).toEqual({ P0: 2, P1: 1, P2: 1, P3: 1 });
  expect(formatReport(r)).toContain(
    'Severity: the highest each incident reached (as 6.1), not its final one; 2 incident(s) ended lower and count under their highest',
  );
});

test('npm run report says which severity it groups by and shows the P0 target missed', async () => {
  const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
  const script = path.resolve(__dirname, '../../scripts/report.ts');
  const { stdout } = await run(tsx, [
    script,
    '--since',
    '2026-10-01',
    '--until',
    '2026-11-01',
    '--database-url',
    ledger.url,
  ]);
  expect(stdout).toContain('Incidents: 5 (P0 2, P1 1, P2 1, P3 1)');
  expect(stdout).toContain('6.4 metrics by highest severity');
  expect(stdout).toMatch(/P0 +MTTR +2 +25m 00s +45m 00s +35m 00s +< 30m 00s +1\/2 +MISSED/);
});

test("the migration fills the column from each row's snapshot, down and up again", async () => {
  await migrateLedger(ledger.url, { direction: 'down', count: 1 });
  const cols = await ledger.pool.query(
    `SELECT column_name FROM information_schema.columns WHERE table_name = 'incidents' AND column_name = 'highest_severity'`,
  );
  expect(cols.rowCount).toBe(0);
  await migrateLedger(ledger.url);
  expect(await column()).toEqual({
    ancient: 'P3',
    legacy: 'P1',
    'p0-downgraded': 'P0',
    'p0-plain': 'P0',
    'p2-plain': 'P2',
  });
});
