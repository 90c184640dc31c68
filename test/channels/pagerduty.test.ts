import { request, type Dispatcher } from 'undici';
import { createChannelDispatcher, InMemoryKeyValueStore } from '../../src/activities/notify/http';
import {
  PagerDutyChannel,
  pagerDutyDedupKey,
  type PagerDutyConfigInput,
  type PagerDutyEvent,
} from '../../src/activities/notify/pagerduty';
import { failureOf, notification } from '../fakes/notifications';
import { startFakePagerDuty, type FakePagerDuty } from '../fakes/pagerduty';

const ROUTING_KEY = 'R0UT1NGKEY0000000000000000000001';
// undici's headers/body timers have about 1 s granularity; totalMs (an AbortSignal) is exact.
const shortTimeouts = { connectMs: 500, headersMs: 300, bodyMs: 300, totalMs: 600 };

let fake: FakePagerDuty;
let dispatcher: Dispatcher;

beforeAll(async () => {
  fake = await startFakePagerDuty({ routingKey: ROUTING_KEY });
  dispatcher = createChannelDispatcher({ connectMs: 500 });
});
afterAll(async () => {
  await dispatcher.close();
  await fake.stop();
});
beforeEach(() => {
  fake.clear();
  fake.requests.length = 0;
  fake.incidents.clear();
});

function channel(store = new InMemoryKeyValueStore(), extra: Partial<PagerDutyConfigInput> = {}) {
  return new PagerDutyChannel(
    {
      routingKey: ROUTING_KEY,
      baseUrl: fake.url,
      timeouts: shortTimeouts,
      incidentUrlTemplate: 'http://temporal-ui.local/namespaces/default/workflows/{incidentId}',
      ...extra,
    },
    { dispatcher, store },
  );
}

const eventBodies = () => fake.events().map((r) => r.body as PagerDutyEvent);

describe('PagerDuty Events API v2', () => {
  it('trigger, acknowledge and resolve share one dedup_key, so the workflow state propagates', async () => {
    const pd = channel();
    const dedupKey = pagerDutyDedupKey('incident-trading-system-down-abc123');

    const page = await pd.deliver(notification());
    expect(page).toEqual({
      channel: 'pagerduty',
      idempotencyKey: 'incident-trading-system-down-abc123:escalate-P0-0m:oncall-primary',
      outcome: 'delivered',
      ref: dedupKey,
    });
    // a later escalation step (2.3 + Eng Lead at 15 min) goes to the same PagerDuty incident
    await pd.deliver(notification({ step: 'escalate-P0-15m', target: 'eng-lead' }));
    expect(fake.incidents.get(dedupKey)?.status).toBe('triggered');

    await pd.deliver(
      notification({ step: 'ack', target: 'channel', kind: 'acknowledged', incidentStatus: 'acknowledged' }),
    );
    expect(fake.incidents.get(dedupKey)?.status).toBe('acknowledged');
    await pd.deliver(
      notification({
        step: 'resolved',
        target: 'channel',
        kind: 'resolved',
        incidentStatus: 'resolved',
        template: '4.3',
      }),
    );

    const bodies = eventBodies();
    expect(bodies.map((b) => b.event_action)).toEqual(['trigger', 'trigger', 'acknowledge', 'resolve']);
    expect(new Set(bodies.map((b) => b.dedup_key))).toEqual(new Set([dedupKey]));
    expect(fake.incidents.get(dedupKey)).toMatchObject({
      status: 'resolved',
      actions: ['trigger', 'trigger', 'acknowledge', 'resolve'],
    });
  });

  it('the link names the workflow id (what the Temporal UI opens) or the whole incident id', async () => {
    const incidentId = 'incident-trading-system-down-abc123@20261127T141500.000Z';
    await channel(undefined, {
      incidentUrlTemplate:
        'http://temporal-ui.local/namespaces/default/workflows/{workflowId}?incident={incidentId}',
    }).deliver(notification({ incidentId }));
    expect(eventBodies()[0]?.client_url).toBe(
      `http://temporal-ui.local/namespaces/default/workflows/incident-trading-system-down-abc123?incident=${encodeURIComponent(incidentId)}`,
    );
  });

  it('a trigger carries the payload fields PagerDuty shows, with the step in custom_details', async () => {
    await channel().deliver(notification({ step: 'escalate-P0-15m', target: 'eng-lead' }));
    const [body] = eventBodies();
    expect(fake.events()[0]?.headers['content-type']).toContain('application/json');
    expect(body).toMatchObject({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      dedup_key: 'incident-trading-system-down-abc123',
      client_url: 'http://temporal-ui.local/namespaces/default/workflows/incident-trading-system-down-abc123',
      links: [
        {
          href: 'http://temporal-ui.local/namespaces/default/workflows/incident-trading-system-down-abc123',
          text: 'Incident incident-trading-system-down-abc123',
        },
      ],
      payload: {
        summary: '[P0] Trading system down',
        source: 'incident-response',
        severity: 'critical',
        timestamp: '2026-11-27T14:15:00.000Z',
        component: 'usdcop-trading',
        group: 'trading',
        class: 'page',
        custom_details: {
          incident_id: 'incident-trading-system-down-abc123',
          step: 'escalate-P0-15m',
          target: 'eng-lead',
          kind: 'page',
          template: '4.1',
        },
      },
    });
  });

  it('acknowledge and resolve send only routing_key, event_action and dedup_key', async () => {
    await channel().deliver(notification({ kind: 'resolved', step: 'resolved', incidentStatus: 'resolved' }));
    expect(eventBodies()[0]).toEqual({
      routing_key: ROUTING_KEY,
      event_action: 'resolve',
      dedup_key: 'incident-trading-system-down-abc123',
    });
  });

  it.each([
    ['P0', 'critical'],
    ['P1', 'error'],
    ['P2', 'warning'],
    ['P3', 'info'],
  ] as const)('severity %s -> %s', async (severity, expected) => {
    await channel().deliver(notification({ severity }));
    expect(eventBodies()[0]?.payload?.severity).toBe(expected);
  });

  it.each(['repage', 'breach', 'reopened'] as const)('%s -> trigger', async (kind) => {
    await channel().deliver(notification({ kind }));
    expect(eventBodies()[0]?.event_action).toBe('trigger');
  });

  it('update and info send nothing and report ref "skipped"', async () => {
    const pd = channel();
    expect(await pd.deliver(notification({ kind: 'update', step: 'update-1' }))).toMatchObject({
      outcome: 'delivered',
      ref: 'skipped',
    });
    expect(await pd.deliver(notification({ kind: 'info', step: 'info-1' }))).toMatchObject({
      outcome: 'delivered',
      ref: 'skipped',
    });
    expect(fake.events()).toHaveLength(0);
  });

  it('the same idempotency key twice -> one request, the second is a duplicate', async () => {
    const store = new InMemoryKeyValueStore();
    const n = notification();
    await channel(store).deliver(n);
    expect(await channel(store).deliver(n)).toMatchObject({
      outcome: 'duplicate',
      ref: 'incident-trading-system-down-abc123',
    });
    expect(fake.events()).toHaveLength(1);
  });

  it('a 1024-character summary limit and a 255-character dedup_key limit are respected', async () => {
    const longId = `incident-${'x'.repeat(300)}`;
    await channel().deliver(notification({ incidentId: longId, title: 'y'.repeat(2_000) }));
    const [body] = eventBodies();
    expect(body?.payload?.summary.length).toBe(1024);
    expect(body?.dedup_key.length).toBeLessThanOrEqual(255);
    expect(body?.dedup_key).toBe(pagerDutyDedupKey(longId));
    expect(pagerDutyDedupKey(`${longId}a`)).not.toBe(pagerDutyDedupKey(longId));
    expect(fake.events()[0]?.failure).toBeUndefined();
  });
});

describe('PagerDuty errors map to the retry policy', () => {
  it('400 invalid event -> non-retryable ChannelRejected with the errors, routing key not in the error', async () => {
    const store = new InMemoryKeyValueStore();
    const err = await failureOf(
      channel(store, { routingKey: 'WRONGKEY0000000000000000000000000' }).deliver(notification()),
    );
    expect(err).toMatchObject({ type: 'ChannelRejected', nonRetryable: true });
    expect(err.details).toEqual([
      expect.objectContaining({ status: 400, errors: ["'routing_key' is invalid"] }),
    ]);
    expect(`${err.message} ${JSON.stringify(err.details)}`).not.toContain('WRONGKEY');
    expect(store.entries.size).toBe(0);
  });

  it('429 -> retryable; Retry-After becomes nextRetryDelay, none leaves the policy backoff', async () => {
    fake.failNext({
      status: 429,
      retryAfter: 3,
      body: { status: 'throttle event', message: 'Requests for this service are arriving too quickly.' },
    });
    expect(await failureOf(channel().deliver(notification()))).toMatchObject({
      type: 'ChannelRateLimited',
      nonRetryable: false,
      nextRetryDelay: 3000,
    });
    fake.failNext({ status: 429, body: { status: 'throttle event', message: 'slow down' } });
    const err = await failureOf(channel().deliver(notification()));
    expect(err).toMatchObject({ type: 'ChannelRateLimited', nonRetryable: false });
    expect(err.nextRetryDelay).toBeUndefined();
  });

  it.each([500, 502, 503])('%i -> retryable ChannelUnavailable; the retry delivers', async (status) => {
    const store = new InMemoryKeyValueStore();
    fake.failNext({ status });
    expect(await failureOf(channel(store).deliver(notification()))).toMatchObject({
      type: 'ChannelUnavailable',
      nonRetryable: false,
    });
    expect((await channel(store).deliver(notification())).outcome).toBe('delivered');
  });

  it('a 202 body that is not {status:"success", dedup_key} -> retryable ChannelBadResponse', async () => {
    fake.failNext({ status: 202, body: { status: 'queued' } });
    expect(await failureOf(channel().deliver(notification()))).toMatchObject({
      type: 'ChannelBadResponse',
      nonRetryable: false,
    });
  });

  it('a hanging PagerDuty -> retryable ChannelTimeout quickly', async () => {
    fake.hang(1);
    const started = Date.now();
    expect(await failureOf(channel().deliver(notification()))).toMatchObject({
      type: 'ChannelTimeout',
      nonRetryable: false,
    });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('a slow answer inside the timeout is delivered', async () => {
    fake.failNext({ delayMs: 100 });
    expect((await channel().deliver(notification())).outcome).toBe('delivered');
  });
});

describe('the fake PagerDuty validates like the real one', () => {
  const post = async (body: unknown) => {
    const res = await request(`${fake.url}/v2/enqueue`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
      dispatcher,
    });
    return {
      status: res.statusCode,
      body: (await res.body.json()) as { status: string; errors?: string[]; dedup_key?: string },
    };
  };

  it('rejects a missing routing_key or summary with 400 invalid event', async () => {
    const noKey = await post({
      event_action: 'trigger',
      payload: { summary: 's', source: 'x', severity: 'info' },
    });
    expect(noKey).toMatchObject({
      status: 400,
      body: { status: 'invalid event', errors: ["'routing_key' is missing or blank"] },
    });
    const noSummary = await post({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      payload: { source: 'x', severity: 'info' },
    });
    expect(noSummary).toMatchObject({
      status: 400,
      body: { errors: ["'payload.summary' is missing or blank"] },
    });
    const badSeverity = await post({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      payload: { summary: 's', source: 'x', severity: 'P0' },
    });
    expect(badSeverity.body.errors?.[0]).toContain("'payload.severity' is invalid");
    const resolveNoKey = await post({ routing_key: ROUTING_KEY, event_action: 'resolve' });
    expect(resolveNoKey.body.errors).toEqual(["'dedup_key' is missing or blank"]);
  });

  it('accepts a trigger without dedup_key and returns a generated one', async () => {
    const ok = await post({
      routing_key: ROUTING_KEY,
      event_action: 'trigger',
      payload: { summary: 's', source: 'x', severity: 'info' },
    });
    expect(ok).toMatchObject({ status: 202, body: { status: 'success', message: 'Event processed' } });
    expect(ok.body.dedup_key).toMatch(/^[0-9a-f]{32}$/);
  });
});
