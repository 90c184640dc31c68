// Issue 5 "done means": a resolved P0 produces the 4.1 and 4.3 messages on the configured channels,
// PagerDuty trigger/acknowledge/resolve with one dedup key, a post-mortem with a 48-hour deadline, ledger
// rows and a report line. Slack and PagerDuty are fakes speaking their wire formats; a Slack outage delays
// neither PagerDuty nor the escalation.
import { createChannelDispatcher, InMemoryKeyValueStore } from '../../src/activities/notify/http';
import { readOutbox } from '../../src/activities/notify/outbox';
import { PagerDutyChannel } from '../../src/activities/notify/pagerduty';
import { SlackChannel } from '../../src/activities/notify/slack';
import { computeReport } from '../../src/ledger/report';
import { loadReportRows } from '../../src/ledger/report-rows';
import { waitFor } from '../harness/temporal';
import { incidentSuite } from '../harness/incident-suite';
import {
  acknowledgeUpdate,
  addNoteSignal,
  resolveSignal,
  resolveUpdate,
  timelineQuery,
} from '../../src/workflows/definitions';
import { postmortemStatusQuery } from '../../src/workflows/postmortem-definitions';
import { startFakePagerDuty, type FakePagerDuty } from '../fakes/pagerduty';
import { startFakeSlack, type FakeSlack } from '../fakes/slack';
import { freshLedger, type TestLedger } from '../ledger/db';
import { recordHistory } from '../harness/history';

let slack: FakeSlack;
let pagerduty: FakePagerDuty;
let ledger: TestLedger;

const suite = incidentSuite({
  name: 'p0-e2e',
  deps: async () => {
    [slack, pagerduty, ledger] = await Promise.all([
      startFakeSlack(),
      startFakePagerDuty(),
      freshLedger('p0_e2e'),
    ]);
    const store = new InMemoryKeyValueStore();
    const timeouts = { connectMs: 500, headersMs: 1000, bodyMs: 1000, totalMs: 1500 };
    const dispatcher = createChannelDispatcher(timeouts);
    return {
      ledger: ledger.pool,
      channels: {
        slack: new SlackChannel(
          { mode: 'webhook', webhookUrl: slack.webhookUrl, timeouts },
          { dispatcher, store },
        ),
        pagerduty: new PagerDutyChannel(
          { routingKey: 'R0UTINGKEY0123456789012345678901', baseUrl: pagerduty.url, timeouts },
          { dispatcher, store },
        ),
      },
    };
  },
});
// After the suite's own afterAll: the worker is stopped before the servers it wrote to.
afterAll(() => Promise.all([slack?.stop(), pagerduty?.stop(), ledger?.close()]));

const channels = ['outbox', 'slack', 'pagerduty'];

test('a resolved P0: messages on every channel, one PagerDuty incident, post-mortem, ledger and report', async () => {
  const timeScale = 600;
  const h = await suite.client.workflow.start('incidentWorkflow', {
    taskQueue: suite.taskQueue,
    workflowId: `p0-e2e-${Date.now()}`,
    args: [{ title: 'Trading API down', severity: 'P0', timeScale, policy: { channels } }],
  });
  await suite.waitFor(h, (s) => s.engagedRoles.length === 1);
  await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'oncall-primary' }] });
  await h.executeUpdate(resolveUpdate, {
    args: [
      {
        by: 'oncall-primary',
        rootCause: 'OOM',
        resolution: 'restarted',
        financialImpactUsd: 120,
        missedTrades: 1,
      },
    ],
  });
  const done = await suite.waitFor(h, (s) => s.postmortemWorkflowId !== null, {
    what: 'close and post-mortem',
  });

  // 4.1 and 4.3 in the outbox and on Slack (webhook: one POST per message, blocks + text).
  const outbox = (await readOutbox(suite.worker.outbox.file)).filter((r) =>
    r.incidentId.startsWith(`${h.workflowId}@`),
  );
  expect(outbox.some((r) => r.template === '4.1' && r.step === 'start')).toBe(true);
  expect(outbox.some((r) => r.template === '4.3')).toBe(true);
  const slackTexts = slack.requests.map((r) => JSON.stringify(r.body));
  expect(slackTexts.some((t) => t.includes('INCIDENT: Trading API down'))).toBe(true);
  expect(slackTexts.some((t) => t.includes('RESOLVED: Trading API down'))).toBe(true);

  // PagerDuty: trigger, acknowledge, resolve, all with one dedup key.
  const events = pagerduty.requests.map((r) => r.body as { event_action: string; dedup_key: string });
  const actions = new Set(events.map((e) => e.event_action));
  expect([...actions].sort()).toEqual(['acknowledge', 'resolve', 'trigger']);
  expect(new Set(events.map((e) => e.dedup_key)).size).toBe(1);

  // Post-mortem (6.1): P0 within 48 hours of resolution, scaled.
  const pm = suite.client.workflow.getHandle(done.postmortemWorkflowId!);
  const pmStatus = await waitFor(
    () => pm.query(postmortemStatusQuery),
    (p) => p.dueAt !== null,
  );
  expect(Date.parse(pmStatus.dueAt!) - Date.parse(done.resolvedAt!)).toBe((48 * 3600 * 1000) / timeScale);

  // Ledger: the incident row with its metrics and every timeline event, written once.
  const row = await waitFor(
    async () =>
      (
        await ledger.pool.query('SELECT status, mtta_seconds, mttr_seconds FROM incidents WHERE id = $1', [
          done.incidentId,
        ])
      ).rows[0],
    (r) => r?.status === 'closed',
    { what: 'ledger row closed' },
  );
  expect(row.mttr_seconds).toBe(done.metrics.mttrSeconds);
  const timeline = await h.query(timelineQuery);
  const events2 = await waitFor(
    async () =>
      Number(
        (
          await ledger.pool.query('SELECT count(*) FROM incident_events WHERE incident_id = $1', [
            done.incidentId,
          ])
        ).rows[0].count,
      ),
    (n) => n === timeline.length,
    { what: 'every event in the ledger' },
  );
  expect(events2).toBe(timeline.length);
  const pages = await ledger.pool.query(
    'SELECT channel, count(*)::int AS n FROM pages WHERE incident_id = $1 GROUP BY channel ORDER BY channel',
    [done.incidentId],
  );
  expect(pages.rows.map((r: { channel: string }) => r.channel)).toEqual(['outbox', 'pagerduty', 'slack']);

  // Report: a P0 line counting this incident. It ran with a timeScale, so it is a drill: left out by default.
  const since = Date.parse(done.openedAt) - 60_000;
  const rows = await loadReportRows(ledger.pool, since, Date.now() + 60_000);
  const plain = computeReport(rows, since, Date.now() + 60_000);
  expect(plain.incidents.total).toBe(0);
  expect(plain.drills).toEqual({ included: false, count: 1 });
  const report = computeReport(rows, since, Date.now() + 60_000, { includeDrills: true });
  expect(report.incidents.bySeverity.P0).toBe(1);
  expect(report.metrics.P0.count).toBe(1);
  expect(report.metrics.P0.mttr.p50).toBe(done.metrics.mttrSeconds);
  await recordHistory(h, 'p0-end-to-end');
});

test('a Slack outage delays neither PagerDuty pages nor the escalation', async () => {
  slack.hang(); // every Slack request hangs until the channel gives up (1.5 s), then retries
  try {
    const timeScale = 300; // eng lead at 15 min = 3 s
    const h = await suite.client.workflow.start('incidentWorkflow', {
      taskQueue: suite.taskQueue,
      workflowId: `slack-outage-${Date.now()}`,
      args: [{ title: 'Slack is down too', severity: 'P0', timeScale, policy: { channels } }],
    });
    const s = await suite.waitFor(h, (x) => x.engagedRoles.includes('eng-lead'), {
      what: 'eng lead on time',
    });
    const engLeadMinutes =
      ((Date.parse(s.engagements.find((e) => e.role === 'eng-lead')!.at) - Date.parse(s.openedAt)) *
        timeScale) /
      60_000;
    expect(engLeadMinutes).toBeLessThan(15 + (1.5 * timeScale) / 60);
    const triggers = await waitFor(
      async () =>
        pagerduty.requests.filter(
          (r) =>
            (r.body as { dedup_key?: string }).dedup_key?.includes(h.workflowId) &&
            (r.body as { event_action: string }).event_action === 'trigger',
        ),
      (t) => t.length >= 2,
      { what: 'PagerDuty triggers for primary and eng lead' },
    );
    expect(triggers.length).toBeGreaterThanOrEqual(2);
    await h.signal(resolveSignal, { by: 'oncall-primary' });
  } finally {
    slack.clear();
  }
});

test('a long timeline is trimmed in the workflow state once the ledger holds it', async () => {
  const h = await suite.client.workflow.start('incidentWorkflow', {
    taskQueue: suite.taskQueue,
    workflowId: `long-timeline-${Date.now()}`,
    args: [{ title: 'Chatty incident', severity: 'P3', timeScale: 1 }],
  });
  const { incidentId } = await suite.waitFor(h, (x) => x.engagedRoles.length > 0);
  for (let batch = 0; batch < 13; batch++)
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        h.signal(addNoteSignal, { by: 'lee', text: `note ${batch * 100 + i}` }),
      ),
    );
  const timeline = await waitFor(
    () => h.query(timelineQuery),
    (t) => t[0]?.type === 'timeline.truncated' && t.length - 1 <= 1200,
    { timeoutMs: 60_000, what: 'a truncated timeline' },
  );
  const dropped = Number(/^(\d+) earlier events/.exec(timeline[0].text)![1]);
  expect(timeline.length - 1).toBeLessThanOrEqual(1200);
  const inLedger = async () =>
    Number(
      (await ledger.pool.query('SELECT count(*) FROM incident_events WHERE incident_id = $1', [incidentId]))
        .rows[0].count,
    );
  // Nothing is lost: the ledger has every event, the dropped ones included.
  const total = await waitFor(inLedger, (n) => n >= dropped + timeline.length - 1, {
    what: 'ledger complete',
  });
  expect(total).toBeGreaterThanOrEqual(1300);
  const notes = (
    await ledger.pool.query("SELECT count(*) FROM incident_events WHERE incident_id = $1 AND type = 'note'", [
      incidentId,
    ])
  ).rows[0].count;
  expect(Number(notes)).toBe(1300);
  await h.signal(resolveSignal, { by: 'lee' });
});
