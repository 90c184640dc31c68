// The PostgreSQL ledger on a real server: migrations, idempotent writes (the same write twice changes
// nothing), out-of-order and stale writes, the append-only timeline, pages, approvals, post-mortems, the
// key-value store, and a write killed half-way then retried as Temporal would.
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pg from 'pg';
import { createLedgerActivities, recordDeliveries } from '../../src/activities/ledger';
import { OutboxChannel } from '../../src/activities/notify/outbox';
import type { Notification } from '../../src/playbook/contract/notification';
import { migrateLedger } from '../../src/ledger/db';
import { PgKeyValueStore } from '../../src/ledger/kv';
import { PageSpool } from '../../src/ledger/page-spool';
import { LedgerStore } from '../../src/ledger/store';
import type { ActionItemRecord, ApprovalRecord, PostmortemRecord } from '../../src/playbook/contract/records';
import type { TimelineEvent } from '../../src/playbook/contract/incident';
import { tmpFile } from '../harness/temporal';
import { freshLedger, type TestLedger } from './db';
import { snapshot } from './fixtures';

let ledger: TestLedger;
let acts: ReturnType<typeof createLedgerActivities>;
// Quiet: the failing attempts below are expected.
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

beforeAll(async () => {
  ledger = await freshLedger('ledger');
  acts = createLedgerActivities({ pool: ledger.pool });
});
afterAll(async () => {
  await ledger.close();
});

/** Every column of a row plus its tuple identity: xmin changes whenever the row is rewritten. */
async function row(
  table: string,
  where: string,
  params: unknown[],
): Promise<Record<string, unknown> | undefined> {
  const r = await ledger.pool.query(`SELECT xmin::text AS _xmin, * FROM ${table} WHERE ${where}`, params);
  return r.rows[0];
}
const count = async (table: string, where = 'true', params: unknown[] = []) =>
  Number((await ledger.pool.query(`SELECT count(*) FROM ${table} WHERE ${where}`, params)).rows[0].count);

describe('migrations', () => {
  test('up creates every table; a second run applies nothing; down and up again round-trips', async () => {
    const tables = (
      await ledger.pool.query(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`,
      )
    ).rows.map((r) => r.table_name);
    expect(tables).toEqual([
      'action_items',
      'approvals',
      'incident_events',
      'incidents',
      'kv_store',
      'pages',
      'pgmigrations',
      'postmortems',
    ]);
    expect(await migrateLedger(ledger.url)).toEqual({ created: false, applied: [] });
  });

  test('concurrent migrations (two workers starting at once) both succeed, applied once', async () => {
    const url = ledger.url.replace(/_ledger$/, '_ledger_race');
    const { dropDatabase } = await import('./db');
    await dropDatabase(url);
    const all = ['1767225600000_ledger-init', '1796688000000_ledger-highest-severity'];
    const [a, b] = await Promise.all([migrateLedger(url), migrateLedger(url)]);
    expect([...a.applied, ...b.applied]).toEqual(all);
    const down = await migrateLedger(url, { direction: 'down', count: 1 });
    expect(down.applied).toEqual([all[1]]);
    const again = await migrateLedger(url);
    expect(again.applied).toEqual([all[1]]);
    await dropDatabase(url);
  });
});

/** The one incident write the workflow makes: timeline events from `fromSeq`, then the row at version `upTo`. */
const writeIncident = (
  snap: ReturnType<typeof snapshot>,
  upTo: number,
  events: TimelineEvent[] = [],
  fromSeq = 0,
) =>
  env.run(acts.ledgerWriteIncident, { incidentId: snap.incidentId, fromSeq, events, snapshot: snap, upTo });

describe('incidents', () => {
  const openedAt = '2026-11-03T14:00:00.000Z';

  test('the same snapshot twice: inserted once, the second write changes nothing (not even updated_at)', async () => {
    const s = snapshot({ id: 'inc-same', severity: 'P0', openedAt, mtta: 120, mttr: 900, mttd: 60 });
    expect(await writeIncident(s, 5)).toEqual({ inserted: 0, changed: true });
    const first = await row('incidents', 'id = $1', ['inc-same']);
    expect(await writeIncident(s, 5)).toEqual({ inserted: 0, changed: false });
    const second = await row('incidents', 'id = $1', ['inc-same']);
    expect(second).toEqual(first);
    expect(first).toMatchObject({
      severity: 'P0',
      status: 'closed',
      mttd_seconds: 60,
      mtta_seconds: 120,
      mttr_seconds: 900,
      root_cause: 'disk full',
      version: 5,
      engaged_roles: ['oncall-primary'],
    });
    expect((first!.opened_at as Date).toISOString()).toBe(openedAt);
  });

  test('a newer version updates; a stale one (a retry landing late) is ignored', async () => {
    const acked = snapshot({ id: 'inc-order', openedAt, mtta: 60 });
    const resolved = snapshot({ id: 'inc-order', openedAt, mtta: 60, mttr: 600, status: 'resolved' });
    expect(await writeIncident(acked, 3)).toEqual({ inserted: 0, changed: true });
    expect(await writeIncident(resolved, 7)).toEqual({ inserted: 0, changed: true });
    expect(await writeIncident(acked, 3)).toEqual({ inserted: 0, changed: false });
    expect(await row('incidents', 'id = $1', ['inc-order'])).toMatchObject({
      status: 'resolved',
      mttr_seconds: 600,
      version: 7,
    });
  });

  test('timeline: a re-sent range inserts only the new events; rows cannot be changed or deleted', async () => {
    const ev = (i: number): TimelineEvent => ({
      at: new Date(Date.parse(openedAt) + i * 1000).toISOString(),
      actor: 'system',
      type: `t${i}`,
      text: `event ${i}`,
      ...(i % 2 ? { data: { i } } : {}),
    });
    const tl = snapshot({ id: 'inc-tl', openedAt });
    expect(await writeIncident(tl, 3, [ev(0), ev(1), ev(2)])).toEqual({ inserted: 3, changed: true });
    expect(await writeIncident(tl, 3, [ev(0), ev(1), ev(2)])).toEqual({ inserted: 0, changed: false });
    // The snapshot is the same: only the events are new.
    expect(await writeIncident(tl, 5, [ev(1), ev(2), ev(3), ev(4)], 1)).toEqual({
      inserted: 2,
      changed: false,
    });
    const rows = (
      await ledger.pool.query(
        'SELECT seq, type, data FROM incident_events WHERE incident_id = $1 ORDER BY seq',
        ['inc-tl'],
      )
    ).rows;
    expect(rows.map((r) => [r.seq, r.type])).toEqual([
      [0, 't0'],
      [1, 't1'],
      [2, 't2'],
      [3, 't3'],
      [4, 't4'],
    ]);
    expect(rows[1].data).toEqual({ i: 1 });
    await expect(
      ledger.pool.query(`UPDATE incident_events SET text = 'x' WHERE incident_id = 'inc-tl'`),
    ).rejects.toThrow(/append-only/);
    await expect(
      ledger.pool.query(`DELETE FROM incident_events WHERE incident_id = 'inc-tl'`),
    ).rejects.toThrow(/append-only/);
    await expect(writeIncident(tl, 5, [ev(0)], -1)).rejects.toThrow(/fromSeq/);
  });

  test('a write the database refuses is non-retryable (a retry cannot fix it)', async () => {
    const bad = { ...snapshot({ id: 'inc-bad', openedAt }), severity: 'P9' } as unknown as ReturnType<
      typeof snapshot
    >;
    await expect(writeIncident(bad, 1)).rejects.toMatchObject({
      type: 'LedgerRejected',
      nonRetryable: true,
    });
  });
});

describe('pages and approvals', () => {
  const n = (step: string): Notification => ({
    idempotencyKey: `inc-pages:${step}:oncall-primary`,
    incidentId: 'inc-pages',
    step,
    target: 'oncall-primary',
    kind: 'page',
    severity: 'P0',
    title: 'pages',
    text: 'hello',
    template: '4.1',
    createdAt: '2026-11-03T14:00:00.000Z',
    incidentStatus: 'triggered',
  });

  test('a delivery run twice gives one outbox record and one pages row', async () => {
    const spool = new PageSpool({ pool: ledger.pool, dir: tmpFile('page-spool') });
    const channel = recordDeliveries(
      new OutboxChannel(tmpFile('ledger-outbox.jsonl'), () => undefined),
      spool,
    );
    expect((await channel.deliver(n('escalate-P0-0m'))).outcome).toBe('delivered');
    expect((await channel.deliver(n('escalate-P0-0m'))).outcome).toBe('duplicate');
    await spool.flush();
    spool.close();
    expect(
      await new LedgerStore(ledger.pool).recordPage(
        'outbox',
        n('escalate-P0-0m'),
        new Date().toISOString(),
        'line:1',
      ),
    ).toEqual({ inserted: false });
    expect(await count('pages', 'incident_id = $1', ['inc-pages'])).toBe(1);
    expect(await row('pages', 'incident_id = $1', ['inc-pages'])).toMatchObject({
      channel: 'outbox',
      kind: 'page',
      target: 'oncall-primary',
      template: '4.1',
      ref: 'line:1',
    });
  });

  test('approval: request and decision in either order, repeated writes change nothing, the first decision wins', async () => {
    const request = {
      actionId: 'kill-switch-1',
      action: 'kill-switch',
      description: 'Activate the kill switch',
      requestedAt: '2026-11-03T14:01:00.000Z',
      expiresAt: null,
      requiresConfirmationCode: false,
    };
    const decision: ApprovalRecord = {
      actionId: 'kill-switch-1',
      outcome: 'approved',
      decidedBy: 'eng-lead',
      decidedAt: '2026-11-03T14:02:00.000Z',
    };
    expect(await env.run(acts.ledgerRecordApproval, 'inc-appr', decision)).toEqual({ changed: true });
    expect(await env.run(acts.ledgerRecordApproval, 'inc-appr', request)).toEqual({ changed: true });
    const stored = await row('approvals', 'incident_id = $1', ['inc-appr']);
    expect(await env.run(acts.ledgerRecordApproval, 'inc-appr', request)).toEqual({ changed: false });
    expect(await env.run(acts.ledgerRecordApproval, 'inc-appr', decision)).toEqual({ changed: false });
    expect(
      await env.run(acts.ledgerRecordApproval, 'inc-appr', {
        ...decision,
        outcome: 'rejected' as const,
        decidedBy: 'cto',
      }),
    ).toEqual({ changed: false });
    expect(await row('approvals', 'incident_id = $1', ['inc-appr'])).toEqual(stored);
    expect(stored).toMatchObject({
      action: 'kill-switch',
      outcome: 'approved',
      decided_by: 'eng-lead',
      requires_confirmation_code: false,
    });
  });
});

describe('post-mortems and action items', () => {
  const pm = (over: Partial<PostmortemRecord> = {}): PostmortemRecord => ({
    incidentId: 'inc-pm',
    workflowId: 'postmortem-inc-pm',
    title: 'pm',
    severity: 'P0',
    requirement: 'mandatory',
    status: 'open',
    owner: 'eng-lead',
    resolvedAt: '2026-11-03T15:00:00.000Z',
    dueAt: '2026-11-05T15:00:00.000Z',
    timeScale: 1,
    remindersSent: 0,
    overdueEscalatedAt: null,
    completedAt: null,
    completedBy: null,
    documentUrl: null,
    version: 1,
    ...over,
  });
  const item = (index: number, over: Partial<ActionItemRecord> = {}): ActionItemRecord => ({
    id: `AI-${index + 1}`,
    index,
    title: `fix ${index}`,
    owner: 'bob',
    dueDate: '2026-11-20',
    dueAt: '2026-11-21T05:00:00.000Z',
    assignedAt: null,
    remindersSent: 0,
    overdueEscalatedAt: null,
    doneAt: null,
    doneBy: null,
    ...over,
  });

  test('the same whole-state write twice changes nothing; stale versions are ignored', async () => {
    expect(await env.run(acts.ledgerRecordPostmortem, pm())).toEqual({ changed: 1 });
    expect(await env.run(acts.ledgerRecordPostmortem, pm())).toEqual({ changed: 0 });
    const completed = pm({
      status: 'tracking',
      completedAt: '2026-11-04T10:00:00.000Z',
      completedBy: 'alice',
      documentUrl: 'https://docs/pm',
      version: 2,
    });
    expect(await env.run(acts.ledgerRecordPostmortem, completed, [item(0), item(1)])).toEqual({ changed: 3 });
    const before = await ledger.pool.query(
      `SELECT xmin::text, * FROM action_items WHERE incident_id = 'inc-pm' ORDER BY item_index`,
    );
    expect(await env.run(acts.ledgerRecordPostmortem, completed, [item(0), item(1)])).toEqual({ changed: 0 });
    expect(await env.run(acts.ledgerRecordPostmortem, pm(), [])).toEqual({ changed: 0 }); // version 1 < 2
    const after = await ledger.pool.query(
      `SELECT xmin::text, * FROM action_items WHERE incident_id = 'inc-pm' ORDER BY item_index`,
    );
    expect(after.rows).toEqual(before.rows);
    expect(await row('postmortems', 'incident_id = $1', ['inc-pm'])).toMatchObject({
      status: 'tracking',
      completed_by: 'alice',
      version: 2,
    });
    // Version 3: AI-2 done; the post-mortem row and AI-1 hold the same state, so only AI-2 changes.
    const itemDone = [item(0), item(1, { doneAt: '2026-11-10T10:00:00.000Z', doneBy: 'bob' })];
    expect(await env.run(acts.ledgerRecordPostmortem, { ...completed, version: 3 }, itemDone)).toEqual({
      changed: 1,
    });
    expect(await env.run(acts.ledgerRecordPostmortem, { ...completed, version: 3 }, itemDone)).toEqual({
      changed: 0,
    });
    expect((await row('action_items', 'incident_id = $1 AND id = $2', ['inc-pm', 'AI-2']))!.done_by).toBe(
      'bob',
    );
  });

  test('a write killed half-way (database session terminated mid-transaction) leaves nothing; the retry writes it exactly once', async () => {
    const record = pm({
      incidentId: 'inc-kill',
      workflowId: 'postmortem-inc-kill',
      status: 'tracking',
      completedAt: '2026-11-04T10:00:00.000Z',
      completedBy: 'alice',
      documentUrl: 'https://docs/pm',
      version: 4,
    });
    const items = [item(0), item(1), item(2)];
    // A pool whose connection is killed by the server right after the post-mortem row is written, before
    // the action items and the COMMIT: the crash window of the activity's transaction.
    const killer = new pg.Client({ connectionString: ledger.url });
    await killer.connect();
    const fragile = new pg.Pool({ connectionString: ledger.url, max: 1 });
    fragile.on('error', () => undefined);
    const realConnect = fragile.connect.bind(fragile) as () => Promise<pg.PoolClient>;
    (fragile as unknown as { connect: () => Promise<pg.PoolClient> }).connect = async () => {
      const client = await realConnect();
      client.on('error', () => undefined);
      const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      const query = client.query.bind(client) as (
        text: string,
        values?: unknown[],
      ) => Promise<pg.QueryResult>;
      (client as unknown as { query: typeof query }).query = async (text: string, values?: unknown[]) => {
        const res = await query(text, values);
        if (text.includes('INSERT INTO postmortems'))
          await killer.query('SELECT pg_terminate_backend($1)', [pid]);
        return res;
      };
      return client;
    };
    const doomed = createLedgerActivities({ pool: fragile });
    await expect(env.run(doomed.ledgerRecordPostmortem, record, items)).rejects.toMatchObject({
      type: 'LedgerUnavailable',
      nonRetryable: false,
    });
    await fragile.end().catch(() => undefined);
    await killer.end();
    expect(await count('postmortems', 'incident_id = $1', ['inc-kill'])).toBe(0);
    expect(await count('action_items', 'incident_id = $1', ['inc-kill'])).toBe(0);

    // The retry (a new attempt, possibly on another worker) and a duplicate run after it.
    expect(await env.run(acts.ledgerRecordPostmortem, record, items)).toEqual({ changed: 4 });
    expect(await env.run(acts.ledgerRecordPostmortem, record, items)).toEqual({ changed: 0 });
    expect(await count('postmortems', 'incident_id = $1', ['inc-kill'])).toBe(1);
    expect(await count('action_items', 'incident_id = $1', ['inc-kill'])).toBe(3);
  });

  test('a write that committed but whose worker died before reporting completion: the re-run changes nothing', async () => {
    const s = snapshot({
      id: 'inc-rerun',
      severity: 'P1',
      openedAt: '2026-11-04T10:00:00.000Z',
      mtta: 30,
      mttr: 3000,
    });
    const events: TimelineEvent[] = [{ at: s.openedAt, actor: 'system', type: 'opened', text: 'opened' }];
    await writeIncident(s, 1, events);
    const before = [
      await row('incidents', 'id = $1', [s.incidentId]),
      await row('incident_events', 'incident_id = $1', [s.incidentId]),
    ];
    expect(await writeIncident(s, 1, events)).toEqual({ inserted: 0, changed: false });
    expect([
      await row('incidents', 'id = $1', [s.incidentId]),
      await row('incident_events', 'incident_id = $1', [s.incidentId]),
    ]).toEqual(before);
  });
});

describe('no ledger on the worker', () => {
  test('the activities skip their writes instead of failing', async () => {
    const none = createLedgerActivities({ pool: null });
    expect(
      await env.run(none.ledgerWriteIncident, {
        incidentId: 'x',
        fromSeq: 0,
        events: [],
        snapshot: snapshot({ id: 'x', openedAt: '2026-11-01T00:00:00Z' }),
        upTo: 1,
      }),
    ).toEqual({ skipped: true });
  });
});

describe('PgKeyValueStore', () => {
  test('get, and set (a repeated set changes nothing)', async () => {
    const kv = new PgKeyValueStore(ledger.pool);
    expect(await kv.get('slack:sent:a')).toBeUndefined();
    await kv.set('slack:sent:a', '1700000000.0001');
    const first = await row('kv_store', 'key = $1', ['slack:sent:a']);
    await kv.set('slack:sent:a', '1700000000.0001');
    expect(await row('kv_store', 'key = $1', ['slack:sent:a'])).toEqual(first);
    await kv.set('slack:sent:a', '1700000000.0002');
    expect(await kv.get('slack:sent:a')).toBe('1700000000.0002');
  });
});
