// Game day: the ledger's database hangs, then refuses connections, during an unacknowledged P1. Paging must
// neither wait on it nor repeat itself: every notification reaches Slack (Web API) and PagerDuty exactly once
// and on time, and once the database is back every page is a row of `pages` and every Slack/PagerDuty key
// is in `kv_store`. The worker is wired as src/worker.ts wires it: the ledger pool of createLedgerPool (5 s
// connect timeout, 20 s query timeout) behind a TCP proxy, BestEffortKeyValueStore over PgKeyValueStore
// for both channels, and the real incidentWorkflow on the test dev server (timeScale 60: a playbook minute
// per second; P1 re-pages every 5 s and engages the secondary at 15 s, the eng lead at 30 s).
import type { Client } from '@temporalio/client';
import type pg from 'pg';
import { BestEffortKeyValueStore, createChannelDispatcher } from '../../src/activities/notify/http';
import { readOutbox } from '../../src/activities/notify/outbox';
import { PagerDutyChannel } from '../../src/activities/notify/pagerduty';
import { SlackChannel } from '../../src/activities/notify/slack';
import { createLedgerPool } from '../../src/ledger/db';
import { PgKeyValueStore } from '../../src/ledger/kv';
import { startFakePagerDuty, type FakePagerDuty } from '../fakes/pagerduty';
import { startFakeSlack, type FakeSlack } from '../fakes/slack';
import {
  startTestWorker,
  testClient,
  tmpFile,
  uniqueTaskQueue,
  waitFor,
  type TestWorker,
} from '../harness/temporal';
import { freshLedger, type TestLedger } from '../ledger/db';
import { startPgProxy, type PgProxy } from '../ledger/pg-proxy';
import { acknowledgeUpdate, resolveUpdate } from '../../src/workflows/definitions';

const taskQueue = uniqueTaskQueue('db-fault');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let ledger: TestLedger;
let proxy: PgProxy;
let faulty: pg.Pool;
let slack: FakeSlack;
let pagerduty: FakePagerDuty;
let store: BestEffortKeyValueStore;
let worker: TestWorker;
let client: Client;
let closeClient: () => Promise<void>;
const realWarn = console.warn;
const warnings: string[] = [];

beforeAll(async () => {
  [ledger, proxy, slack, pagerduty] = await Promise.all([
    freshLedger('db_fault_paging'),
    startPgProxy(),
    startFakeSlack(),
    startFakePagerDuty(),
  ]);
  faulty = createLedgerPool(proxy.url(new URL(ledger.url).pathname.slice(1)));
  store = new BestEffortKeyValueStore(new PgKeyValueStore(faulty));
  console.warn = (...args: unknown[]) => warnings.push(args.map(String).join(' '));
  const timeouts = { connectMs: 1000, headersMs: 2000, bodyMs: 2000, totalMs: 3000 };
  const dispatcher = createChannelDispatcher(timeouts);
  worker = await startTestWorker({
    taskQueue,
    deps: {
      ledger: faulty,
      pageSpoolDir: tmpFile('db-fault-spool'),
      channels: {
        slack: new SlackChannel(
          {
            mode: 'web-api',
            botToken: slack.botToken,
            channel: '#trading-incidents',
            apiBaseUrl: slack.apiBaseUrl,
            timeouts,
          },
          { dispatcher, store },
        ),
        pagerduty: new PagerDutyChannel(
          { routingKey: 'R0UTINGKEY0123456789012345678901', baseUrl: pagerduty.url, timeouts },
          { dispatcher, store },
        ),
      },
    },
  });
  ({ client, close: closeClient } = await testClient());
});
afterAll(async () => {
  console.warn = realWarn;
  store?.close();
  await closeClient?.();
  await worker?.stop();
  await proxy?.stop();
  await faulty?.end().catch(() => undefined);
  await Promise.all([slack?.stop(), pagerduty?.stop(), ledger?.close()]);
});

interface SlackPost {
  step: string;
  mention: string;
  at: number;
}

/** Each chat.postMessage as (step, who it mentions, when it arrived), from the Block Kit it carried. */
function slackPosts(incidentId: string): SlackPost[] {
  return slack.apiRequests('chat.postMessage').flatMap((r) => {
    const blocks = ((r.body as { blocks?: unknown[] }).blocks ?? []) as {
      type: string;
      text?: { text?: string };
      elements?: { text?: string }[];
    }[];
    const context = blocks.find((b) => b.type === 'context')?.elements?.[0]?.text ?? '';
    const m = /^Incident `([^`]+)` · ([^ ]+) · /.exec(context);
    if (!m || m[1] !== incidentId) return [];
    const mention =
      blocks.find((b) => b.type === 'section' && /^(Paging|For) /.test(b.text?.text ?? ''))?.text?.text ?? '';
    return [{ step: m[2]!, mention, at: r.receivedAt }];
  });
}

const countBy = <T>(xs: T[], key: (x: T) => string) => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
};

test('an unacknowledged P1 while the ledger database hangs 20 s then refuses 10 s: every page once, on time, all recorded after', async () => {
  proxy.hang();
  const h = await client.workflow.start('incidentWorkflow', {
    taskQueue,
    workflowId: `db-fault-${Date.now()}`,
    args: [
      {
        title: 'Model degradation during a ledger outage',
        severity: 'P1',
        timeScale: 60,
        policy: { channels: ['outbox', 'slack', 'pagerduty'] },
      },
    ],
  });
  await sleep(20_000);
  await proxy.refuse();
  await sleep(10_000);
  await proxy.open();
  const backAt = Date.now();
  await sleep(5_000);
  await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'oncall-primary' }] });
  await h.executeUpdate(resolveUpdate, { args: [{ by: 'oncall-primary', resolution: 'ledger back' }] });
  const outboxFile = worker.outbox.file;
  const records = await waitFor(
    () => readOutbox(outboxFile),
    (rs) => rs.some((r) => r.kind === 'resolved'),
    { what: 'the resolution in the outbox', timeoutMs: 30_000 },
  );
  const incidentId = records[0]!.incidentId;
  const mine = records.filter((r) => r.incidentId === incidentId);
  // Let the last Slack/PagerDuty deliveries finish (they run beside the outbox's).
  await sleep(2_000);

  // Slack: one chat.postMessage per notification, none repeated.
  const posts = slackPosts(incidentId);
  const perNotification = countBy(posts, (p) => `${p.step} | ${p.mention}`);
  const repeated = [...perNotification].filter(([, n]) => n > 1);
  expect(repeated).toEqual([]);
  const keys = new Set(mine.map((r) => `${r.step} ${r.target}`));
  expect(posts).toHaveLength(keys.size);
  expect(new Set(posts.map((p) => p.step))).toEqual(new Set(mine.map((r) => r.step)));

  // PagerDuty: one trigger per paging notification.
  const triggers = pagerduty
    .events()
    .map((r) => r.body as { event_action: string; payload?: { custom_details?: Record<string, string> } })
    .filter((e) => e.event_action === 'trigger' && e.payload?.custom_details?.incident_id === incidentId)
    .map((e) => `${e.payload!.custom_details!.step} ${e.payload!.custom_details!.target}`);
  expect([...countBy(triggers, (t) => t)].filter(([, n]) => n > 1)).toEqual([]);
  const paging = mine.filter((r) => ['page', 'repage', 'breach', 'reopened'].includes(r.kind));
  expect(new Set(triggers)).toEqual(new Set(paging.map((r) => `${r.step} ${r.target}`)));

  // On time: Slack within 4 s of the moment the workflow composed the message (one bounded 1 s lookup when
  // the outage starts, then none; the database's own timeouts are 5 and 20 s), the outbox within 2 s.
  const composed = new Map(mine.map((r) => [r.step, Date.parse(r.createdAt)]));
  const slackLag = posts.map((p) => p.at - composed.get(p.step)!);
  const outboxLag = mine.map((r) => Date.parse(r.deliveredAt) - Date.parse(r.createdAt));
  expect(Math.max(...slackLag)).toBeLessThan(4000);
  expect(Math.max(...outboxLag)).toBeLessThan(2000);
  // The outage did cover the paging: re-pages and the 15-minute escalation happened during it.
  const during = mine.filter((r) => Date.parse(r.deliveredAt) < backAt);
  expect(during.filter((r) => r.kind === 'repage').length).toBeGreaterThanOrEqual(4);
  expect(during.some((r) => r.target === 'oncall-secondary' && r.kind === 'page')).toBe(true);

  // Once the database is back: every delivery is a pages row (each once), every sent key is in kv_store.
  const expectRows = new Map([
    ['outbox', mine.length],
    ['slack', posts.length],
  ]);
  const rows = await waitFor(
    async () =>
      (
        await ledger.pool.query<{ channel: string; n: number }>(
          'SELECT channel, count(*)::int AS n FROM pages WHERE incident_id = $1 GROUP BY channel',
          [incidentId],
        )
      ).rows,
    (rs) => [...expectRows].every(([c, n]) => rs.find((r) => r.channel === c)?.n === n),
    { what: 'every page in the ledger', timeoutMs: 45_000, intervalMs: 500 },
  );
  expect(rows.find((r) => r.channel === 'pagerduty')?.n).toBe(mine.length);
  const sentKeys = await waitFor(
    async () =>
      Number(
        (
          await ledger.pool.query(
            `SELECT count(*) FROM kv_store WHERE key LIKE 'slack:sent:' || $1 || ':%'`,
            [incidentId],
          )
        ).rows[0].count,
      ),
    (n) => n === posts.length,
    { what: 'the Slack keys in kv_store', timeoutMs: 45_000, intervalMs: 500 },
  );
  expect(sentKeys).toBe(posts.length);
  console.log(
    `database fault: ${mine.length} notifications, ${posts.length} Slack posts (max ${Math.max(...perNotification.values())} per notification), ` +
      `${triggers.length} PagerDuty triggers; lag Slack max ${Math.max(...slackLag)} ms, outbox max ${Math.max(...outboxLag)} ms; ` +
      `${during.length} delivered during the outage; rows ${JSON.stringify(rows)}`,
  );
  await h.terminate('test done');
}, 180_000);
