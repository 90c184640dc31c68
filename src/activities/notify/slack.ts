// Slack channel behind the notification port: incoming webhook or Web API (chat.postMessage/chat.update).
// Playbook 3.x "Acknowledge incident in Slack", templates 4.1-4.4 rendered as Block Kit messages.
//
// Idempotency (DESIGN "Side effects"): a key already delivered is not posted again; with the Web API the
// incident's first message ts is stored so acknowledgement/resolution edit it instead of re-posting.
// Errors are ApplicationFailures the activity retry policy acts on (see docs/channels.md).
import { ApplicationFailure } from '@temporalio/common';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { EMPTY_CONTACT_CONFIG, resolveContact, type ContactConfig } from '../../playbook/contacts';
import { isRoleId } from '../../playbook/roles';
import { SEVERITIES, SEVERITY_TABLE, type Severity } from '../../playbook/severity';
import { formatCot } from '../../playbook/time';
import {
  badResponseFailure,
  httpTimeoutsSchema,
  parseJsonBody,
  parseRetryAfter,
  postJson,
  rateLimitedFailure,
  rejectedFailure,
  safeErrorCode,
  unavailableFailure,
  type HttpResponse,
} from './http';
import type { KeyValueStore } from '../../ledger/kv';
import type { DeliveryResult, NotificationChannel } from './port';
import type { Notification, NotificationKind } from '../../playbook/contract/notification';

const commonConfig = {
  /** Channel name in results, errors and store keys; two Slack workspaces need two names. */
  name: z.string().min(1).default('slack'),
  timeouts: httpTimeoutsSchema.prefault({}),
  /** Used when a 429 (or `ratelimited`) comes without a readable Retry-After. */
  defaultRetryAfterSeconds: z.number().int().positive().default(30),
};

export const slackConfigSchema = z.discriminatedUnion('mode', [
  z.object({
    mode: z.literal('webhook'),
    /** Secret: never logged. */
    webhookUrl: z.url(),
    ...commonConfig,
  }),
  z.object({
    mode: z.literal('web-api'),
    /** Bot token `xoxb-...`. Secret: never logged. */
    botToken: z.string().regex(/^xox[bpe]-/, 'expected a Slack token (xoxb-...)'),
    /** Channel id (C0123...) or name (#trading-incidents). */
    channel: z.string().min(1),
    apiBaseUrl: z.url().default('https://slack.com/api'),
    /** Post later messages of an incident as replies in the thread of its first message. */
    threadReplies: z.boolean().default(true),
    /** Thread replies that page (page, repage, breach, reopened) are also shown in the channel. */
    broadcastPages: z.boolean().default(true),
    ...commonConfig,
  }),
]);
export type SlackConfig = z.output<typeof slackConfigSchema>;
export type SlackConfigInput = z.input<typeof slackConfigSchema>;

export interface SlackDeps {
  dispatcher: Dispatcher;
  store: KeyValueStore;
  /** Who a role is (2.1 contacts, rotation; a function: as of now, with the roster's overrides); defaults to the 2.1 table. */
  contacts?: ContactConfig | (() => ContactConfig);
  /** Clock for contact resolution at send time. */
  now?: () => number;
}

// --- Block Kit ---------------------------------------------------------------------------------------

export type SlackTextObject =
  { type: 'plain_text'; text: string; emoji?: boolean } | { type: 'mrkdwn'; text: string };
export type SlackBlock =
  | { type: 'header'; text: { type: 'plain_text'; text: string; emoji?: boolean } }
  | { type: 'section'; text?: SlackTextObject; fields?: SlackTextObject[] }
  | { type: 'context'; elements: SlackTextObject[] }
  | { type: 'divider' }
  | { type: 'actions'; block_id: string; elements: SlackButton[] };

export interface SlackButton {
  type: 'button';
  action_id: string;
  text: { type: 'plain_text'; text: string };
  value: string;
  style?: 'primary' | 'danger';
}

/**
 * The buttons of a message, handled by the ingress at POST /v1/slack/interactions
 * (src/ingress/slack.ts SLACK_ACTIONS): Acknowledge while triggered, Resolve and Escalate while open, and
 * Approve / Reject on an approval request (step `approval-<actionId>`). The value is the incident id (and
 * the action id), so a click reaches the incident that sent the message.
 */
export function actionButtons(n: Notification): SlackBlock[] {
  const open = n.incidentStatus === 'triggered' || n.incidentStatus === 'acknowledged';
  if (!open) return [];
  const button = (
    action_id: string,
    text: string,
    value: string,
    style?: 'primary' | 'danger',
  ): SlackButton => ({
    type: 'button',
    action_id,
    text: { type: 'plain_text', text },
    value: value.slice(0, 2000),
    ...(style ? { style } : {}),
  });
  const approval = /^approval-(.+)$/.exec(n.step);
  if (approval && !/-too-late-/.test(n.step))
    return [
      {
        type: 'actions',
        block_id: 'approval-actions',
        elements: [
          // Resume needs CONFIRM_RESUME: its Approve opens a dialog that asks for it.
          n.text.includes('CONFIRM_RESUME')
            ? button('approval.confirm', 'Approve…', `${n.incidentId}|${approval[1]}`, 'primary')
            : button('approval.approve', 'Approve', `${n.incidentId}|${approval[1]}`, 'primary'),
          button('approval.reject', 'Reject', `${n.incidentId}|${approval[1]}`, 'danger'),
        ],
      },
    ];
  if (!PAGING_KINDS.has(n.kind) && n.kind !== 'acknowledged') return [];
  return [
    {
      type: 'actions',
      block_id: 'incident-actions',
      elements: [
        ...(n.incidentStatus === 'triggered'
          ? [button('incident.acknowledge', 'Acknowledge', n.incidentId, 'primary')]
          : []),
        button('incident.resolve', 'Resolve', n.incidentId),
        button('incident.escalate', 'Escalate', n.incidentId),
      ],
    },
  ];
}

const HEADER_MAX = 150; // Block Kit header plain_text limit
const SECTION_MAX = 3000; // Block Kit section text limit

const KIND_HEADER: Record<NotificationKind, string> = {
  page: ':rotating_light: INCIDENT',
  repage: ':rotating_light: UNACKNOWLEDGED',
  update: ':loudspeaker: UPDATE',
  resolved: ':white_check_mark: RESOLVED',
  acknowledged: ':eyes: ACKNOWLEDGED',
  reopened: ':repeat: REOPENED',
  breach: ':warning: TARGET MISSED',
  severity: ':arrow_up_down: SEVERITY CHANGED',
  info: ':information_source: INFO',
};

const STATUS_HEADER: Record<Notification['incidentStatus'], string> = {
  triggered: ':rotating_light: INCIDENT',
  acknowledged: ':eyes: INCIDENT (acknowledged)',
  resolved: ':white_check_mark: RESOLVED',
  closed: ':white_check_mark: CLOSED',
};

const PAGING_KINDS: ReadonlySet<NotificationKind> = new Set(['page', 'repage', 'breach', 'reopened']);
/** Kinds that change the incident's state: with the Web API they edit the incident's first message. */
const ROOT_EDIT_KINDS: ReadonlySet<NotificationKind> = new Set(['acknowledged', 'resolved', 'reopened']);

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Playbook templates are GitHub markdown; Slack mrkdwn uses single-star bold and <url|text> links. */
export function toMrkdwn(markdown: string): string {
  return escapeMrkdwn(markdown)
    .replace(/\*\*(.+?)\*\*/g, '*$1*')
    .replace(/\[([^\]\n]+)\]\((https?:\/\/[^)\s]+)\)/g, '<$2|$1>');
}

/** Slack mention syntax for a handle: user id -> <@U..>, user group -> <!subteam^S..>, else plain text. */
export function slackMention(handle: string): string {
  const h = handle.trim();
  if (/^[UW][A-Z0-9]{2,}$/.test(h)) return `<@${h}>`;
  if (/^S[A-Z0-9]{2,}$/.test(h)) return `<!subteam^${h}>`;
  if (h === '@here' || h === '@channel') return `<!${h.slice(1)}>`;
  return escapeMrkdwn(h.startsWith('@') ? h : `@${h}`);
}

function sectionsFor(markdown: string): SlackBlock[] {
  const text = toMrkdwn(markdown);
  const blocks: SlackBlock[] = [];
  // Split on line boundaries where possible so a bold span is not cut in half.
  let rest = text;
  while (rest.length > 0 && blocks.length < 20) {
    let cut = rest.length <= SECTION_MAX ? rest.length : rest.lastIndexOf('\n', SECTION_MAX);
    if (cut <= 0) cut = SECTION_MAX;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: rest.slice(0, cut) } });
    rest = rest.slice(cut).replace(/^\n/, '');
  }
  return blocks;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function fieldsBlock(severity: Severity, status: Notification['incidentStatus']): SlackBlock {
  return {
    type: 'section',
    fields: [
      { type: 'mrkdwn', text: `*Severity*\n${severity} ${SEVERITY_TABLE[severity].name}` },
      { type: 'mrkdwn', text: `*Status*\n${capitalize(status)}` },
    ],
  };
}

function cotTime(iso: string, fallbackMs: number): string {
  const ms = Date.parse(iso);
  return formatCot(Number.isNaN(ms) ? fallbackMs : ms);
}

export interface RenderedSlackMessage {
  text: string;
  blocks: SlackBlock[];
}

/** One notification as a Slack message: header, template text, Severity/Status fields, COT context. */
export function renderSlackMessage(
  n: Notification,
  mention: string | undefined,
  nowMs: number,
): RenderedSlackMessage {
  const headline = `${KIND_HEADER[n.kind]}: ${n.title}`;
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(headline, HEADER_MAX), emoji: true } },
  ];
  if (mention) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: mention } });
  blocks.push(...sectionsFor(n.text));
  blocks.push(fieldsBlock(n.severity, n.incidentStatus));
  blocks.push(...actionButtons(n));
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Incident \`${escapeMrkdwn(n.incidentId)}\` · ${escapeMrkdwn(n.step)} · ${cotTime(n.createdAt, nowMs)}`,
      },
    ],
  });
  // `text` is the notification/fallback line; mentions in it notify people.
  const text = truncate(`[${n.severity}] ${headline}${mention ? ` ${mention}` : ''}`, 4000);
  return { text, blocks };
}

// --- Stored state ------------------------------------------------------------------------------------

/** The incident's first message (Web API), stored per incident so state changes edit it. */
const rootMessageSchema = z.object({
  channel: z.string(),
  ts: z.string(),
  title: z.string(),
  text: z.string(),
  severity: z.enum(SEVERITIES),
  incidentId: z.string(),
  createdAt: z.string(),
});
type RootMessage = z.output<typeof rootMessageSchema>;

function renderRootUpdate(
  root: RootMessage,
  n: Notification,
  appendText: boolean,
  nowMs: number,
): RenderedSlackMessage {
  const headline = `${STATUS_HEADER[n.incidentStatus]}: ${root.title}`;
  const blocks: SlackBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(headline, HEADER_MAX), emoji: true } },
    ...sectionsFor(root.text),
  ];
  if (appendText) blocks.push({ type: 'divider' }, ...sectionsFor(n.text));
  blocks.push(fieldsBlock(n.severity, n.incidentStatus));
  // The incident's own message keeps the buttons its status allows (none once resolved).
  blocks.push(...actionButtons({ ...n, kind: 'page', step: 'root' }));
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Incident \`${escapeMrkdwn(root.incidentId)}\` · opened ${cotTime(root.createdAt, nowMs)} · ${capitalize(n.kind)} ${cotTime(n.createdAt, nowMs)}`,
      },
    ],
  });
  return { text: truncate(`[${n.severity}] ${headline}`, 4000), blocks };
}

// --- Web API responses -------------------------------------------------------------------------------

const apiResponseSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), ts: z.string().min(1), channel: z.string().min(1) }),
  z.object({ ok: z.literal(false), error: z.string().min(1) }),
]);
type ApiResponse = z.output<typeof apiResponseSchema>;

/** `ok:false` errors worth retrying; every other error will not succeed as sent. */
const RETRYABLE_API_ERRORS = new Set([
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'team_added_to_org',
]);
/** chat.update cannot edit the stored message: post a new one instead. */
const UPDATE_FALLBACK_ERRORS = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed']);

// --- The channel -------------------------------------------------------------------------------------

export class SlackChannel implements NotificationChannel {
  readonly name: string;
  private readonly config: SlackConfig;
  private readonly contacts: () => ContactConfig;
  private readonly now: () => number;

  constructor(
    config: SlackConfigInput,
    private readonly deps: SlackDeps,
  ) {
    this.config = slackConfigSchema.parse(config);
    this.name = this.config.name;
    const contacts = deps.contacts ?? EMPTY_CONTACT_CONFIG;
    this.contacts = typeof contacts === 'function' ? contacts : () => contacts;
    this.now = deps.now ?? Date.now;
  }

  /** Per-incident queue: in one process, the first message of an incident is posted once and becomes its root. */
  private readonly incidentQueues = new Map<string, Promise<unknown>>();

  deliver(n: Notification): Promise<DeliveryResult> {
    const previous = this.incidentQueues.get(n.incidentId) ?? Promise.resolve();
    const run = previous.then(() => this.deliverNow(n));
    const tail = run.catch(() => undefined);
    this.incidentQueues.set(n.incidentId, tail);
    void tail.then(() => {
      if (this.incidentQueues.get(n.incidentId) === tail) this.incidentQueues.delete(n.incidentId);
    });
    return run;
  }

  private async deliverNow(n: Notification): Promise<DeliveryResult> {
    const sentKey = `${this.name}:sent:${n.idempotencyKey}`;
    const already = await this.deps.store.get(sentKey);
    if (already !== undefined)
      return { channel: this.name, idempotencyKey: n.idempotencyKey, outcome: 'duplicate', ref: already };

    const ref =
      this.config.mode === 'webhook'
        ? await this.deliverWebhook(n, this.config)
        : await this.deliverWebApi(n, this.config);
    // Written after the send: a crash in between re-sends on retry (at-least-once; never a lost page).
    await this.deps.store.set(sentKey, ref);
    return { channel: this.name, idempotencyKey: n.idempotencyKey, outcome: 'delivered', ref };
  }

  private mentionFor(n: Notification): string | undefined {
    if (n.target === 'channel' || !isRoleId(n.target)) return undefined;
    const c = resolveContact(n.target, this.now(), this.contacts());
    const note =
      c.availability === 'off-hours'
        ? ', off hours'
        : c.availability === 'emergency-only'
          ? ', emergency only'
          : '';
    const who = c.name === c.roleName ? c.roleName : `${escapeMrkdwn(c.name)}, ${c.roleName}`;
    return `${PAGING_KINDS.has(n.kind) ? 'Paging' : 'For'} ${slackMention(c.slack)} (${who}${note})`;
  }

  // Incoming webhook: no ts comes back, so every new key is a new message.
  private async deliverWebhook(
    n: Notification,
    config: Extract<SlackConfig, { mode: 'webhook' }>,
  ): Promise<string> {
    const message = renderSlackMessage(n, this.mentionFor(n), this.now());
    const res = await postJson({
      channel: this.name,
      dispatcher: this.deps.dispatcher,
      url: config.webhookUrl,
      body: message,
      timeouts: config.timeouts,
    });
    if (res.status === 200) {
      if (z.literal('ok').safeParse(res.body.trim()).success) return 'webhook';
      throw badResponseFailure(this.name, res.status, 'webhook answered 200 without "ok"');
    }
    const code = safeErrorCode(res.body);
    throw this.httpFailure(res, code);
  }

  private httpFailure(res: HttpResponse, code: string | undefined): ApplicationFailure {
    if (res.status === 429) {
      return rateLimitedFailure(
        this.name,
        429,
        parseRetryAfter(res.headers['retry-after'], this.now()) ?? this.config.defaultRetryAfterSeconds,
        code,
      );
    }
    if (res.status >= 500 || res.status === 408) return unavailableFailure(this.name, res.status, code);
    // 400 invalid_payload/no_text/invalid_blocks, 403 action_prohibited/invalid_token, 404 no_service/channel_not_found,
    // 410 channel_is_archived: the same request will never succeed.
    return rejectedFailure(this.name, res.status, code);
  }

  private async deliverWebApi(
    n: Notification,
    config: Extract<SlackConfig, { mode: 'web-api' }>,
  ): Promise<string> {
    const rootKey = `${this.name}:root:${n.incidentId}`;
    const rootJson = await this.deps.store.get(rootKey);
    const root = rootJson === undefined ? undefined : parseJsonBody(rootJson, rootMessageSchema);
    const nowMs = this.now();
    const message = renderSlackMessage(n, this.mentionFor(n), nowMs);

    if (!root) return this.postRoot(n, message, config, rootKey);

    if (ROOT_EDIT_KINDS.has(n.kind)) {
      const edited = renderRootUpdate(root, n, !config.threadReplies, nowMs);
      const res = await this.callApi(config, 'chat.update', {
        channel: root.channel,
        ts: root.ts,
        ...edited,
      });
      if (!res.ok) {
        if (UPDATE_FALLBACK_ERRORS.has(res.error)) return this.postRoot(n, message, config, rootKey);
        throw this.apiFailure(res.error);
      }
      if (!config.threadReplies) return res.ts;
    } else if (!config.threadReplies) {
      return this.okTs(
        await this.callApi(config, 'chat.postMessage', { channel: config.channel, ...message }),
      );
    }

    const reply = await this.callApi(config, 'chat.postMessage', {
      channel: root.channel,
      thread_ts: root.ts,
      ...(config.broadcastPages && PAGING_KINDS.has(n.kind) ? { reply_broadcast: true } : {}),
      ...message,
    });
    return this.okTs(reply);
  }

  private async postRoot(
    n: Notification,
    message: RenderedSlackMessage,
    config: Extract<SlackConfig, { mode: 'web-api' }>,
    rootKey: string,
  ): Promise<string> {
    const res = await this.callApi(config, 'chat.postMessage', { channel: config.channel, ...message });
    const ts = this.okTs(res);
    if (res.ok) {
      const root: RootMessage = {
        channel: res.channel,
        ts,
        title: n.title,
        text: n.text,
        severity: n.severity,
        incidentId: n.incidentId,
        createdAt: n.createdAt,
      };
      await this.deps.store.set(rootKey, JSON.stringify(root));
    }
    return ts;
  }

  private okTs(res: ApiResponse): string {
    if (!res.ok) throw this.apiFailure(res.error);
    return res.ts;
  }

  private apiFailure(error: string): ApplicationFailure {
    const code = safeErrorCode(error);
    if (error === 'ratelimited')
      return rateLimitedFailure(this.name, 200, this.config.defaultRetryAfterSeconds, code);
    if (RETRYABLE_API_ERRORS.has(error)) return unavailableFailure(this.name, 200, code);
    // invalid_auth, not_authed, channel_not_found, not_in_channel, is_archived, invalid_blocks, no_text, ...
    return rejectedFailure(this.name, 200, code);
  }

  /** One Web API call; HTTP-level failures throw, `ok:false` comes back for the caller to map. */
  private async callApi(
    config: Extract<SlackConfig, { mode: 'web-api' }>,
    method: 'chat.postMessage' | 'chat.update',
    body: Record<string, unknown>,
  ): Promise<ApiResponse> {
    const res = await postJson({
      channel: this.name,
      dispatcher: this.deps.dispatcher,
      url: `${config.apiBaseUrl.replace(/\/+$/, '')}/${method}`,
      headers: { authorization: `Bearer ${config.botToken}` },
      body,
      timeouts: config.timeouts,
    });
    if (res.status !== 200) throw this.httpFailure(res, safeErrorCode(res.body));
    const parsed = parseJsonBody(res.body, apiResponseSchema);
    if (!parsed)
      throw badResponseFailure(
        this.name,
        res.status,
        `${method} response is not {ok, ts, channel} or {ok:false, error}`,
      );
    return parsed;
  }
}
