// Slack, two-way (issue 11 items 1 and 3): the buttons on the engine's messages and `/incident`, verified
// with the signing secret, run as the incident's Updates as the mapped contact, with the answer as an
// ephemeral reply. Wire formats as Slack sends them: form-encoded `payload=` JSON for interactions, the
// command's form fields, `response_url`, `trigger_id` for views.open. Against the real dev server: a P1
// acknowledged by clicking the button in the fake Slack shows the contact and stops the re-paging.
import type { Client } from '@temporalio/client';
import type { AcknowledgeInput, IncidentStatus } from '../../src/playbook/contract/incident';
import type { MonitorStatus } from '../../src/playbook/contract/heartbeat';
import {
  acknowledgeUpdate,
  addNoteUpdate,
  resolveUpdate,
  statusQuery,
  timelineQuery,
} from '../../src/workflows/definitions';
import {
  startTestWorker,
  testClient,
  tmpFile,
  uniqueTaskQueue,
  waitFor,
  type TestWorker,
} from '../harness/temporal';
import { recordHistory } from '../harness/history';
import { createHmac, generateKeyPairSync } from 'node:crypto';
import { createChannelDispatcher, InMemoryKeyValueStore } from '../../src/activities/notify/http';
import { readOutbox } from '../../src/activities/notify/outbox';
import { actionButtons, SlackChannel } from '../../src/activities/notify/slack';
import { notification } from '../fakes/notifications';
import { buildIngress } from '../../src/ingress/server';
import { signOrigin, TemporalIncidentStarter } from '../../src/ingress/starter';
import { parseContactConfig, type ContactConfig } from '../../src/playbook/contacts';
import { ROLE_IDS } from '../../src/playbook/roles';
import { startFakeHttpService, startFakeSlack, type FakeSlack } from '../fakes/slack';
import { loadIngressConfig } from '../../src/ingress/config';
import { responseUrlAllowed } from '../../src/ingress/slack';
import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import { closeAllApps, defaultRules, FakeStarter, httpClient, testConfig } from '../ingress/helpers';

const SECRET = 'slack-signing-secret-8f2b';
const INCIDENT = 'incident-trading-system-down-0123456789abcdef@20261201T120000.000Z';
const WORKFLOW = 'incident-trading-system-down-0123456789abcdef';
const contacts = parseContactConfig({
  roles: { 'oncall-primary': { name: 'Ana Gómez', slackUserId: 'U0ANA' } },
});
// The ingress signs the origins it verified; the worker's config has the public key (docs/channels.md "Identity").
const ORIGIN_KEYS = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ORIGIN_PUBLIC = ORIGIN_KEYS.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const ORIGIN_PRIVATE = ORIGIN_KEYS.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(async () => {
  await closeAllApps();
  await slack.stop();
});

function signed(body: string, at = Date.now(), secret = SECRET) {
  const ts = String(Math.floor(at / 1000));
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': ts,
    'x-slack-signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`,
  };
}
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();

function app(
  opts: {
    requireKnownUsers?: boolean;
    botToken?: boolean;
    /** Where response_url may point; default: the fake Slack's origin. */
    responseUrlHosts?: string;
    logger?: FastifyBaseLogger;
    /** Other contacts than the file's (requireKnownUsers as they say). */
    contacts?: ContactConfig;
    /** The ingress's clock (the on-call roster of the FakeStarter keeps it too). */
    now?: () => number;
  } = {},
) {
  const starter = new FakeStarter();
  if (opts.now) starter.oncallNow = opts.now;
  const http = httpClient(
    buildIngress(
      testConfig({
        slackSigningSecrets: SECRET,
        slackApiBaseUrl: slack.apiBaseUrl,
        slackResponseUrlHosts: opts.responseUrlHosts ?? slack.url,
        ...(opts.botToken === false ? {} : { slackBotToken: slack.botToken }),
      }),
      {
        starter,
        rules: defaultRules(),
        // Unknown users are refused by default; `requireKnownUsers: false` lets them act as slack:<id>.
        contacts:
          opts.contacts ??
          (opts.requireKnownUsers === false ? { ...contacts, requireKnownUsers: false } : contacts),
        ...(opts.logger ? { logger: opts.logger } : {}),
        ...(opts.now ? { now: opts.now } : {}),
      },
    ),
  );
  return { http, starter };
}

/** A block_actions interaction as Slack sends it when someone clicks a button. */
function click(actionId: string, value: string, userId = 'U0ANA') {
  const { triggerId, responseUrl } = slack.interaction();
  return {
    responseUrl,
    body: form({
      payload: JSON.stringify({
        type: 'block_actions',
        user: { id: userId, username: 'ana', team_id: 'T0FAKE' },
        api_app_id: 'A0FAKE',
        token: 'deprecated-verification-token',
        trigger_id: triggerId,
        team: { id: 'T0FAKE', domain: 'acme' },
        channel: { id: 'C0INCIDENTS', name: 'trading-incidents' },
        response_url: responseUrl,
        actions: [
          {
            type: 'button',
            action_id: actionId,
            block_id: 'incident-actions',
            text: { type: 'plain_text', text: 'x' },
            value,
            action_ts: `${Date.now() / 1000}`,
          },
        ],
      }),
    }),
  };
}

/** A signed interaction POSTed as Slack does. */
const interact = (http: ReturnType<typeof app>['http'], body: string) =>
  http.inject({ method: 'POST', url: '/v1/slack/interactions', headers: signed(body), payload: body });

const replyTo = (responseUrl: string) =>
  waitFor(
    async () => slack.responses.find((r) => responseUrl.endsWith(r.path)),
    (r) => r !== undefined,
    { what: `a reply to ${responseUrl}`, timeoutMs: 5000 },
  );

describe('the interaction and command routes', () => {
  it('an Acknowledge click runs acknowledge as the mapped contact and replies "Done" to the clicker alone', async () => {
    const { http, starter } = app();
    const { body, responseUrl } = click('incident.acknowledge', INCIDENT);
    const res = await interact(http, body);
    expect(res.statusCode).toBe(200);
    expect(starter.actions).toEqual([
      {
        workflowId: WORKFLOW,
        // The whole incident id: the action runs only if it is still the incident running.
        incidentId: INCIDENT,
        name: 'acknowledge',
        payload: {
          by: 'Ana Gómez',
          origin: expect.objectContaining({
            channel: 'slack',
            userId: 'U0ANA',
            known: true,
            role: 'oncall-primary',
          }),
        },
      },
    ]);
    const reply = await replyTo(responseUrl);
    expect(reply!.body).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/^Done: acknowledge/),
    });
  });

  it('a refused action replies with the reason; an unmapped user is refused by default, or acts as slack:<id> with requireKnownUsers off', async () => {
    const { http, starter } = app({ requireKnownUsers: false });
    starter.actionOutcome = () => ({
      outcome: 'rejected',
      reason: 'acknowledge rejected: already acknowledged by Luis',
    });
    const c = click('incident.acknowledge', INCIDENT, 'U0STRANGER');
    await interact(http, c.body);
    expect(starter.actions[0]!.payload).toMatchObject({ by: 'slack:U0STRANGER', origin: { known: false } });
    expect((await replyTo(c.responseUrl))!.body.text).toBe(
      'Not done: acknowledge rejected: already acknowledged by Luis',
    );
    const strict = app();
    const s = click('incident.acknowledge', INCIDENT, 'U0STRANGER');
    await interact(strict.http, s.body);
    expect((await replyTo(s.responseUrl))!.body.text).toBe(
      'Not done: Slack user U0STRANGER is not in contacts (contacts.requireKnownUsers)',
    );
    expect(strict.starter.actions).toHaveLength(0);
  });

  it('unsigned, forged, stale and replayed requests get 401 on both routes and run nothing', async () => {
    const { http, starter } = app();
    for (const url of ['/v1/slack/interactions', '/v1/slack/commands']) {
      const body =
        url === '/v1/slack/commands'
          ? form({
              command: '/incident',
              text: `ack ${WORKFLOW}`,
              user_id: 'U0ANA',
              response_url: slack.interaction().responseUrl,
            })
          : click('incident.acknowledge', INCIDENT).body;
      const send = (headers: Record<string, string>) =>
        http.inject({ method: 'POST', url, headers, payload: body });
      expect((await send({ 'content-type': 'application/x-www-form-urlencoded' })).statusCode).toBe(401);
      expect((await send(signed(body, Date.now(), 'forged'))).statusCode).toBe(401);
      expect((await send(signed(body, Date.now() - 10 * 60_000))).statusCode).toBe(401);
      const headers = signed(body);
      expect((await send(headers)).statusCode).toBe(200);
      const replay = await send(headers);
      expect(replay.statusCode).toBe(401);
      expect(replay.json().error.message).toContain('replayed');
    }
    expect(starter.actions).toHaveLength(2);
  });

  it('Resolve opens the 4.3 dialog; its submission resolves with the fields, or shows the refusal in it', async () => {
    const { http, starter } = app();
    const c = click('incident.resolve', INCIDENT);
    const before = slack.views.length;
    expect((await interact(http, c.body)).statusCode).toBe(200);
    expect(slack.views).toHaveLength(before + 1);
    const view = slack.views.at(-1)! as {
      callback_id: string;
      private_metadata: string;
      blocks: { block_id: string }[];
    };
    expect(view.callback_id).toBe('incident.resolve');
    expect(view.private_metadata).toBe(INCIDENT);
    expect(view.blocks.map((b) => b.block_id)).toEqual([
      'root_cause',
      'resolution',
      'missed_trades',
      'financial_impact',
    ]);
    const submission = (values: Record<string, string>) =>
      form({
        payload: JSON.stringify({
          type: 'view_submission',
          user: { id: 'U0ANA' },
          view: {
            id: 'V0RESOLVE',
            callback_id: 'incident.resolve',
            private_metadata: INCIDENT,
            state: {
              values: Object.fromEntries(
                Object.entries(values).map(([k, v]) => [k, { [k]: { type: 'plain_text_input', value: v } }]),
              ),
            },
          },
        }),
      });
    const ok = submission({
      root_cause: 'stale feed',
      resolution: 'restarted the feed',
      missed_trades: '3',
      financial_impact: '$1,250',
    });
    const res = await interact(http, ok);
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('');
    expect(starter.actions.at(-1)).toMatchObject({
      workflowId: WORKFLOW,
      name: 'resolve',
      payload: {
        by: 'Ana Gómez',
        rootCause: 'stale feed',
        resolution: 'restarted the feed',
        missedTrades: 3,
        financialImpactUsd: 1250,
      },
    });
    starter.actionOutcome = () => ({
      outcome: 'rejected',
      reason: 'resolve rejected: already resolved by Luis',
    });
    const again = submission({ resolution: 'again' });
    const refused = await interact(http, again);
    expect(refused.json()).toEqual({
      response_action: 'errors',
      errors: { resolution: 'resolve rejected: already resolved by Luis' },
    });
  });

  it('/incident ack | status | escalate | help answer in Slack ephemerally', async () => {
    const { http, starter } = app();
    const command = async (text: string) => {
      const body = form({
        command: '/incident',
        text,
        user_id: 'U0ANA',
        user_name: 'ana',
        response_url: slack.interaction().responseUrl,
        trigger_id: '1.2.3',
      });
      const res = await http.inject({
        method: 'POST',
        url: '/v1/slack/commands',
        headers: signed(body),
        payload: body,
      });
      expect(res.statusCode).toBe(200);
      return res.json() as { response_type: string; text: string };
    };
    expect(await command(`ack ${WORKFLOW}`)).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/^Done: acknowledge/),
    });
    expect(starter.actions.at(-1)).toMatchObject({
      workflowId: WORKFLOW,
      name: 'acknowledge',
      payload: { by: 'Ana Gómez' },
    });
    await command(`escalate ${WORKFLOW} the feed is still down`);
    expect(starter.actions.at(-1)).toMatchObject({
      name: 'escalate',
      payload: { reason: 'the feed is still down' },
    });
    expect((await command(`status ${WORKFLOW}`)).text).toBe(`No incident ${WORKFLOW} is running`);
    starter.statuses.set(WORKFLOW, {
      severity: 'P0',
      title: 'Trading API down',
      status: 'acknowledged',
      acknowledgedBy: 'Ana Gómez',
      engagedRoles: ['oncall-primary', 'eng-lead'],
    } as unknown as IncidentStatus);
    expect((await command(`status ${WORKFLOW}`)).text).toBe(
      `*P0 Trading API down* (${WORKFLOW}): acknowledged\nAcknowledged by Ana Gómez\nEngaged: oncall-primary, eng-lead`,
    );
    expect((await command('')).text).toMatch(/^Usage:/);
    expect((await command(`frobnicate ${WORKFLOW}`)).text).toMatch(/^Unknown `frobnicate`/);
  });

  it('/incident heartbeats lists every monitor ephemerally: silent first with its incident, then waiting and healthy with their deadlines', async () => {
    const { http, starter } = app();
    const command = async (text: string, userId = 'U0ANA', h = http) => {
      // A fresh response_url each time: the same signed body twice in a second is a replay (401).
      const body = form({
        command: '/incident',
        text,
        user_id: userId,
        response_url: slack.interaction().responseUrl,
      });
      const res = await h.inject({
        method: 'POST',
        url: '/v1/slack/commands',
        headers: signed(body),
        payload: body,
      });
      expect(res.statusCode).toBe(200);
      const json = res.json() as { response_type: string; text: string };
      expect(json.response_type).toBe('ephemeral');
      return json.text;
    };
    expect(await command('heartbeats')).toBe('No heartbeat monitors are running');
    const monitor = (m: Partial<MonitorStatus> & Pick<MonitorStatus, 'name' | 'state'>): MonitorStatus => ({
      periodSeconds: 120,
      graceSeconds: 180,
      severity: 'P2',
      lastBeatAt: null,
      lastBeatSource: null,
      deadline: null,
      beats: 0,
      rejected: 0,
      silences: 0,
      createdAt: '2026-12-07T00:00:00.000Z',
      createdBy: 'config',
      ...m,
    });
    // In listMonitors' order (by name); the reply puts the silent one first.
    starter.monitors = [
      monitor({
        name: 'nightly-backup',
        state: 'healthy',
        lastBeatAt: '2026-12-07T02:00:03.000Z',
        lastBeatSource: 'cron@db1',
        deadline: '2026-12-08T03:00:03.000Z',
        // A past silence's incident is not shown for a healthy monitor.
        incidentWorkflowId: 'incident-monitoring-gap-old',
      }),
      monitor({ name: 'payments-feed', state: 'waiting' }),
      monitor({
        name: 'watchdog',
        state: 'silent',
        lastBeatAt: '2026-12-07T11:55:00.000Z',
        lastBeatSource: 'alertmanager',
        silentSince: '2026-12-07T12:00:00.000Z',
        incidentWorkflowId: 'incident-monitoring-gap-0123456789abcdef',
      }),
    ];
    expect(await command('heartbeats')).toBe(
      [
        '3 heartbeat monitors: 1 silent, 1 healthy, 1 waiting',
        '*silent* watchdog: last beat 2026-12-07T11:55:00.000Z from alertmanager; silent since 2026-12-07T12:00:00.000Z; incident incident-monitoring-gap-0123456789abcdef',
        '*waiting* payments-feed: no beat yet; no alert until its first beat',
        '*healthy* nightly-backup: last beat 2026-12-07T02:00:03.000Z from cron@db1; deadline 2026-12-08T03:00:03.000Z',
      ].join('\n'),
    );
    // No incident is acted on, and the usage names the verb.
    expect(starter.actions).toEqual([]);
    expect(await command('')).toContain('`/incident heartbeats`');
    // 50 at most in a reply, and it says the list may be longer.
    starter.monitors = Array.from({ length: 60 }, (_, i) =>
      monitor({ name: `job-${String(i).padStart(2, '0')}`, state: 'waiting' }),
    );
    const long = (await command('heartbeats')).split('\n');
    expect(long).toHaveLength(52);
    expect(long[0]).toBe('50 heartbeat monitors: 0 silent, 0 healthy, 50 waiting');
    expect(long.at(-1)).toBe('(the first 50; GET /v1/heartbeats lists up to 200)');
    // Temporal away: said in time, not a Slack timeout.
    starter.down = true;
    expect(await command('heartbeats')).toBe('Temporal did not answer in time; try again');
    // requireKnownUsers: a stranger is refused, as for status.
    const strict = app();
    strict.starter.monitors = starter.monitors;
    expect(await command('heartbeats', 'U0STRANGER', strict.http)).toBe(
      'Not done: Slack user U0STRANGER is not in contacts (contacts.requireKnownUsers)',
    );
  });

  it('a resume asks for CONFIRM_RESUME in a dialog; a wrong code is refused inside it', async () => {
    const { http, starter } = app();
    // The engine's approval message for a resume carries the confirming Approve button.
    const rendered = actionButtons({
      ...notification({ incidentId: INCIDENT, step: 'approval-resume-1', target: 'channel' }),
      kind: 'info',
      text: 'APPROVAL NEEDED: resume ... "confirmationCode":"CONFIRM_RESUME"',
    });
    const confirm = (rendered[0] as { elements: { action_id: string; value: string }[] }).elements[0]!;
    expect(confirm).toMatchObject({ action_id: 'approval.confirm', value: `${INCIDENT}|resume-1` });
    const c = click(confirm.action_id, confirm.value);
    await interact(http, c.body);
    const view = slack.views.at(-1)! as { callback_id: string; private_metadata: string };
    expect(view).toMatchObject({ callback_id: 'approval.confirm', private_metadata: `${INCIDENT}|resume-1` });
    const submit = (code: string) =>
      form({
        payload: JSON.stringify({
          type: 'view_submission',
          user: { id: 'U0ANA' },
          view: {
            id: 'V0CONFIRM',
            callback_id: 'approval.confirm',
            private_metadata: view.private_metadata,
            state: {
              values: { confirmation_code: { confirmation_code: { type: 'plain_text_input', value: code } } },
            },
          },
        }),
      });
    starter.actionOutcome = (_w, name) =>
      (starter.actions.at(-1)!.payload as { confirmationCode: string }).confirmationCode === 'CONFIRM_RESUME'
        ? {
            outcome: 'accepted',
            result: {
              accepted: true,
              action: name,
              status: 'acknowledged',
              severity: 'P0',
              message: 'approved',
            },
          }
        : { outcome: 'rejected', reason: "approve rejected: resume needs confirmationCode 'CONFIRM_RESUME'" };
    const wrong = submit('yes please');
    const refused = await interact(http, wrong);
    expect(refused.json()).toEqual({
      response_action: 'errors',
      errors: { confirmation_code: "approve rejected: resume needs confirmationCode 'CONFIRM_RESUME'" },
    });
    const right = submit('CONFIRM_RESUME');
    const ok = await interact(http, right);
    expect(ok.body).toBe('');
    expect(starter.actions.at(-1)).toMatchObject({
      workflowId: WORKFLOW,
      name: 'approve',
      payload: { by: 'Ana Gómez', actionId: 'resume-1', confirmationCode: 'CONFIRM_RESUME' },
    });
  });

  it('a response_url outside SLACK_RESPONSE_URL_HOSTS (default hooks.slack.com, https) gets no request, and the log says why', async () => {
    expect(loadIngressConfig({}, { insecure: true }).slackResponseUrlHosts).toEqual(['hooks.slack.com']);
    const slackHooks = ['hooks.slack.com'];
    expect(responseUrlAllowed('https://hooks.slack.com/actions/T0/1/abc', slackHooks)).toBe(true);
    expect(responseUrlAllowed('https://hooks.slack.com/commands/T0/1/abc', slackHooks)).toBe(true);
    for (const bad of [
      'http://hooks.slack.com/actions/T0/1/abc',
      'https://hooks.slack.com:8443/actions/T0/1/abc',
      'https://hooks.slack.com.evil.example/actions',
      'https://hooks.slack.com@127.0.0.1/actions',
      'https://x:y@hooks.slack.com/actions',
      'http://127.0.0.1:8080/v1/incidents',
      'http://169.254.169.254/latest/meta-data/',
      'not a url',
    ])
      expect([bad, responseUrlAllowed(bad, slackHooks)]).toEqual([bad, false]);

    // A canary inside the network: what the engine must never be made to call.
    const canary = await startFakeHttpService(() => ({ status: 200, body: 'ok' }));
    try {
      const lines: string[] = [];
      const logger = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
      const { http, starter } = app({ responseUrlHosts: 'hooks.slack.com', logger });
      // A button click whose response_url points at the canary.
      const c = click('incident.acknowledge', INCIDENT);
      const redirected = c.body.replace(
        encodeURIComponent(c.responseUrl),
        encodeURIComponent(`${canary.url}/internal/admin`),
      );
      expect(redirected).not.toBe(c.body);
      expect((await interact(http, redirected)).statusCode).toBe(200);
      // `/incident ack` whose Update outlasts Slack's 3 s, so the answer would go to the response_url.
      starter.actionOutcome = (_w, name) => ({
        outcome: 'accepted',
        result: { accepted: true, action: name, status: 'acknowledged', severity: 'P0', message: name },
      });
      const slowRun = starter.runAction.bind(starter);
      starter.runAction = async (...args) => {
        await new Promise((r) => setTimeout(r, 3000));
        return slowRun(...args);
      };
      const body = form({
        command: '/incident',
        text: `ack ${WORKFLOW}`,
        user_id: 'U0ANA',
        response_url: `${canary.url}/internal/command`,
      });
      const res = await http.inject({
        method: 'POST',
        url: '/v1/slack/commands',
        headers: signed(body),
        payload: body,
      });
      expect(res.json().text).toMatch(/^Working on it/);
      await waitFor(
        async () => lines.filter((l) => l.includes('Slack response_url refused')).length,
        (n) => n >= 2,
        { what: 'two refusals in the log', timeoutMs: 10_000 },
      );
      const refusal = JSON.parse(lines.find((l) => l.includes('Slack response_url refused'))!) as {
        level: number;
        host: string;
      };
      expect(refusal).toMatchObject({ level: 40, host: new URL(canary.url).host });
      expect(canary.requests).toEqual([]);
      // The actions themselves ran: only the reply was withheld.
      expect(starter.actions.map((a) => a.name)).toEqual(['acknowledge', 'acknowledge']);
    } finally {
      await canary.stop();
    }
  });

  it('Approve and Reject buttons carry the approval action id', async () => {
    const { http, starter } = app();
    for (const id of ['approval.approve', 'approval.reject']) {
      const c = click(id, `${INCIDENT}|rollback-model-1`);
      await interact(http, c.body);
      await replyTo(c.responseUrl);
    }
    expect(starter.actions.map((a) => [a.name, (a.payload as { actionId: string }).actionId])).toEqual([
      ['approve', 'rollback-model-1'],
      ['reject', 'rollback-model-1'],
    ]);
  });
});

describe('/incident oncall and /incident override', () => {
  // Tuesday 2026-12-08 10:00 COT: the rotation (handoff Mondays 09:00 COT from Monday 2026-11-30) is Luis's week.
  const NOW = Date.parse('2026-12-08T15:00:00Z');
  const oncallContacts = parseContactConfig({
    roles: { 'eng-lead': { name: 'Marta Ríos', slackUserId: 'U0MARTA' } },
    rotations: {
      'oncall-primary': {
        startDate: '2026-11-30',
        people: [
          { name: 'Ana Gómez', slackUserId: 'U0ANA' },
          { name: 'Luis Pérez', slack: '@luisp', slackUserId: 'U0LUIS', timeZone: 'Europe/Madrid' },
        ],
      },
    },
  });
  const oncallApp = () => app({ contacts: oncallContacts, now: () => NOW });
  /** The command as `userId` sends it, signed at the ingress's time; the ephemeral answer's text. */
  const command = async (h: ReturnType<typeof app>['http'], text: string, userId = 'U0LUIS') => {
    const body = form({
      command: '/incident',
      text,
      user_id: userId,
      response_url: slack.interaction().responseUrl,
      trigger_id: `${Math.random()}`,
    });
    const res = await h.inject({
      method: 'POST',
      url: '/v1/slack/commands',
      headers: signed(body, NOW),
      payload: body,
    });
    expect(res.statusCode).toBe(200);
    const json = res.json() as { response_type: string; text: string };
    expect(json.response_type).toBe('ephemeral');
    return json.text;
  };

  it('/incident oncall answers one line per role: who now (from where), until when (COT and their zone), who next', async () => {
    const { http } = oncallApp();
    const lines = (await command(http, 'oncall')).split('\n');
    expect(lines[0]).toBe('On call at 2026-12-08 10:00 COT:');
    expect(lines[1]).toBe(
      '*On-Call Primary* (oncall-primary): Luis Pérez (rotation) until 2026-12-14 09:00 COT (15:00 GMT+1 Europe/Madrid); next: Ana Gómez (rotation)',
    );
    expect(lines).toContain('*Engineering Lead* (eng-lead): Marta Ríos (contact)');
    expect(lines).toHaveLength(ROLE_IDS.length + 2);
    expect(lines.at(-1)).toBe('No overrides (the on-call roster is not running)');
    expect(await command(http, '')).toContain('`/incident oncall`');
    expect(await command(http, '')).toContain('`/incident override cancel <id> [reason]`');
  });

  it('/incident override adds a cover as the verified user (via slack); oncall then names them; cancel ends it', async () => {
    const { http, starter } = oncallApp();
    const added = await command(
      http,
      'override oncall-primary <@U0ANA|ana> 2026-12-08T10:00 2026-12-09T10:00 Luis is sick',
    );
    expect(added).toMatch(
      /^Done: Ana Gómez covers oncall-primary from 2026-12-08 10:00 COT to 2026-12-09 10:00 COT \(override ovr-1, by Luis Pérez via slack: Luis is sick\)$/,
    );
    expect(starter.oncallCalls).toEqual([
      {
        update: 'addOverride',
        input: {
          role: 'oncall-primary',
          person: { name: 'Ana Gómez', slackUserId: 'U0ANA' },
          // YYYY-MM-DDTHH:MM is COT.
          from: '2026-12-08T15:00:00.000Z',
          to: '2026-12-09T15:00:00.000Z',
          by: 'Luis Pérez',
          reason: 'Luis is sick',
          via: 'slack',
        },
      },
    ]);
    const view = (await command(http, 'oncall')).split('\n');
    expect(view[1]).toBe(
      '*On-Call Primary* (oncall-primary): Ana Gómez (override) until 2026-12-09 10:00 COT; next: Luis Pérez (rotation)',
    );
    expect(view.slice(-2)).toEqual([
      'Overrides (`/incident override cancel <id>` ends one):',
      '- ovr-1: Ana Gómez covers oncall-primary from 2026-12-08 10:00 COT to 2026-12-09 10:00 COT (by Luis Pérez: Luis is sick)',
    ]);
    // A handle as Slack sends it unescaped (the contact's `slack`), then a contact by name (any case, spaces
    // and all), `now`, and an ISO end with its zone.
    expect(await command(http, 'override oncall-secondary @luisp now 2026-12-08T12:00', 'U0MARTA')).toMatch(
      /^Done: Luis Pérez covers oncall-secondary/,
    );
    // A quoted name, straight or curly (a phone's keyboard).
    expect(
      await command(http, 'override oncall-secondary “ana gómez” now 2026-12-08T12:00', 'U0MARTA'),
    ).toMatch(/^Done: Ana Gómez covers oncall-secondary/);
    starter.oncallCalls.splice(1);
    expect(
      await command(http, 'override eng-lead luis pérez now 2026-12-08T18:00:00-05:00', 'U0MARTA'),
    ).toMatch(/^Done: Luis Pérez covers eng-lead/);
    expect(starter.oncallCalls[1]!.input).toMatchObject({
      role: 'eng-lead',
      person: { name: 'Luis Pérez', slack: '@luisp', slackUserId: 'U0LUIS', timeZone: 'Europe/Madrid' },
      from: '2026-12-08T15:00:00.000Z',
      to: '2026-12-08T23:00:00.000Z',
      by: 'Marta Ríos',
      via: 'slack',
    });
    expect(await command(http, 'override cancel ovr-1 Luis is back')).toMatch(
      /^Done: Cancelled: Ana Gómez covers oncall-primary .* \(override ovr-1, by Luis Pérez via slack: Luis is back\)$/,
    );
    expect(starter.oncallCalls[2]).toEqual({
      update: 'cancelOverride',
      input: { id: 'ovr-1', by: 'Luis Pérez', reason: 'Luis is back', via: 'slack' },
    });
    expect(await command(http, 'override cancel ovr-1')).toBe(
      'Not done: override ovr-1 was already cancelled by Luis Pérez',
    );
    expect(await command(http, 'override cancel ovr-7')).toBe('Not done: no override ovr-7');
  });

  it('refuses strangers, covers who are not contacts, unknown roles and unreadable times, and changes nothing', async () => {
    const { http, starter } = oncallApp();
    const notInContacts = 'Not done: Slack user U0STRANGER is not in contacts (contacts.requireKnownUsers)';
    expect(await command(http, 'oncall', 'U0STRANGER')).toBe(notInContacts);
    expect(await command(http, 'override oncall-primary <@U0ANA> now 2026-12-09T10:00', 'U0STRANGER')).toBe(
      notInContacts,
    );
    expect(await command(http, 'override cancel ovr-1', 'U0STRANGER')).toBe(notInContacts);
    expect(await command(http, 'override oncall-primary <@U0NOBODY|x> now 2026-12-09T10:00')).toBe(
      'Not done: <@U0NOBODY> is not in contacts: only a known contact can cover a role',
    );
    expect(await command(http, 'override oncall-primary Pedro now 2026-12-09T10:00')).toBe(
      'Not done: Pedro is not in contacts: only a known contact can cover a role',
    );
    expect(await command(http, 'override janitor <@U0ANA> now 2026-12-09T10:00')).toMatch(
      /^`janitor` is not a 2\.1 role\. `\/incident override <role>/,
    );
    expect(await command(http, 'override oncall-primary <@U0ANA> tomorrow 2026-12-09T10:00')).toMatch(
      /^`tomorrow` is not a start time/,
    );
    expect(await command(http, 'override oncall-primary <@U0ANA> now 2026-02-30T10:00')).toMatch(
      /^`2026-02-30T10:00` is not an end time/,
    );
    expect(await command(http, 'override oncall-primary <@U0ANA> 2026-12-09T10:00 now')).toMatch(
      /^The start must be before the end/,
    );
    expect(await command(http, 'override cancel')).toMatch(/^Which override\?/);
    expect(await command(http, 'override')).toMatch(/^Usage: `\/incident override <role>/);
    expect(starter.oncallCalls).toEqual([]);
    // Temporal away: said in time.
    starter.down = true;
    expect(await command(http, 'override oncall-primary <@U0ANA> now 2026-12-09T10:00')).toBe(
      'Not done: Temporal did not answer (unavailable); try again',
    );
    expect(await command(http, 'oncall')).toBe('Temporal did not answer in time; try again');
  });
});

describe('against the real dev server', () => {
  const taskQueue = uniqueTaskQueue('slack-two-way');
  const outboxFile = tmpFile('slack-two-way-outbox.jsonl');
  let worker: TestWorker;
  let client: Client;
  let closeClient: () => Promise<void>;

  beforeAll(async () => {
    const timeouts = { connectMs: 500, headersMs: 1000, bodyMs: 1000, totalMs: 1500 };
    worker = await startTestWorker({
      taskQueue,
      outboxFile,
      deps: {
        contacts,
        policyOverrides: { originVerifyKey: ORIGIN_PUBLIC },
        channels: {
          slack: new SlackChannel(
            {
              mode: 'web-api',
              botToken: slack.botToken,
              channel: '#trading-incidents',
              apiBaseUrl: slack.apiBaseUrl,
              timeouts,
            },
            { dispatcher: createChannelDispatcher(timeouts), store: new InMemoryKeyValueStore(), contacts },
          ),
        },
      },
    });
    ({ client, close: closeClient } = await testClient());
  });
  afterAll(async () => {
    await closeClient();
    await worker.stop();
  });

  test('a P1 acknowledged with the button in Slack shows the contact, says ACK in the thread, and stops re-paging', async () => {
    const workflowId = `incident-slack-two-way-${Date.now()}`;
    const h = await client.workflow.start('incidentWorkflow', {
      taskQueue,
      workflowId,
      args: [
        { title: 'Model drift', severity: 'P1', timeScale: 60, policy: { channels: ['outbox', 'slack'] } },
      ],
    });
    const { incidentId } = await h.query(statusQuery);
    // The incident's message in the fake Slack, with its Acknowledge button.
    const root = await waitFor(
      async () =>
        [...slack.messages.values()].find(
          (m) => JSON.stringify(m.blocks ?? []).includes(incidentId) && !m.thread_ts,
        ),
      (m) => m !== undefined,
      { what: 'the incident message in Slack', timeoutMs: 20_000 },
    );
    const button = (root!.blocks as { type: string; elements?: { action_id: string; value: string }[] }[])
      .find((b) => b.type === 'actions')!
      .elements!.find((e) => e.action_id === 'incident.acknowledge')!;
    expect(button.value).toBe(incidentId);
    await waitFor(
      async () => readOutbox(outboxFile),
      (r) => r.some((n) => n.incidentId === incidentId && n.kind === 'repage'),
      { what: 'a first re-page', timeoutMs: 30_000 },
    );

    const ingress = httpClient(
      buildIngress(testConfig({ taskQueue, slackSigningSecrets: SECRET, slackResponseUrlHosts: slack.url }), {
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
    const c = click(button.action_id, button.value);
    const res = await interact(ingress, c.body);
    expect(res.statusCode).toBe(200);
    expect((await replyTo(c.responseUrl))!.body.text).toMatch(/^Done: acknowledged/);
    const acked = await h.query(statusQuery);
    expect(acked.acknowledgedBy).toBe('Ana Gómez');
    expect((await h.query(timelineQuery)).find((e) => e.type === 'acknowledged')?.text).toBe(
      'Acknowledged by Ana Gómez in Slack (verified, oncall-primary)',
    );
    const ackAt = Date.parse(acked.acknowledgedAt!);
    // 3.1 step 1 in the incident's thread.
    await waitFor(
      async () =>
        [...slack.messages.values()].filter((m) => m.thread_ts === root!.ts).map((m) => m.text ?? ''),
      (texts) => texts.some((t) => t.includes('Ana Gómez')),
      { what: 'the ACK in the thread', timeoutMs: 10_000 },
    );
    const ack = [...slack.messages.values()].find(
      (m) => m.thread_ts === root!.ts && JSON.stringify(m.blocks).includes('ACK: Ana Gómez is investigating'),
    );
    expect(ack).toBeDefined();
    await new Promise((r) => setTimeout(r, 12_000));
    const repagesAfter = (await readOutbox(outboxFile)).filter(
      (n) => n.incidentId === incidentId && n.kind === 'repage' && Date.parse(n.createdAt) > ackAt,
    );
    expect(repagesAfter).toEqual([]);
    await recordHistory(h, 'slack-button-ack');
    await h.terminate('test done');
  }, 90_000);

  test("buttons, dialogs and /incident from a closed incident's message are refused, and do not touch the next incident on its workflow id", async () => {
    const workflowId = `incident-slack-reused-${Date.now()}`;
    const start = () =>
      client.workflow.start('incidentWorkflow', {
        taskQueue,
        workflowId,
        args: [
          {
            title: 'Model drift',
            severity: 'P2',
            timeScale: 60,
            policy: { channels: ['outbox'], reopenWindowMinutes: 0 },
          },
        ],
      });
    // A: resolved and closed. B: the same alert firing again later, on the same workflow id.
    const a = await start();
    const incidentA = (await a.query(statusQuery)).incidentId;
    await a.executeUpdate(resolveUpdate, { args: [{ by: 'Ana Gómez', resolution: 'retrained' }] });
    await a.result();
    const b = await start();
    const before = await b.query(statusQuery);
    expect(before.incidentId).not.toBe(incidentA);

    const ingress = httpClient(
      buildIngress(testConfig({ taskQueue, slackSigningSecrets: SECRET, slackResponseUrlHosts: slack.url }), {
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
    // Escalate and Acknowledge on A's message (the values A's buttons carry).
    for (const actionId of ['incident.escalate', 'incident.acknowledge']) {
      const c = click(actionId, incidentA);
      expect((await interact(ingress, c.body)).statusCode).toBe(200);
      const text = (await replyTo(c.responseUrl))!.body.text as string;
      expect(text).toBe(
        `Not done: this is about incident ${incidentA}, which is over; ${before.incidentId} is the incident running now under the same workflow id (act on its own message, or name it)`,
      );
    }
    // A's Resolve dialog, submitted after B opened.
    const submission = form({
      payload: JSON.stringify({
        type: 'view_submission',
        user: { id: 'U0ANA' },
        view: {
          id: 'V0OLD',
          callback_id: 'incident.resolve',
          private_metadata: incidentA,
          state: { values: { resolution: { resolution: { type: 'plain_text_input', value: 'done' } } } },
        },
      }),
    });
    expect((await interact(ingress, submission)).json()).toEqual({
      response_action: 'errors',
      errors: { resolution: expect.stringContaining(`incident ${incidentA}, which is over`) },
    });
    // `/incident ack <A's incident id>` is refused too; the bare workflow id means the running incident.
    const command = async (text: string) => {
      const body = form({ command: '/incident', text, user_id: 'U0ANA', trigger_id: '1.2.3' });
      const res = await ingress.inject({
        method: 'POST',
        url: '/v1/slack/commands',
        headers: signed(body),
        payload: body,
      });
      return (res.json() as { text: string }).text;
    };
    expect(await command(`ack ${incidentA}`)).toContain(`incident ${incidentA}, which is over`);
    expect(await command(`status ${incidentA}`)).toBe(
      `Incident ${incidentA} is over; ${before.incidentId} is running under ${workflowId}`,
    );

    const after = await b.query(statusQuery);
    expect(after).toMatchObject({ status: 'triggered', acknowledgedBy: null });
    expect(after.engagedRoles).toEqual(before.engagedRoles);
    // Nothing Ana did reached B.
    const timeline = await b.query(timelineQuery);
    expect(timeline.filter((e) => e.actor === 'Ana Gómez')).toEqual([]);

    // B's own Escalate button escalates B.
    const own = click('incident.escalate', before.incidentId);
    await interact(ingress, own.body);
    expect((await replyTo(own.responseUrl))!.body.text).toMatch(/^Done: /);
    expect((await b.query(statusQuery)).engagedRoles.length).toBeGreaterThan(before.engagedRoles.length);
    await b.terminate('test done');
  }, 90_000);
  test('an origin typed into an Update (the CLI, the Web UI) is recorded as typed, unverified; the ingress path is verified', async () => {
    const workflowId = `incident-slack-forged-${Date.now()}`;
    // As the ingress starts one: the policy in the start, so the worker gives the key beside the first page.
    const h = await client.workflow.start('incidentWorkflow', {
      taskQueue,
      workflowId,
      args: [
        {
          title: 'Forged origin',
          severity: 'P1',
          timeScale: 60,
          policy: { channels: ['outbox'] },
          policyComplete: true,
        },
      ],
    });
    const timeline = () => h.query(timelineQuery);
    await waitFor(timeline, (t) => t.some((e) => e.type === 'origin.key'), {
      what: "the worker's origin key",
    });
    const forged = { channel: 'slack', userId: 'U0ANA', known: true, role: 'cto' };
    // `cto` is no role of the schema: a forged payload, sent as it is.
    await h.executeUpdate(acknowledgeUpdate, {
      args: [{ by: 'Ana', origin: forged } as unknown as AcknowledgeInput],
    });
    // Signed with another key, as someone who made up their own would.
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const { incidentId } = await h.query(statusQuery);
    await h.executeUpdate(addNoteUpdate, {
      args: [signOrigin(other, incidentId, 'addNote', { by: 'Ana', text: 'all good', origin: forged })],
    });
    const ingress = httpClient(
      buildIngress(testConfig({ taskQueue, slackSigningSecrets: SECRET, slackResponseUrlHosts: slack.url }), {
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
    const c = click('incident.escalate', incidentId);
    await interact(ingress, c.body);
    expect((await replyTo(c.responseUrl))!.body.text).toMatch(/^Done: /);
    const t = await timeline();
    expect(t.find((e) => e.type === 'acknowledged')).toMatchObject({
      text: 'Acknowledged by Ana (typed, unverified: origin slack:U0ANA ignored, the origin is not signed by the ingress)',
    });
    expect(t.find((e) => e.type === 'acknowledged')!.data).toBeUndefined();
    expect(t.find((e) => e.type === 'note')!.text).toBe(
      "all good (typed, unverified: origin slack:U0ANA ignored, the origin's signature does not verify)",
    );
    expect(t.find((e) => e.type === 'escalation' && e.text.includes('escalated by'))!.text).toContain(
      'escalated by Ana Gómez in Slack (verified, oncall-primary)',
    );
    await h.terminate('test done');
  }, 60_000);
});
