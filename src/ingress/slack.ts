// Slack, two-way: the buttons on the engine's Slack messages (POST /v1/slack/interactions)
// and the slash command `/incident ack|resolve|status|escalate <id>`, `/incident heartbeats`, `/incident oncall`
// and `/incident override ...` (POST /v1/slack/commands). Both are
// verified with the app's signing secret (v0 HMAC-SHA256 over `v0:<timestamp>:<body>`, 5-minute window,
// constant-time; several secrets during a rotation), answered within Slack's 3 seconds, and run as the
// incident's Workflow Update, so the person who clicked gets "done" or the rejection reason as an ephemeral
// reply. The Slack user id is mapped to a 2.1 contact (verified identity); nothing in the payload picks `by`.
import { request } from 'undici';
import { z } from 'zod';
import { findContactByPlatformId, type ContactConfig } from '../playbook/contacts';
import type { MonitorStatus } from '../playbook/contract/heartbeat';
import type { ActionName, ActionOrigin } from '../playbook/contract/incident';
import type { AddOverrideInput, CancelOverrideInput } from '../playbook/contract/oncall';
import { isRole, parseOverrideTime, readCover } from './oncall';
import { safeEqual } from './auth';
import { createHmac } from 'node:crypto';
import { IngressError } from './errors';
import { parseIncidentRef, wholeIncidentRef } from './incident-ref';

export const SLACK_SIGNATURE_HEADER = 'x-slack-signature';
export const SLACK_TIMESTAMP_HEADER = 'x-slack-request-timestamp';

/** Button action ids on the engine's messages (src/activities/notify/slack.ts renders them). */
export const SLACK_ACTIONS = {
  acknowledge: 'incident.acknowledge',
  resolve: 'incident.resolve',
  escalate: 'incident.escalate',
  approve: 'approval.approve',
  /** Approve of an action that needs CONFIRM_RESUME (resume trading): opens the confirmation dialog. */
  confirm: 'approval.confirm',
  reject: 'approval.reject',
} as const;
export const RESOLVE_VIEW = 'incident.resolve';
export const CONFIRM_VIEW = 'approval.confirm';

const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/**
 * What can be checked before the body is read (a secret configured, a `v0=` signature and a timestamp inside
 * the window): throws 401 otherwise, so a request that cannot be Slack's costs no body read.
 */
export function checkSlackHeaders(
  headers: Record<string, string | string[] | undefined>,
  secrets: readonly string[],
  windowSeconds: number,
  nowMs: number,
): { signature: string; timestamp: string } {
  const unauthorized = (message: string, field = SLACK_SIGNATURE_HEADER) =>
    new IngressError(401, 'unauthorized', message, field);
  if (secrets.length === 0)
    throw unauthorized('Slack requests are not configured here: set SLACK_SIGNING_SECRET');
  const signature = header(headers[SLACK_SIGNATURE_HEADER])?.trim().toLowerCase();
  const timestamp = header(headers[SLACK_TIMESTAMP_HEADER])?.trim();
  if (!signature?.startsWith('v0=')) throw unauthorized('missing or malformed X-Slack-Signature (v0=<hex>)');
  if (!timestamp || !/^\d{1,13}$/.test(timestamp))
    throw unauthorized('missing X-Slack-Request-Timestamp', SLACK_TIMESTAMP_HEADER);
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > windowSeconds)
    throw unauthorized(
      `the request timestamp is outside the ${windowSeconds}-second window`,
      SLACK_TIMESTAMP_HEADER,
    );
  return { signature, timestamp };
}

/**
 * Throws 401 unless the request carries a `v0=` signature of `v0:<timestamp>:<raw body>` with one of the
 * secrets and a timestamp inside the window. Returns the replay key.
 */
export function verifySlackSignature(
  headers: Record<string, string | string[] | undefined>,
  rawBody: Buffer,
  secrets: readonly string[],
  windowSeconds: number,
  nowMs: number,
): string {
  const { signature, timestamp } = checkSlackHeaders(headers, secrets, windowSeconds, nowMs);
  let ok = false;
  for (const secret of secrets) {
    const expected = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`;
    ok = safeEqual(signature, expected) || ok;
  }
  if (!ok) throw new IngressError(401, 'unauthorized', 'invalid X-Slack-Signature', SLACK_SIGNATURE_HEADER);
  return `slack:${timestamp}:${signature}`;
}

/** Who a Slack user is: the mapped contact, `slack:<id>`, or null when requireKnownUsers refuses them. */
export function slackActor(
  contacts: ContactConfig,
  userId: string,
  eventId?: string,
): { by: string; origin: ActionOrigin } | null {
  const known = findContactByPlatformId(contacts, 'slack', userId);
  if (!known && contacts.requireKnownUsers) return null;
  return {
    by: known?.name ?? `slack:${userId}`,
    origin: {
      channel: 'slack',
      userId,
      known: known !== null,
      ...(known?.role ? { role: known.role } : {}),
      ...(eventId ? { eventId: eventId.slice(0, 200) } : {}),
    },
  };
}

const notInContacts = (userId: string) =>
  `Slack user ${userId || '(none)'} is not in contacts (contacts.requireKnownUsers)`;

const blockActionsSchema = z.looseObject({
  type: z.literal('block_actions'),
  user: z.looseObject({ id: z.string().min(1).max(100) }),
  trigger_id: z.string().max(200).optional(),
  response_url: z.url().optional(),
  actions: z
    .array(
      z.looseObject({
        action_id: z.string().max(255),
        value: z.string().max(2000).optional(),
        action_ts: z.string().max(100).optional(),
      }),
    )
    .min(1),
});

const viewSubmissionSchema = z.looseObject({
  type: z.literal('view_submission'),
  user: z.looseObject({ id: z.string().min(1).max(100) }),
  view: z.looseObject({
    id: z.string().max(100).optional(),
    callback_id: z.string().max(255),
    private_metadata: z.string().max(3000).optional(),
    state: z.looseObject({
      values: z.record(z.string(), z.record(z.string(), z.looseObject({ value: z.string().nullish() }))),
    }),
  }),
});

export type SlackInteraction =
  | {
      kind: 'action';
      workflowId: string;
      /** The incident the message was about: the action runs only if it is still the one running. */
      incidentId: string;
      name: ActionName;
      payload: Record<string, unknown>;
      responseUrl?: string;
    }
  | { kind: 'open-resolve'; workflowId: string; incidentId: string; triggerId: string; responseUrl?: string }
  | {
      kind: 'open-confirm';
      workflowId: string;
      incidentId: string;
      actionId: string;
      triggerId: string;
      responseUrl?: string;
    }
  | {
      kind: 'submit';
      name: ActionName;
      /** The dialog's input block a refusal is shown under. */
      block: string;
      workflowId: string;
      incidentId: string;
      payload: Record<string, unknown>;
    }
  | {
      kind: 'refused';
      reason: string;
      responseUrl?: string;
      /** a dialog's input to show it under */ block?: string;
    }
  | { kind: 'ignored'; reason: string };

/** Reads one interaction (`payload=` form field, already decoded) into what to do. Pure. */
export function decideSlackInteraction(raw: unknown, contacts: ContactConfig): SlackInteraction {
  const blockActions = blockActionsSchema.safeParse(raw);
  if (blockActions.success) {
    const p = blockActions.data;
    const action = p.actions[0]!;
    const responseUrl = p.response_url;
    const actor = slackActor(contacts, p.user.id, action.action_ts);
    if (!actor)
      return {
        kind: 'refused',
        reason: notInContacts(p.user.id),
        ...(responseUrl ? { responseUrl } : {}),
      };
    const [value = '', actionId] = (action.value ?? '').split('|');
    // The engine's buttons carry the whole incident id; a bare workflow id could name whichever incident
    // runs under it now.
    const ref = wholeIncidentRef(value);
    if (!ref) return { kind: 'ignored', reason: 'button without an engine incident id' };
    const { workflowId, incidentId } = ref;
    const act = (name: ActionName, extra: Record<string, unknown> = {}): SlackInteraction => ({
      kind: 'action',
      workflowId,
      incidentId,
      name,
      payload: { by: actor.by, origin: actor.origin, ...extra },
      ...(responseUrl ? { responseUrl } : {}),
    });
    switch (action.action_id) {
      case SLACK_ACTIONS.acknowledge:
        return act('acknowledge');
      case SLACK_ACTIONS.escalate:
        return act('escalate', { reason: `escalated from Slack by ${actor.by}` });
      case SLACK_ACTIONS.approve:
        return actionId
          ? act('approve', { actionId })
          : { kind: 'ignored', reason: 'approve without an action id' };
      case SLACK_ACTIONS.confirm:
        return actionId && p.trigger_id
          ? {
              kind: 'open-confirm',
              workflowId,
              incidentId,
              actionId,
              triggerId: p.trigger_id,
              ...(responseUrl ? { responseUrl } : {}),
            }
          : { kind: 'ignored', reason: 'confirm without an action id or trigger_id' };
      case SLACK_ACTIONS.reject:
        return actionId
          ? act('reject', { actionId, reason: `rejected in Slack by ${actor.by}` })
          : { kind: 'ignored', reason: 'reject without an action id' };
      case SLACK_ACTIONS.resolve:
        return p.trigger_id
          ? {
              kind: 'open-resolve',
              workflowId,
              incidentId,
              triggerId: p.trigger_id,
              ...(responseUrl ? { responseUrl } : {}),
            }
          : { kind: 'ignored', reason: 'resolve without a trigger_id' };
      default:
        return { kind: 'ignored', reason: `action ${action.action_id} is not the engine's` };
    }
  }
  const submission = viewSubmissionSchema.safeParse(raw);
  const view = submission.success ? submission.data.view : null;
  if (
    submission.success &&
    view &&
    (view.callback_id === CONFIRM_VIEW || view.callback_id === RESOLVE_VIEW)
  ) {
    const userId = submission.data.user.id;
    const actor = slackActor(contacts, userId, view.id);
    const block = view.callback_id === CONFIRM_VIEW ? 'confirmation_code' : 'resolution';
    if (!actor) return { kind: 'refused', reason: notInContacts(userId), block };
    const field = (block: string) => {
      const v = view.state.values[block]?.[block]?.value;
      return v === null || v === undefined || v.trim() === '' ? undefined : v.trim();
    };
    const [value = '', actionId = ''] = (view.private_metadata ?? '').split('|');
    const ref = wholeIncidentRef(value);
    if (!ref) return { kind: 'ignored', reason: 'dialog without an engine incident id' };
    if (view.callback_id === CONFIRM_VIEW) {
      return {
        kind: 'submit',
        name: 'approve',
        block: 'confirmation_code',
        ...ref,
        payload: {
          by: actor.by,
          origin: actor.origin,
          actionId,
          confirmationCode: field('confirmation_code') ?? '',
        },
      };
    }
    const num = (block: string) => {
      const v = field(block);
      const n = v === undefined ? undefined : Number(v.replace(/[$,\s]/g, ''));
      return n !== undefined && Number.isFinite(n) && n >= 0 ? n : undefined;
    };
    const missed = num('missed_trades');
    const impact = num('financial_impact');
    return {
      kind: 'submit',
      name: 'resolve',
      block: 'resolution',
      ...ref,
      payload: {
        by: actor.by,
        origin: actor.origin,
        ...(field('root_cause') ? { rootCause: field('root_cause') } : {}),
        ...(field('resolution') ? { resolution: field('resolution') } : {}),
        ...(missed !== undefined ? { missedTrades: Math.round(missed) } : {}),
        ...(impact !== undefined ? { financialImpactUsd: impact } : {}),
      },
    };
  }
  const type = typeof raw === 'object' && raw !== null ? String((raw as { type?: unknown }).type) : 'unknown';
  return { kind: 'ignored', reason: `interaction ${type} is not handled` };
}

/** The resolve dialog (Block Kit modal) for views.open: 4.3's fields. */
export function resolveModal(incidentId: string) {
  const input = (id: string, label: string, multiline: boolean, optional = true, hint?: string) => ({
    type: 'input',
    block_id: id,
    optional,
    label: { type: 'plain_text', text: label },
    element: { type: 'plain_text_input', action_id: id, multiline },
    ...(hint ? { hint: { type: 'plain_text', text: hint } } : {}),
  });
  return {
    type: 'modal',
    callback_id: RESOLVE_VIEW,
    private_metadata: incidentId,
    title: { type: 'plain_text', text: 'Resolve incident' },
    submit: { type: 'plain_text', text: 'Resolve' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      input('root_cause', 'Root cause', true),
      input('resolution', 'Resolution', true, false),
      input('missed_trades', 'Missed trades', false, true, 'a count, e.g. 3'),
      input('financial_impact', 'Financial impact (USD)', false, true, 'e.g. 1200; over $1000 pages the CTO'),
    ],
  };
}

/** The confirmation dialog of a resume (3.1 "Resume trading" needs CONFIRM_RESUME typed by a person). */
export function confirmModal(incidentId: string, actionId: string) {
  return {
    type: 'modal',
    callback_id: CONFIRM_VIEW,
    private_metadata: `${incidentId}|${actionId}`,
    title: { type: 'plain_text', text: 'Confirm resume' },
    submit: { type: 'plain_text', text: 'Approve' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Approve *${actionId}*: trading resumes. Type CONFIRM_RESUME to confirm.`,
        },
      },
      {
        type: 'input',
        block_id: 'confirmation_code',
        label: { type: 'plain_text', text: 'Confirmation code' },
        element: { type: 'plain_text_input', action_id: 'confirmation_code' },
      },
    ],
  };
}

export type SlackCommand =
  | {
      kind: 'action';
      workflowId: string;
      /** Null when a bare workflow id was typed: the incident running under it. */
      incidentId: string | null;
      name: ActionName;
      payload: Record<string, unknown>;
    }
  | { kind: 'status'; workflowId: string; incidentId: string | null }
  /** Every heartbeat monitor's state (no incident named). */
  | { kind: 'heartbeats' }
  /** Who is on call for each role, until when, who next, and the overrides. */
  | { kind: 'oncall' }
  /** The roster's addOverride / cancelOverride Update, as the verified user (`via: slack`). */
  | { kind: 'override'; input: AddOverrideInput }
  | { kind: 'override-cancel'; input: CancelOverrideInput }
  | { kind: 'help'; text: string }
  | { kind: 'refused'; reason: string };

export const OVERRIDE_USAGE =
  '`/incident override <role> <@user|name> <from> <to> [reason]` (from/to: ISO with a zone, YYYY-MM-DDTHH:MM read as COT, or now) · `/incident override cancel <id> [reason]`';

export const SLASH_USAGE = `Usage: \`/incident ack <id>\` · \`/incident resolve <id> <resolution>\` · \`/incident status <id>\` · \`/incident escalate <id> [reason]\` · \`/incident heartbeats\` · \`/incident oncall\` · ${OVERRIDE_USAGE} (<id> is the workflow id, e.g. incident-trading-system-down-0123456789abcdef, for the incident running under it, or the incident id <workflow id>@<opening time> for that incident only; an override's id is ovr-<n>, as \`/incident oncall\` lists them)`;

/** `/incident <verb> <id> [text]` -> what to do. Pure: `now` reads `now` in an override's times. */
export function decideSlashCommand(
  form: Record<string, string>,
  contacts: ContactConfig,
  now: number = Date.now(),
): SlackCommand {
  const [verb = '', id = '', ...rest] = (form.text ?? '').trim().split(/\s+/);
  const tail = rest.join(' ').trim();
  const actor = slackActor(contacts, form.user_id ?? '', form.trigger_id);
  // Reading, like status: anyone requireKnownUsers lets in.
  if (verb === 'heartbeats' || verb === 'oncall')
    return actor ? { kind: verb } : { kind: 'refused', reason: notInContacts(form.user_id ?? '') };
  if (verb === 'override') {
    if (!form.user_id || !actor) return { kind: 'refused', reason: notInContacts(form.user_id ?? '') };
    return decideOverride((form.text ?? '').trim().slice(verb.length).trim(), actor.by, contacts, now);
  }
  if (!id) return { kind: 'help', text: SLASH_USAGE };
  const ref = parseIncidentRef(id);
  if (!ref) return { kind: 'help', text: `\`${id.slice(0, 200)}\` is not an incident. ${SLASH_USAGE}` };
  if (verb === 'status')
    return actor
      ? { kind: 'status', ...ref }
      : { kind: 'refused', reason: notInContacts(form.user_id ?? '') };
  if (!form.user_id || !actor) return { kind: 'refused', reason: notInContacts(form.user_id ?? '') };
  const base = { by: actor.by, origin: actor.origin };
  switch (verb) {
    case 'ack':
    case 'acknowledge':
      return { kind: 'action', ...ref, name: 'acknowledge', payload: base };
    case 'resolve':
      return {
        kind: 'action',
        ...ref,
        name: 'resolve',
        payload: { ...base, resolution: tail || `resolved from Slack by ${actor.by}` },
      };
    case 'escalate':
      return {
        kind: 'action',
        ...ref,
        name: 'escalate',
        payload: { ...base, reason: tail || `escalated from Slack by ${actor.by}` },
      };
    default:
      return { kind: 'help', text: `Unknown \`${verb}\`. ${SLASH_USAGE}` };
  }
}

/** `/incident override <role> <who> <from> <to> [reason]` or `/incident override cancel <id> [reason]`. */
function decideOverride(text: string, by: string, contacts: ContactConfig, now: number): SlackCommand {
  const help = (problem: string): SlackCommand => ({ kind: 'help', text: `${problem}. ${OVERRIDE_USAGE}` });
  const [first = '', ...others] = text.split(/\s+/);
  if (!first) return { kind: 'help', text: `Usage: ${OVERRIDE_USAGE}` };
  if (first === 'cancel') {
    const [id = '', ...why] = others;
    if (!id) return help('Which override? (its id, ovr-<n>, as `/incident oncall` lists them)');
    const reason = why.join(' ').trim();
    return {
      kind: 'override-cancel',
      input: { id: id.slice(0, 100), by, ...(reason ? { reason: reason.slice(0, 500) } : {}), via: 'slack' },
    };
  }
  if (!isRole(first)) return help(`\`${first.slice(0, 100)}\` is not a 2.1 role`);
  const cover = readCover(text.slice(first.length).trim(), contacts);
  if ('problem' in cover) return { kind: 'refused', reason: cover.problem };
  const [fromText = '', toText = '', ...why] = cover.rest.split(/\s+/);
  const from = parseOverrideTime(fromText, now);
  const to = parseOverrideTime(toText, now);
  if (!from) return help(`\`${fromText.slice(0, 100) || '(none)'}\` is not a start time`);
  if (!to) return help(`\`${toText.slice(0, 100) || '(none)'}\` is not an end time`);
  if (Date.parse(from) >= Date.parse(to)) return help('The start must be before the end');
  const reason = why.join(' ').trim();
  return {
    kind: 'override',
    input: {
      role: first,
      person: cover.person,
      from,
      to,
      by,
      ...(reason ? { reason: reason.slice(0, 500) } : {}),
      via: 'slack',
    },
  };
}

/**
 * The `/incident heartbeats` answer: one line per monitor, silent ones first, each with its state, name, last
 * beat (time and source), deadline, and the incident a silence opened. `limit`: how many were asked for (a list
 * that long may have been cut).
 */
export function heartbeatsText(monitors: readonly MonitorStatus[], limit: number): string {
  if (monitors.length === 0) return 'No heartbeat monitors are running';
  const order = { silent: 0, waiting: 1, healthy: 2 } as const;
  const sorted = [...monitors].sort(
    (a, b) => order[a.state] - order[b.state] || a.name.localeCompare(b.name),
  );
  const count = (state: MonitorStatus['state']) => monitors.filter((m) => m.state === state).length;
  const lines = sorted.map((m) => {
    const last = m.lastBeatAt
      ? `last beat ${m.lastBeatAt}${m.lastBeatSource ? ` from ${m.lastBeatSource}` : ''}`
      : 'no beat yet';
    const rest =
      m.state === 'silent'
        ? `silent since ${m.silentSince ?? '?'}; incident ${m.incidentWorkflowId ?? '(being opened)'}`
        : m.state === 'healthy'
          ? `deadline ${m.deadline ?? '?'}`
          : 'no alert until its first beat';
    return `*${m.state}* ${m.name}: ${last}; ${rest}`;
  });
  const head = `${monitors.length} heartbeat monitor${monitors.length === 1 ? '' : 's'}: ${count('silent')} silent, ${count('healthy')} healthy, ${count('waiting')} waiting`;
  const cut = monitors.length >= limit ? [`(the first ${limit}; GET /v1/heartbeats lists up to 200)`] : [];
  return [head, ...lines, ...cut].join('\n');
}

/**
 * Is `url` a response_url the ingress may POST to? `allowed`: host names, which need https on the default port,
 * or origins (`scheme://host[:port]`), which must match exactly. No credentials in the URL.
 */
export function responseUrlAllowed(url: string, allowed: readonly string[]): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.username || u.password) return false;
  return allowed.some((entry) => {
    if (entry.includes('://')) {
      try {
        return new URL(entry).origin === u.origin;
      } catch {
        return false;
      }
    }
    return u.protocol === 'https:' && u.port === '' && u.hostname === entry.trim().toLowerCase();
  });
}

/** Posts an ephemeral reply to an interaction's or command's response_url (best effort: logged on failure). */
export async function replyEphemeral(responseUrl: string, text: string): Promise<void> {
  const res = await request(responseUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
    headersTimeout: 5000,
    bodyTimeout: 5000,
  });
  await res.body.dump();
  if (res.statusCode >= 300) throw new Error(`response_url answered ${res.statusCode}`);
}

/** Opens a dialog with Slack's views.open (needs the bot token). */
export async function openModal(
  apiBaseUrl: string,
  botToken: string,
  triggerId: string,
  view: object,
): Promise<void> {
  const res = await request(`${apiBaseUrl.replace(/\/+$/, '')}/views.open`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${botToken}` },
    body: JSON.stringify({ trigger_id: triggerId, view }),
    headersTimeout: 2500,
    bodyTimeout: 2500,
  });
  const body = (await res.body.json()) as { ok?: boolean; error?: string };
  if (!body.ok) throw new Error(`views.open failed: ${body.error ?? res.statusCode}`);
}
