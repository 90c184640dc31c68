// An incident that paged someone is in the ledger by the time its page is (issue: 1,201 incidents started,
// 1,198 rows: those terminated right after opening never had their row written). The page's record
// creates a provisional row; the workflow's own first write replaces it whole.
import { LedgerStore, pageRow } from '../../src/ledger/store';
import type { Notification } from '../../src/playbook/contract/notification';
import { freshLedger, type TestLedger } from './db';
import { snapshot } from './fixtures';

let ledger: TestLedger;
let store: LedgerStore;
beforeAll(async () => {
  ledger = await freshLedger('paged_incident');
  store = new LedgerStore(ledger.pool);
});
afterAll(() => ledger.close());

const id = 'incident-data-source-down-0123456789abcdef@2026-12-07T15:00:00.000Z';
const page = (step: string, createdAt: string): Notification => ({
  idempotencyKey: `${id}:${step}:oncall-primary`,
  incidentId: id,
  step,
  target: 'oncall-primary',
  kind: 'page',
  severity: 'P1',
  title: 'MarketDataVeryStaleCritical',
  text: 'page',
  createdAt,
  incidentStatus: 'triggered',
});

test('the first delivered page creates the incident row; a second page keeps it; the real write replaces it', async () => {
  await store.recordPages([
    pageRow('outbox', page('escalate-P1-0m', '2026-12-07T15:00:00.000Z'), '2026-12-07T15:00:05.200Z'),
  ]);
  const row = async () =>
    (
      await ledger.pool.query(
        `SELECT title, kind, severity, highest_severity, status, opened_at, first_paged_at, version FROM incidents WHERE id = $1`,
        [id],
      )
    ).rows[0];
  expect(await row()).toMatchObject({
    title: 'MarketDataVeryStaleCritical',
    kind: 'data-source-down',
    severity: 'P1',
    highest_severity: 'P1',
    status: 'triggered',
    opened_at: new Date('2026-12-07T15:00:00.000Z'),
    // MTTD/MTTA count from the moment a human could know: delivery.
    first_paged_at: new Date('2026-12-07T15:00:05.200Z'),
    version: -1,
  });
  await store.recordPages([
    pageRow('slack', page('repage-1', '2026-12-07T15:05:00.000Z'), '2026-12-07T15:05:01.000Z'),
  ]);
  expect((await row()).first_paged_at).toEqual(new Date('2026-12-07T15:00:05.200Z'));
  expect(
    (await ledger.pool.query(`SELECT count(*)::int AS n FROM pages WHERE incident_id = $1`, [id])).rows[0].n,
  ).toBe(2);

  const real = snapshot({ id, severity: 'P1', openedAt: '2026-12-07T15:00:00.000Z', mtta: 120 });
  expect((await store.upsertIncident(real, 0)).changed).toBe(true);
  expect(await row()).toMatchObject({ status: 'acknowledged', kind: 'generic', version: 0 });
});
