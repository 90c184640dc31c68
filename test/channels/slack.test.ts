import { request, type Dispatcher } from 'undici';
import {
  createChannelDispatcher,
  InMemoryKeyValueStore,
  parseRetryAfter,
} from '../../src/activities/notify/http';
import { failureOf, notification } from '../fakes/notifications';
import {
  SlackChannel,
  slackMention,
  toMrkdwn,
  type SlackConfigInput,
} from '../../src/activities/notify/slack';
import { parseContactConfig } from '../../src/playbook/contacts';
import { startFakeSlack, type FakeSlack } from '../fakes/slack';

// undici's headers/body timers have about 1 s granularity; totalMs (an AbortSignal) is exact.
const shortTimeouts = { connectMs: 500, headersMs: 300, bodyMs: 300, totalMs: 600 };
const NOW = Date.parse('2026-11-27T14:16:00Z'); // Friday 09:16 COT

let fake: FakeSlack;
let dispatcher: Dispatcher;

beforeAll(async () => {
  fake = await startFakeSlack();
  dispatcher = createChannelDispatcher({ connectMs: 500 });
});
afterAll(async () => {
  await dispatcher.close();
  await fake.stop();
});
beforeEach(() => {
  fake.clear();
  fake.requests.length = 0;
  fake.messages.clear();
});

function webhookChannel(store = new InMemoryKeyValueStore(), extra: Partial<SlackConfigInput> = {}) {
  return new SlackChannel(
    { mode: 'webhook', webhookUrl: fake.webhookUrl, timeouts: shortTimeouts, ...extra } as SlackConfigInput,
    {
      dispatcher,
      store,
      now: () => NOW,
    },
  );
}

const contacts = parseContactConfig({
  rotations: {
    'oncall-primary': {
      people: [
        { name: 'Ana', slack: 'U0ANA' },
        { name: 'Bruno', slack: 'U0BRUNO' },
      ],
      startDate: '2026-11-23',
    },
  },
  roles: { 'eng-lead': { slack: 'U0ENGLEAD', name: 'Elena' } },
});

function apiChannel(
  store = new InMemoryKeyValueStore(),
  extra: { threadReplies?: boolean; botToken?: string } = {},
) {
  return new SlackChannel(
    {
      mode: 'web-api',
      botToken: extra.botToken ?? fake.botToken,
      channel: '#trading-incidents',
      apiBaseUrl: fake.apiBaseUrl,
      timeouts: shortTimeouts,
      threadReplies: extra.threadReplies ?? true,
    },
    { dispatcher, store, contacts, now: () => NOW },
  );
}

function expectNoSecrets(err: Error) {
  const dump = `${err.message} ${JSON.stringify((err as { details?: unknown }).details ?? null)} ${err.stack ?? ''}`;
  expect(dump).not.toContain('fakewebhooksecret');
  expect(dump).not.toContain(fake.botToken);
}

describe('Slack incoming webhook', () => {
  it('posts {text, blocks} with header, template section, Severity/Status fields and a COT context', async () => {
    const result = await webhookChannel().deliver(notification());
    expect(result).toEqual({
      channel: 'slack',
      idempotencyKey: 'incident-trading-system-down-abc123:escalate-P0-0m:oncall-primary',
      outcome: 'delivered',
      ref: 'webhook',
    });
    const [req] = fake.webhookRequests();
    expect(req?.headers['content-type']).toContain('application/json');
    const body = req?.body as {
      text: string;
      blocks: {
        type: string;
        text?: { text: string };
        fields?: { text: string }[];
        elements?: { text: string }[];
      }[];
    };
    expect(body.text).toContain('[P0]');
    expect(body.text).toContain('Trading system down');
    expect(body.blocks.map((b) => b.type)).toEqual([
      'header',
      'section',
      'section',
      'section',
      'actions',
      'context',
    ]);
    // The buttons the ingress handles (POST /v1/slack/interactions), carrying the incident id.
    const actions = body.blocks[4] as unknown as { elements: { action_id: string; value: string }[] };
    expect(actions.elements.map((e) => e.action_id)).toEqual([
      'incident.acknowledge',
      'incident.resolve',
      'incident.escalate',
    ]);
    expect(new Set(actions.elements.map((e) => e.value))).toEqual(new Set([notification().incidentId]));
    expect(body.blocks[0]?.text?.text).toBe(':rotating_light: INCIDENT: Trading system down');
    expect(body.blocks[1]?.text?.text).toBe('Paging @oncall-primary (On-Call Primary)'); // 2.1 default handle
    expect(body.blocks[2]?.text?.text).toContain('*INCIDENT: Trading system down*'); // ** -> *
    expect(body.blocks[3]?.fields?.map((f) => f.text)).toEqual([
      '*Severity*\nP0 Critical',
      '*Status*\nTriggered',
    ]);
    expect(body.blocks[5]?.elements?.[0]?.text).toBe(
      'Incident `incident-trading-system-down-abc123` · escalate-P0-0m · 2026-11-27 09:15 COT',
    );
  });

  it('delivers a key once: the second call is a duplicate and sends nothing', async () => {
    const channel = webhookChannel();
    const n = notification();
    expect((await channel.deliver(n)).outcome).toBe('delivered');
    expect(await channel.deliver(n)).toMatchObject({ outcome: 'duplicate', ref: 'webhook' });
    expect(fake.webhookRequests()).toHaveLength(1);
  });

  it('429 with Retry-After -> retryable ChannelRateLimited with nextRetryDelay; the retry then delivers once', async () => {
    const store = new InMemoryKeyValueStore();
    fake.failNext({ status: 429, retryAfter: 7, body: 'rate_limited' });
    const err = await failureOf(webhookChannel(store).deliver(notification()));
    expect(err).toMatchObject({ type: 'ChannelRateLimited', nonRetryable: false, nextRetryDelay: 7000 });
    expect(store.entries.size).toBe(0); // a failed send is not marked delivered
    expect((await webhookChannel(store).deliver(notification())).outcome).toBe('delivered');
    expect(fake.webhookRequests()).toHaveLength(2);
  });

  it('429 without Retry-After uses the configured default delay', async () => {
    fake.failNext({ status: 429 });
    const err = await failureOf(
      webhookChannel(undefined, { defaultRetryAfterSeconds: 12 }).deliver(notification()),
    );
    expect(err).toMatchObject({ type: 'ChannelRateLimited', nextRetryDelay: 12_000 });
  });

  it.each([
    [400, 'invalid_payload'],
    [400, 'no_text'],
    [403, 'action_prohibited'],
    [404, 'no_service'],
    [410, 'channel_is_archived'],
  ])('%i %s -> non-retryable ChannelRejected', async (status, code) => {
    fake.failNext({ status, body: code });
    const err = await failureOf(webhookChannel().deliver(notification()));
    expect(err).toMatchObject({ type: 'ChannelRejected', nonRetryable: true });
    expect(err.message).toContain(code);
    expectNoSecrets(err);
  });

  it('a webhook URL the workspace does not know -> 404 no_service, non-retryable, URL not in the error', async () => {
    const channel = new SlackChannel(
      { mode: 'webhook', webhookUrl: `${fake.url}/services/T0/B0/revokedsecret`, timeouts: shortTimeouts },
      { dispatcher, store: new InMemoryKeyValueStore() },
    );
    const err = await failureOf(channel.deliver(notification()));
    expect(err).toMatchObject({ type: 'ChannelRejected', nonRetryable: true });
    expect(err.message).toContain('no_service');
    expect(err.message).not.toContain('revokedsecret');
  });

  it('5xx -> retryable ChannelUnavailable', async () => {
    fake.failNext({ status: 503 });
    expect(await failureOf(webhookChannel().deliver(notification()))).toMatchObject({
      type: 'ChannelUnavailable',
      nonRetryable: false,
    });
  });

  it('200 without "ok" -> retryable ChannelBadResponse', async () => {
    fake.failNext({ status: 200, body: '<html>captive portal</html>' });
    expect(await failureOf(webhookChannel().deliver(notification()))).toMatchObject({
      type: 'ChannelBadResponse',
      nonRetryable: false,
    });
  });

  it('a hanging Slack -> retryable ChannelTimeout within the configured timeout', async () => {
    fake.hang();
    const started = Date.now();
    const err = await failureOf(webhookChannel().deliver(notification()));
    const elapsed = Date.now() - started;
    expect(err).toMatchObject({ type: 'ChannelTimeout', nonRetryable: false });
    expect(elapsed).toBeLessThan(1_500);
    expectNoSecrets(err);
  });

  it('a slow but in-time answer is delivered', async () => {
    fake.failNext({ delayMs: 100 });
    expect((await webhookChannel().deliver(notification())).outcome).toBe('delivered');
  });

  it('nothing listening -> retryable ChannelNetworkError', async () => {
    const channel = new SlackChannel(
      { mode: 'webhook', webhookUrl: 'http://127.0.0.1:9/services/T/B/x', timeouts: shortTimeouts },
      { dispatcher, store: new InMemoryKeyValueStore() },
    );
    expect(await failureOf(channel.deliver(notification()))).toMatchObject({ nonRetryable: false });
  });

  it('a very long title still fits the 150-character header limit the real service enforces', async () => {
    await webhookChannel().deliver(notification({ title: 'x'.repeat(400), text: 'y'.repeat(7_000) }));
    expect(fake.webhookRequests()).toHaveLength(1); // the fake answered ok: blocks were valid
  });
});

describe('the fake Slack validates like the real one', () => {
  it('rejects empty text with no_text and bad JSON with invalid_payload', async () => {
    const post = async (body: string) => {
      const res = await request(fake.webhookUrl, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
        dispatcher,
      });
      return { status: res.statusCode, text: await res.body.text() };
    };
    expect(await post(JSON.stringify({ text: '' }))).toEqual({ status: 400, text: 'no_text' });
    expect(await post('{not json')).toEqual({ status: 400, text: 'invalid_payload' });
    expect(await post(JSON.stringify({ text: 'hi' }))).toEqual({ status: 200, text: 'ok' });
  });
});

describe('Slack Web API (chat.postMessage / chat.update)', () => {
  it('posts the first message with the bot token and mentions the on-call person from the rotation', async () => {
    const result = await apiChannel().deliver(notification());
    const [req] = fake.apiRequests('chat.postMessage');
    expect(req?.headers.authorization).toBe(`Bearer ${fake.botToken}`);
    expect(req?.body).toMatchObject({ channel: '#trading-incidents' });
    expect((req?.body as { thread_ts?: string }).thread_ts).toBeUndefined();
    expect(result.outcome).toBe('delivered');
    const msg = fake.messages.get(result.ref ?? '');
    expect(msg?.channel).toBe('C0INCIDENTS');
    // Week of 2026-11-23 Monday 09:00 COT: Ana; Bruno from 2026-11-30.
    expect(msg?.text).toContain('<@U0ANA>');
    expect(JSON.stringify(msg?.blocks)).toContain('Paging <@U0ANA> (Ana, On-Call Primary)');
  });

  it('threads later messages, and edits the first message with chat.update on acknowledge and resolve', async () => {
    const channel = apiChannel();
    const first = await channel.deliver(notification());
    const rootTs = first.ref ?? '';

    // 2.3 escalation step: a threaded reply, also broadcast to the channel because it pages.
    const escalation = await channel.deliver(notification({ step: 'escalate-P0-15m', target: 'eng-lead' }));
    expect(fake.messages.get(escalation.ref ?? '')).toMatchObject({
      thread_ts: rootTs,
      reply_broadcast: true,
    });
    expect(JSON.stringify(fake.messages.get(escalation.ref ?? '')?.blocks)).toContain(
      'Paging <@U0ENGLEAD> (Elena, Engineering Lead)',
    );

    // 4.2 update: threaded, not broadcast
    const upd = await channel.deliver(
      notification({
        step: 'update-1',
        target: 'channel',
        kind: 'update',
        text: ':loudspeaker: **UPDATE: Trading system down**',
        template: '4.2',
      }),
    );
    expect(fake.messages.get(upd.ref ?? '')).toMatchObject({ thread_ts: rootTs });
    expect(fake.messages.get(upd.ref ?? '')?.reply_broadcast).toBeUndefined();

    await channel.deliver(
      notification({
        step: 'ack',
        target: 'channel',
        kind: 'acknowledged',
        text: 'Acknowledged by ana',
        incidentStatus: 'acknowledged',
      }),
    );
    expect(fake.messages.get(rootTs)?.edits).toBe(1);
    expect(JSON.stringify(fake.messages.get(rootTs)?.blocks)).toContain('*Status*\\nAcknowledged');

    fake.requests.length = 0;
    const resolved = await channel.deliver(
      notification({
        step: 'resolved',
        target: 'channel',
        kind: 'resolved',
        text: ':white_check_mark: **RESOLVED: Trading system down**\n\n**Duration**: 42 minutes',
        template: '4.3',
        incidentStatus: 'resolved',
        createdAt: '2026-11-27T14:57:00.000Z',
      }),
    );
    const [update] = fake.apiRequests('chat.update');
    expect(update?.body).toMatchObject({ channel: 'C0INCIDENTS', ts: rootTs });
    const root = fake.messages.get(rootTs);
    expect(root?.edits).toBe(2);
    const rootBlocks = JSON.stringify(root?.blocks);
    expect(rootBlocks).toContain(':white_check_mark: RESOLVED: Trading system down');
    expect(rootBlocks).toContain('*INCIDENT: Trading system down*'); // the 4.1 text stays on the root
    expect(rootBlocks).toContain('Resolved 2026-11-27 09:57 COT');
    // the 4.3 text is a threaded reply
    expect(fake.messages.get(resolved.ref ?? '')).toMatchObject({ thread_ts: rootTs });
    expect(JSON.stringify(fake.messages.get(resolved.ref ?? '')?.blocks)).toContain('*Duration*: 42 minutes');
    // only one top-level message for the whole incident
    expect([...fake.messages.values()].filter((m) => !m.thread_ts)).toHaveLength(1);
  });

  it('without thread replies: updates are new messages and resolve edits the root with the 4.3 text appended', async () => {
    const channel = apiChannel(undefined, { threadReplies: false });
    const rootTs = (await channel.deliver(notification())).ref ?? '';
    const upd = await channel.deliver(notification({ step: 'update-1', kind: 'update', target: 'channel' }));
    expect(fake.messages.get(upd.ref ?? '')?.thread_ts).toBeUndefined();
    const res = await channel.deliver(
      notification({
        step: 'resolved',
        kind: 'resolved',
        target: 'channel',
        text: '**RESOLVED**: done',
        incidentStatus: 'resolved',
      }),
    );
    expect(res.ref).toBe(rootTs);
    expect(fake.apiRequests('chat.update')).toHaveLength(1);
    expect(JSON.stringify(fake.messages.get(rootTs)?.blocks)).toContain('*RESOLVED*: done');
  });

  it('the same key twice -> one request; the root ts survives in the store for a new channel instance', async () => {
    const store = new InMemoryKeyValueStore();
    const n = notification();
    await apiChannel(store).deliver(n);
    expect((await apiChannel(store).deliver(n)).outcome).toBe('duplicate');
    expect(fake.apiRequests()).toHaveLength(1);
    // a restarted worker (new instance, same store) still edits the stored message
    await apiChannel(store).deliver(
      notification({ step: 'resolved', kind: 'resolved', target: 'channel', incidentStatus: 'resolved' }),
    );
    expect(fake.apiRequests('chat.update')).toHaveLength(1);
  });

  it('concurrent first messages of one incident: one root, the other a threaded reply', async () => {
    const channel = apiChannel();
    const [a, b] = await Promise.all([
      channel.deliver(notification({ target: 'channel', step: 'start' })),
      channel.deliver(notification()),
    ]);
    expect(fake.messages.get(a.ref ?? '')?.thread_ts).toBeUndefined();
    expect(fake.messages.get(b.ref ?? '')?.thread_ts).toBe(a.ref);
  });

  it('if the stored message cannot be edited (message_not_found), posts a new one instead', async () => {
    const channel = apiChannel();
    const rootTs = (await channel.deliver(notification())).ref ?? '';
    fake.messages.delete(rootTs);
    const res = await channel.deliver(
      notification({ step: 'resolved', kind: 'resolved', target: 'channel', incidentStatus: 'resolved' }),
    );
    expect(res.outcome).toBe('delivered');
    expect(fake.messages.get(res.ref ?? '')?.thread_ts).toBeUndefined();
  });

  it('HTTP 200 with ok:false is a failure: channel_not_found is non-retryable', async () => {
    fake.failNext({ status: 200, body: { ok: false, error: 'channel_not_found' } });
    const store = new InMemoryKeyValueStore();
    const err = await failureOf(apiChannel(store).deliver(notification()));
    expect(err).toMatchObject({ type: 'ChannelRejected', nonRetryable: true });
    expect(err.message).toContain('channel_not_found');
    expect(store.entries.size).toBe(0);
  });

  it('a wrong token -> invalid_auth from the fake, non-retryable, token not in the error', async () => {
    const err = await failureOf(
      apiChannel(undefined, { botToken: 'xoxb-wrong-secret-token' }).deliver(notification()),
    );
    expect(err).toMatchObject({ type: 'ChannelRejected', nonRetryable: true });
    expect(err.message).toContain('invalid_auth');
    expect(`${err.message} ${JSON.stringify(err.details)}`).not.toContain('xoxb-wrong-secret-token');
  });

  it('ok:false internal_error is retryable; ok:false ratelimited carries the default delay', async () => {
    fake.failNext({ status: 200, body: { ok: false, error: 'internal_error' } });
    expect(await failureOf(apiChannel().deliver(notification()))).toMatchObject({
      type: 'ChannelUnavailable',
      nonRetryable: false,
    });
    fake.failNext({ status: 200, body: { ok: false, error: 'ratelimited' } });
    expect(await failureOf(apiChannel().deliver(notification()))).toMatchObject({
      type: 'ChannelRateLimited',
      nextRetryDelay: 30_000,
    });
  });

  it('429 with Retry-After -> retryable with nextRetryDelay', async () => {
    fake.failNext({ status: 429, retryAfter: 3, body: { ok: false, error: 'ratelimited' } });
    expect(await failureOf(apiChannel().deliver(notification()))).toMatchObject({
      type: 'ChannelRateLimited',
      nonRetryable: false,
      nextRetryDelay: 3000,
    });
  });

  it('a 200 body that is not the documented shape -> retryable ChannelBadResponse', async () => {
    fake.failNext({ status: 200, body: { ok: true } });
    expect(await failureOf(apiChannel().deliver(notification()))).toMatchObject({
      type: 'ChannelBadResponse',
      nonRetryable: false,
    });
  });

  it('hang -> ChannelTimeout quickly', async () => {
    fake.hang(1);
    const started = Date.now();
    expect(await failureOf(apiChannel().deliver(notification()))).toMatchObject({ type: 'ChannelTimeout' });
    expect(Date.now() - started).toBeLessThan(1_500);
  });
});

describe('formatting helpers', () => {
  it('converts playbook markdown to Slack mrkdwn and escapes control characters', () => {
    expect(toMrkdwn('**Severity**: P0 <b> & [runbook](https://x.example/rb)')).toBe(
      '*Severity*: P0 &lt;b&gt; &amp; <https://x.example/rb|runbook>',
    );
  });
  it('mentions user ids, user groups and plain handles', () => {
    expect(slackMention('U024BE7LH')).toBe('<@U024BE7LH>');
    expect(slackMention('S0614TZR7')).toBe('<!subteam^S0614TZR7>');
    expect(slackMention('@eng-lead')).toBe('@eng-lead');
    expect(slackMention('@here')).toBe('<!here>');
  });
  it('parses Retry-After seconds and HTTP-dates', () => {
    expect(parseRetryAfter('30')).toBe(30);
    expect(parseRetryAfter('Fri, 27 Nov 2026 14:16:10 GMT', NOW)).toBe(10);
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});
