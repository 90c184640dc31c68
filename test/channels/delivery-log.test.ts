// What a worker writes to its log for each delivery: one line, with the ids that find the delivery again,
// never the message. Measured as the worker prints it: its stdout, and the SDK's activity logger formatted
// as the SDK's DefaultLogger formats it (util.format of the metadata, multi-line for a large object).
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import { formatWithOptions } from 'node:util';
import { createActivities } from '../../src/activities';
import { createChannelDispatcher, InMemoryKeyValueStore } from '../../src/activities/notify/http';
import { OutboxChannel } from '../../src/activities/notify/outbox';
import { PagerDutyChannel } from '../../src/activities/notify/pagerduty';
import type { Notification } from '../../src/playbook/contract/notification';
import { SlackChannel } from '../../src/activities/notify/slack';
import { packBatch } from '../../src/playbook/lifecycle/batch';
import { notification } from '../fakes/notifications';
import { startFakePagerDuty, type FakePagerDuty } from '../fakes/pagerduty';
import { startFakeSlack, type FakeSlack } from '../fakes/slack';
import { tmpFile } from '../harness/temporal';

let slack: FakeSlack;
let pd: FakePagerDuty;
beforeAll(async () => {
  [slack, pd] = await Promise.all([startFakeSlack(), startFakePagerDuty()]);
});
afterAll(() => Promise.all([slack.stop(), pd.stop()]));

test('one line per delivery on every channel, with incident, step, target, channel and ref, and no payload', async () => {
  // The worker's log: what the activity logger would print at INFO, line by line, and stdout.
  const logged: string[] = [];
  const logger = new DefaultLogger('INFO', (e: LogEntry) =>
    logged.push(
      ...`[${e.level}] ${e.message}${e.meta === undefined ? '' : ` ${formatWithOptions({ colors: false }, e.meta)}`}`.split(
        '\n',
      ),
    ),
  );
  const env = new MockActivityEnvironment(undefined, { logger });
  const stdout: string[] = [];
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
    stdout.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  }) as typeof process.stdout.write);

  const dispatcher = createChannelDispatcher();
  const store = new InMemoryKeyValueStore();
  const acts = createActivities({
    channels: {
      outbox: new OutboxChannel(tmpFile('log-outbox.jsonl')), // as the worker builds it
      slack: new SlackChannel({ mode: 'webhook', webhookUrl: slack.webhookUrl }, { dispatcher, store }),
      pagerduty: new PagerDutyChannel(
        { routingKey: 'R0UTINGKEY0123456789012345678901', baseUrl: pd.url },
        { dispatcher, store },
      ),
    },
    policyOverrides: {},
  });
  const incidentId = 'incident-model-degradation-7f3a@2026-11-27T14:15:00.000Z';
  const payload = `SECRET-PAYLOAD ${'lorem ipsum '.repeat(400)}\nsecond line of the 4.1 template`;
  const ns: Notification[] = (['oncall-primary', 'oncall-secondary', 'eng-lead'] as const).map((target) =>
    notification({ incidentId, step: 'escalate-P1-15m', target, severity: 'P1', text: payload }),
  );
  try {
    for (const channel of ['outbox', 'slack', 'pagerduty'])
      await env.run(acts.deliverNotifications, channel, packBatch(ns));
    // A retry of one: a duplicate, still one line.
    await env.run(acts.deliverNotifications, 'outbox', packBatch(ns.slice(0, 1)));
  } finally {
    spy.mockRestore();
  }

  const all = [...stdout, ...logged];
  // 3 notifications x 3 channels + 1 duplicate: 10 deliveries, 10 lines, nothing else.
  expect(all).toHaveLength(10);
  expect(logged).toEqual([]);
  for (const line of all) {
    expect(line).not.toContain('SECRET-PAYLOAD');
    expect(line).not.toContain('lorem');
    expect(line.length).toBeLessThan(300);
    expect(line).toContain(`incident=${incidentId}`);
    expect(line).toContain('step=escalate-P1-15m');
  }
  const slackLines = all.filter((l) => l.includes('channel=slack'));
  expect(slackLines).toHaveLength(3);
  expect(slackLines[0]).toBe(
    `notification delivered channel=slack incident=${incidentId} step=escalate-P1-15m target=oncall-primary kind=page severity=P1 ref=webhook`,
  );
  const pdLines = all.filter((l) => l.includes('channel=pagerduty'));
  expect(pdLines.map((l) => /ref=(\S+)/.exec(l)?.[1])).toEqual([incidentId, incidentId, incidentId]);
  expect(all.filter((l) => l.includes('channel=outbox')).map((l) => /ref=(\S+)/.exec(l)?.[1])).toEqual([
    'line:1',
    'line:2',
    'line:3',
    undefined, // the duplicate has no ref
  ]);
  expect(all.filter((l) => l.startsWith('notification duplicate '))).toHaveLength(1);
  expect(new Set(all.map((l) => /target=(\S+)/.exec(l)?.[1]))).toEqual(
    new Set(['oncall-primary', 'oncall-secondary', 'eng-lead']),
  );
  await dispatcher.close();
});

test('values with spaces or quotes stay on one line, quoted', async () => {
  const lines: string[] = [];
  const acts = createActivities({
    channels: { outbox: new OutboxChannel(tmpFile('log-outbox-2.jsonl')) },
    policyOverrides: {},
    logLine: (l) => lines.push(l),
  });
  const env = new MockActivityEnvironment();
  await env.run(
    acts.deliverNotification,
    'outbox',
    notification({ incidentId: 'manual "db" down\nnow@2026', step: 'start', target: 'channel' }),
  );
  expect(lines).toEqual([
    'notification delivered channel=outbox incident="manual \\"db\\" down\\nnow@2026" step=start target=channel kind=page severity=P0 ref=line:1',
  ]);
});
