// PagerDuty, two-way (issue 11 items 2 and 3): v3 webhooks verified with X-PagerDuty-Signature, matched
// to the incident by the dedup_key the engine sent, deduplicated by event id, and run as the incident's
// Update with the verified contact as `by`. Against the real dev server: a P0 acknowledged in PagerDuty
// stops the engine's re-paging, and the acknowledgement is not echoed back to PagerDuty.
import type { Client } from '@temporalio/client';
import {
  startTestWorker,
  testClient,
  tmpFile,
  uniqueTaskQueue,
  waitFor,
  type TestWorker,
} from '../harness/temporal';
import { resolveUpdate, statusQuery, timelineQuery } from '../../src/workflows/definitions';
import { generateKeyPairSync } from 'node:crypto';
import { recordHistory } from '../harness/history';
import { createChannelDispatcher, InMemoryKeyValueStore } from '../../src/activities/notify/http';
import { readOutbox } from '../../src/activities/notify/outbox';
import { PagerDutyChannel, type PagerDutyEvent } from '../../src/activities/notify/pagerduty';
import { TemporalIncidentStarter } from '../../src/ingress/starter';
import { buildIngress } from '../../src/ingress/server';
import { IngressMetrics } from '../../src/ingress/metrics';
import pino from 'pino';
import { parseContactConfig } from '../../src/playbook/contacts';
import {
  pagerDutySignature,
  pagerDutyWebhook,
  startFakePagerDuty,
  type FakePagerDuty,
} from '../fakes/pagerduty';
import { closeAllApps, defaultRules, FakeStarter, httpClient, testConfig } from '../ingress/helpers';

const SECRET = 'pd-webhook-secret-7d1e';
const contacts = parseContactConfig({
  roles: { 'oncall-primary': { name: 'Ana Gómez', pagerdutyUserId: 'PANA001' } },
  rotations: {
    'oncall-secondary': {
      startDate: '2026-01-05',
      people: [{ name: 'Luis Pérez', pagerdutyUserId: 'PLUIS02' }],
    },
  },
});
const KEY = 'incident-trading-system-down-0123456789abcdef@20261201T120000.000Z';
// The ingress signs the origins it verified; the worker's config has the public key (docs/channels.md "Identity").
const ORIGIN_KEYS = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ORIGIN_PUBLIC = ORIGIN_KEYS.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const ORIGIN_PRIVATE = ORIGIN_KEYS.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

function app(overrides: { requireKnownUsers?: boolean; secrets?: string } = {}) {
  const starter = new FakeStarter();
  const http = httpClient(
    buildIngress(testConfig({ pagerDutyWebhookSecrets: overrides.secrets ?? SECRET }), {
      starter,
      rules: defaultRules(),
      // Unknown users are refused by default; `requireKnownUsers: false` records them by platform id.
      contacts: overrides.requireKnownUsers === false ? { ...contacts, requireKnownUsers: false } : contacts,
    }),
  );
  return { http, starter };
}

const post = (http: ReturnType<typeof app>['http'], body: string, signature?: string) =>
  http.inject({
    method: 'POST',
    url: '/v1/pagerduty/webhooks',
    headers: {
      'content-type': 'application/json',
      ...(signature ? { 'x-pagerduty-signature': signature } : {}),
    },
    payload: body,
  });

afterAll(() => closeAllApps());

describe('the webhook route', () => {
  it('an acknowledgement by a mapped user runs acknowledge as that contact; any by in the payload is ignored', async () => {
    const { http, starter } = app();
    const hook = pagerDutyWebhook({
      eventType: 'incident.acknowledged',
      incidentKey: KEY,
      agentId: 'PANA001',
      agentName: 'ana',
    });
    (hook.event as Record<string, unknown>).by = 'mallory';
    const body = JSON.stringify(hook);
    const res = await post(http, body, pagerDutySignature(body, SECRET));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ outcome: 'accepted', action: 'acknowledge', by: 'Ana Gómez' });
    expect(starter.actions).toEqual([
      {
        workflowId: 'incident-trading-system-down-0123456789abcdef',
        // The whole incident id: the action runs only if it is still the incident running.
        incidentId: KEY,
        name: 'acknowledge',
        payload: {
          by: 'Ana Gómez',
          origin: {
            channel: 'pagerduty',
            userId: 'PANA001',
            known: true,
            role: 'oncall-primary',
            eventId: (hook.event as { id: string }).id,
          },
        },
      },
    ]);
  });

  it('unsigned, forged and replayed events get 401 and run nothing; a rotated secret still verifies', async () => {
    const { http, starter } = app({ secrets: `old-secret,${SECRET}` });
    const body = JSON.stringify(
      pagerDutyWebhook({ eventType: 'incident.acknowledged', incidentKey: KEY, agentId: 'PANA001' }),
    );
    expect((await post(http, body)).statusCode).toBe(401);
    expect((await post(http, body, pagerDutySignature(body, 'forged'))).statusCode).toBe(401);
    expect(
      (await post(http, body, pagerDutySignature(body.replace('PANA001', 'PEVE666'), SECRET))).statusCode,
    ).toBe(401);
    expect((await post(http, body, 'sha256=abc')).statusCode).toBe(401);
    expect(starter.actions).toHaveLength(0);
    // During a rotation PagerDuty signs with both secrets; either one configured verifies.
    expect((await post(http, body, pagerDutySignature(body, 'new-secret', 'old-secret'))).statusCode).toBe(
      200,
    );
    const replayed = await post(http, body, pagerDutySignature(body, SECRET));
    expect(replayed.statusCode).toBe(401);
    expect(replayed.json().error.message).toContain('already accepted');
    const stale = JSON.stringify(
      pagerDutyWebhook({
        eventType: 'incident.acknowledged',
        incidentKey: KEY,
        agentId: 'PANA001',
        occurredAt: '2026-01-01T00:00:00Z',
      }),
    );
    expect((await post(http, stale, pagerDutySignature(stale, SECRET))).statusCode).toBe(401);
    expect(starter.actions).toHaveLength(1);
    // Without a secret configured nothing is accepted.
    const unconfigured = app({ secrets: '' });
    const r = await post(unconfigured.http, body, pagerDutySignature(body, SECRET));
    expect(r.statusCode).toBe(401);
    expect(r.json().error.message).toContain('PAGERDUTY_WEBHOOK_SECRET');
  });

  it('an occurred_at that is not a time, or is in the future, is refused like a stale one; nothing runs', async () => {
    const { http, starter } = app();
    const send = async (occurredAt: string) => {
      const body = JSON.stringify(
        pagerDutyWebhook({
          eventType: 'incident.acknowledged',
          incidentKey: KEY,
          agentId: 'PANA001',
          occurredAt,
        }),
      );
      return post(http, body, pagerDutySignature(body, SECRET));
    };
    for (const occurredAt of [
      'not-a-date',
      '2099-01-01T00:00:00Z',
      new Date(Date.now() + 10 * 60_000).toISOString(),
      '1', // Date.parse reads the year 2001
      '',
      new Date(Date.now() - 13 * 3600_000).toISOString(),
    ]) {
      const res = await send(occurredAt);
      expect([occurredAt, res.statusCode]).toEqual([occurredAt, 401]);
      expect(res.json().error.field).toBe('event.occurred_at');
    }
    expect(starter.actions).toHaveLength(0);
    // Within the clock skew allowed (the 5-minute replay window), and PagerDuty's own spelling: accepted.
    expect((await send(new Date(Date.now() + 60_000).toISOString())).statusCode).toBe(200);
    expect(
      (await send(new Date(Date.now() - 3600_000).toISOString().replace('Z', '+00:00'))).statusCode,
    ).toBe(200);
    expect(starter.actions).toHaveLength(2);
  });

  it('an unmapped user is refused by default (told why), or recorded by platform id with requireKnownUsers off', async () => {
    const open = app({ requireKnownUsers: false });
    const body = JSON.stringify(
      pagerDutyWebhook({
        eventType: 'incident.resolved',
        incidentKey: KEY,
        agentId: 'PZED999',
        agentName: 'zed',
      }),
    );
    const res = await post(open.http, body, pagerDutySignature(body, SECRET));
    expect(res.json()).toMatchObject({ outcome: 'accepted', action: 'resolve', by: 'pagerduty:PZED999' });
    expect(open.starter.actions[0]!.payload).toMatchObject({ origin: { known: false, userId: 'PZED999' } });
    const strict = app();
    const refused = await post(strict.http, body, pagerDutySignature(body, SECRET));
    expect(refused.statusCode).toBe(200);
    expect(refused.json()).toMatchObject({
      outcome: 'refused',
      reason: 'PagerDuty user PZED999 is not in contacts and contacts.requireKnownUsers is set',
    });
    expect(strict.starter.actions).toHaveLength(0);
  });

  it('reassignment and escalation become notes; events of other incidents are ignored', async () => {
    const { http, starter } = app();
    for (const eventType of ['incident.reassigned', 'incident.escalated']) {
      const body = JSON.stringify(
        pagerDutyWebhook({
          eventType,
          incidentKey: KEY,
          agentId: 'PLUIS02',
          assignees: [{ id: 'PLUIS02', summary: 'Luis Pérez' }],
        }),
      );
      expect((await post(http, body, pagerDutySignature(body, SECRET))).json()).toMatchObject({
        outcome: 'accepted',
        action: 'addNote',
        by: 'Luis Pérez',
      });
    }
    expect(starter.actions.map((a) => (a.payload as { text: string }).text)).toEqual([
      'PagerDuty: reassigned to Luis Pérez',
      'PagerDuty: escalated to Luis Pérez (Trading on-call)',
    ]);
    const other = JSON.stringify(
      pagerDutyWebhook({
        eventType: 'incident.acknowledged',
        incidentKey: 'd3640fbd41094207a1c11e58e46b1662',
        agentId: 'PANA001',
      }),
    );
    expect((await post(http, other, pagerDutySignature(other, SECRET))).json()).toMatchObject({
      outcome: 'ignored',
    });
    expect(starter.actions).toHaveLength(2);
  });
});

describe('against the real dev server', () => {
  const taskQueue = uniqueTaskQueue('pd-two-way');
  const outboxFile = tmpFile('pd-two-way-outbox.jsonl');
  let worker: TestWorker;
  let client: Client;
  let closeClient: () => Promise<void>;
  let pagerduty: FakePagerDuty;

  beforeAll(async () => {
    pagerduty = await startFakePagerDuty();
    const timeouts = { connectMs: 500, headersMs: 1000, bodyMs: 1000, totalMs: 1500 };
    worker = await startTestWorker({
      taskQueue,
      outboxFile,
      deps: {
        policyOverrides: { originVerifyKey: ORIGIN_PUBLIC },
        channels: {
          pagerduty: new PagerDutyChannel(
            { routingKey: 'R0UTINGKEY0123456789012345678901', baseUrl: pagerduty.url, timeouts },
            { dispatcher: createChannelDispatcher(timeouts), store: new InMemoryKeyValueStore() },
          ),
        },
      },
    });
    ({ client, close: closeClient } = await testClient());
  });
  afterAll(async () => {
    await closeClient();
    await worker.stop();
    await pagerduty.stop();
  });

  test('a P0 acknowledged in PagerDuty stops the re-paging, and PagerDuty is not sent its own acknowledgement', async () => {
    const timeScale = 60; // P0 re-pages every 5 playbook minutes: every 5 s
    const workflowId = `incident-pd-two-way-${Date.now()}`;
    const h = await client.workflow.start('incidentWorkflow', {
      taskQueue,
      workflowId,
      args: [
        {
          title: 'Trading API down',
          severity: 'P0',
          timeScale,
          policy: { channels: ['outbox', 'pagerduty'] },
        },
      ],
    });
    const st = () => h.query(statusQuery);
    const { incidentId } = await st();
    await waitFor(
      async () => readOutbox(outboxFile),
      (r) => r.some((n) => n.incidentId === incidentId && n.kind === 'repage'),
      { what: 'a first re-page', timeoutMs: 30_000 },
    );
    const triggered = pagerduty.events().map((r) => r.body as PagerDutyEvent);
    expect(triggered.some((e) => e.event_action === 'trigger' && e.dedup_key === incidentId)).toBe(true);

    const ingress = httpClient(
      buildIngress(testConfig({ taskQueue, pagerDutyWebhookSecrets: SECRET }), {
        starter: new TemporalIncidentStarter({
          taskQueue,
          timeoutMs: 10_000,
          client,
          originSigningKey: ORIGIN_PRIVATE,
        }),
        rules: defaultRules(),
        contacts,
      }),
    );
    // PagerDuty's incident carries the engine's dedup_key as its incident_key.
    const body = JSON.stringify(
      pagerDutyWebhook({
        eventType: 'incident.acknowledged',
        incidentKey: incidentId,
        agentId: 'PANA001',
        agentName: 'ana',
      }),
    );
    const res = await post(ingress, body, pagerDutySignature(body, SECRET));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      outcome: 'accepted',
      result: { accepted: true, status: 'acknowledged' },
    });
    const acked = await st();
    expect(acked.acknowledgedBy).toBe('Ana Gómez');
    const ackAt = Date.parse(acked.acknowledgedAt!);

    // Two more re-page periods: nothing composed after the acknowledgement.
    await new Promise((r) => setTimeout(r, 12_000));
    const records = (await readOutbox(outboxFile)).filter((n) => n.incidentId === incidentId);
    expect(records.filter((n) => n.kind === 'repage' && Date.parse(n.createdAt) > ackAt)).toEqual([]);
    expect(records.filter((n) => n.kind === 'acknowledged').map((n) => n.text)).toEqual([
      'ACK: Ana Gómez is investigating "Trading API down"',
    ]);
    // Not echoed: PagerDuty got no acknowledge event for its own acknowledgement.
    const actions = pagerduty
      .events()
      .map((r) => r.body as PagerDutyEvent)
      .filter((e) => e.dedup_key === incidentId)
      .map((e) => e.event_action);
    expect(actions).not.toContain('acknowledge');
    const timeline = await h.query(timelineQuery);
    expect(timeline.find((e) => e.type === 'acknowledged')).toMatchObject({
      actor: 'Ana Gómez',
      text: 'Acknowledged by Ana Gómez in PagerDuty (verified, oncall-primary)',
    });
    // A second delivery of the same event is refused and changes nothing.
    expect((await post(ingress, body, pagerDutySignature(body, SECRET))).statusCode).toBe(401);
    await recordHistory(h, 'pagerduty-ack-no-echo');
    await h.terminate('test done');
  }, 90_000);

  test('an event about a closed incident is refused (2xx, logged, counted) and never reaches the next incident on its workflow id', async () => {
    const workflowId = `incident-pd-reused-${Date.now()}`;
    const start = () =>
      client.workflow.start('incidentWorkflow', {
        taskQueue,
        workflowId,
        args: [
          {
            title: 'Trading API down',
            severity: 'P2',
            timeScale: 60,
            policy: { channels: ['outbox'], reopenWindowMinutes: 0 },
          },
        ],
      });
    // A: resolved and closed. B: the same alert firing again later, on the same workflow id.
    const a = await start();
    const incidentA = (await a.query(statusQuery)).incidentId;
    await a.executeUpdate(resolveUpdate, { args: [{ by: 'Ana Gómez', resolution: 'restarted' }] });
    await a.result();
    const b = await start();
    const incidentB = (await b.query(statusQuery)).incidentId;
    expect(incidentB).not.toBe(incidentA);
    expect(incidentB.startsWith(`${workflowId}@`)).toBe(true);

    const lines: string[] = [];
    const metrics = new IngressMetrics();
    const ingress = httpClient(
      buildIngress(testConfig({ taskQueue, pagerDutyWebhookSecrets: SECRET }), {
        starter: new TemporalIncidentStarter({
          taskQueue,
          timeoutMs: 10_000,
          client,
          originSigningKey: ORIGIN_PRIVATE,
        }),
        rules: defaultRules(),
        contacts,
        metrics,
        logger: pino({ level: 'info' }, { write: (l: string) => void lines.push(l) }),
      }),
    );
    for (const eventType of ['incident.acknowledged', 'incident.resolved']) {
      const body = JSON.stringify(
        pagerDutyWebhook({ eventType, incidentKey: incidentA, agentId: 'PANA001', agentName: 'ana' }),
      );
      const res = await post(ingress, body, pagerDutySignature(body, SECRET));
      // 2xx: PagerDuty retries anything else, and no retry can make this apply.
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({
        outcome: 'other-incident',
        incidentId: incidentA,
        runningIncidentId: incidentB,
        reason: expect.stringContaining(`incident ${incidentA}, which is over`),
      });
    }
    const st = await b.query(statusQuery);
    expect(st).toMatchObject({ incidentId: incidentB, status: 'triggered', acknowledgedBy: null });
    const timeline = await b.query(timelineQuery);
    expect(timeline.filter((e) => e.actor === 'Ana Gómez')).toEqual([]);
    const refusals = lines
      .map((l) => JSON.parse(l) as { msg: string; level: number; incidentId?: string })
      .filter((l) => l.msg.startsWith('PagerDuty event refused'));
    expect(refusals).toHaveLength(2);
    expect(refusals[0]).toMatchObject({ level: 40, incidentId: incidentA });
    expect(await metrics.render()).toMatch(
      /ingress_channel_actions_total\{channel="pagerduty",action="acknowledge",outcome="other-incident"\} 1/,
    );

    // B's own event still acknowledges B.
    const own = JSON.stringify(
      pagerDutyWebhook({ eventType: 'incident.acknowledged', incidentKey: incidentB, agentId: 'PANA001' }),
    );
    const res = await post(ingress, own, pagerDutySignature(own, SECRET));
    expect(res.json()).toMatchObject({ outcome: 'accepted', incidentId: incidentB });
    expect((await b.query(statusQuery)).acknowledgedBy).toBe('Ana Gómez');
    await b.terminate('test done');
  }, 90_000);
});
