// The ledger's `pages` table under a database fault, on real PostgreSQL behind a TCP proxy that hangs (accepts,
// forwards nothing) and then refuses (port closed, connections cut), as the game day did. Deliveries go through
// the real delivery activity to the outbox and a fake Slack (incoming webhook); the pool is the worker's
// (createLedgerPool: 5 s connect timeout, 20 s query timeout).
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { createActivities } from '../../src/activities';
import { createChannelDispatcher, InMemoryKeyValueStore } from '../../src/activities/notify/http';
import { OutboxChannel } from '../../src/activities/notify/outbox';
import type { Notification } from '../../src/playbook/contract/notification';
import { SlackChannel } from '../../src/activities/notify/slack';
import { createLedgerPool } from '../../src/ledger/db';
import { PageSpool } from '../../src/ledger/page-spool';
import { pageRow } from '../../src/ledger/store';
import { packBatch } from '../../src/playbook/lifecycle/batch';
import { notification } from '../fakes/notifications';
import { startFakeSlack, type FakeSlack } from '../fakes/slack';
import { tmpFile } from '../harness/temporal';
import { freshLedger, type TestLedger } from './db';
import { startPgProxy, type PgProxy } from './pg-proxy';

const HOST = os.hostname().replace(/[^A-Za-z0-9.]/g, '_');
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let ledger: TestLedger;
let proxy: PgProxy;
let slack: FakeSlack;
let faulty: pg.Pool;
const warnings: string[] = [];
const realWarn = console.warn;

beforeAll(async () => {
  [ledger, proxy, slack] = await Promise.all([freshLedger('ledger_fault'), startPgProxy(), startFakeSlack()]);
  faulty = createLedgerPool(proxy.url(new URL(ledger.url).pathname.slice(1)));
  console.warn = (...args: unknown[]) => warnings.push(args.map(String).join(' '));
});
afterAll(async () => {
  console.warn = realWarn;
  await proxy.stop();
  await faulty.end().catch(() => undefined);
  await Promise.all([ledger.close(), slack.stop()]);
});

const pagesOf = async (incidentId: string) =>
  (
    await ledger.pool.query<{ channel: string; idempotency_key: string; delivered_at: Date }>(
      'SELECT channel, idempotency_key, delivered_at FROM pages WHERE incident_id = $1 ORDER BY 1, 2',
      [incidentId],
    )
  ).rows;

async function waitForRows(incidentId: string, n: number, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await pagesOf(incidentId);
    if (rows.length >= n || Date.now() > deadline) return rows;
    await sleep(200);
  }
}

test('pages delivered while the database hangs, then refuses, all reach the pages table once it is back, none twice', async () => {
  const spoolRoot = tmpFile('spool');
  const acts = createActivities({
    channels: {
      outbox: new OutboxChannel(tmpFile('fault-outbox.jsonl'), () => undefined),
      slack: new SlackChannel(
        { mode: 'webhook', webhookUrl: slack.webhookUrl },
        { dispatcher: createChannelDispatcher(), store: new InMemoryKeyValueStore() },
      ),
    },
    policyOverrides: {},
    ledger: faulty,
    pageSpoolDir: spoolRoot,
  });
  const incidentId = `fault-${Date.now()}@2026-11-27T14:15:00.000Z`;
  let seq = 0;
  const took: { phase: string; ms: number }[] = [];
  const deliverRound = (phase: string) => {
    seq += 1;
    const ns: Notification[] = ['oncall-primary', 'oncall-secondary'].map((target) =>
      notification({ incidentId, step: `repage-${seq}`, target: target as Notification['target'] }),
    );
    return Promise.all(
      ['outbox', 'slack'].map(async (channel) => {
        const t0 = Date.now();
        const r = await env.run(acts.deliverNotifications, channel, packBatch(ns));
        took.push({ phase, ms: Date.now() - t0 });
        return r;
      }),
    );
  };

  // Healthy: 1 round (2 notifications x 2 channels).
  await deliverRound('open');
  expect(await waitForRows(incidentId, 4, 10_000)).toHaveLength(4);

  // The database hangs for 8 s: a round every second, none waiting on it.
  proxy.hang();
  const hung: Promise<unknown>[] = [];
  for (let i = 0; i < 8; i++) {
    hung.push(deliverRound('hang'));
    await sleep(1000);
  }
  // Then it refuses for 5 s.
  await proxy.refuse();
  const refused: Promise<unknown>[] = [];
  for (let i = 0; i < 5; i++) {
    refused.push(deliverRound('refuse'));
    await sleep(1000);
  }
  await Promise.all([...hung, ...refused]);
  const backAt = Date.now();
  expect(await pagesOf(incidentId)).toHaveLength(4); // nothing landed during the fault
  await proxy.open();

  // 14 rounds x 2 notifications x 2 channels, each row once; the delivery time is the delivery's, not the insert's.
  const total = 14 * 2 * 2;
  const rows = await waitForRows(incidentId, total, 45_000);
  const landedAfterMs = Date.now() - backAt;
  expect(rows).toHaveLength(total);
  expect(new Set(rows.map((r) => `${r.channel} ${r.idempotency_key}`)).size).toBe(total);
  expect(rows.filter((r) => r.channel === 'slack')).toHaveLength(total / 2);
  expect(rows.filter((r) => r.delivered_at.getTime() < backAt)).toHaveLength(total);
  expect(slack.requests).toHaveLength(total / 2);
  // Paging never waited on the database: every delivery activity returned in well under a second.
  const slowest = Math.max(...took.map((t) => t.ms));
  expect(slowest).toBeLessThan(1000);
  // The spool is empty once drained (its file removed).
  const dirs = readdirSync(spoolRoot);
  expect(dirs.flatMap((d) => readdirSync(path.join(spoolRoot, d)))).toEqual([]);
  // One warning when the rows started waiting, one when they were written: no line per row.
  const spoolWarnings = warnings.filter((w) => w.includes('[ledger]'));
  expect(spoolWarnings.length).toBeLessThanOrEqual(2);
  console.log(
    `ledger fault: ${total} rows landed ${landedAfterMs} ms after recovery; slowest delivery ${slowest} ms; warnings: ${spoolWarnings.join(' | ')}`,
  );
}, 110_000);

test('rows spooled by a worker that died during the outage are adopted and written by the next one', async () => {
  const dir = tmpFile('spool-adopt');
  mkdirSync(dir, { recursive: true });
  const incidentId = `adopt-${Date.now()}`;
  const rows = [1, 2, 3].map((i) =>
    pageRow('outbox', notification({ incidentId, step: `escalate-P1-${i}m` }), new Date().toISOString()),
  );
  // A spool file left by a process that no longer exists (pid 2^22 - 1 is above Linux's pid_max default),
  // its last line torn by the crash.
  writeFileSync(
    path.join(dir, `pages-${HOST}-4194303-0badc0de.jsonl`),
    `${rows.map((r) => JSON.stringify(r)).join('\n')}\n{"channel":"outbox","idempot`,
  );
  // And one of a live process on this host: not ours to take.
  writeFileSync(
    path.join(dir, `pages-${HOST}-1-0000beef.jsonl`),
    JSON.stringify(pageRow('outbox', notification({ incidentId, step: 'live' }), new Date().toISOString())) +
      '\n',
  );
  // One row the database refuses for good (not a time) must not hold the others back.
  const spool = new PageSpool({ pool: ledger.pool, dir, warn: () => undefined });
  await spool.add({
    ...rows[0]!,
    idempotencyKey: `${incidentId}:bad:oncall-primary`,
    createdAt: 'not-a-date',
  });
  await spool.add(rows[0]!); // already in the adopted file: stored once
  await spool.flush(20_000);
  spool.close();
  const stored = await pagesOf(incidentId);
  expect(stored.map((r) => r.idempotency_key).sort()).toEqual(rows.map((r) => r.idempotencyKey).sort());
  expect(readdirSync(dir).sort()).toEqual([`pages-${HOST}-1-0000beef.jsonl`]);
});
