// PagerDuty, two-way: POST /v1/pagerduty/webhooks takes PagerDuty's v3 webhooks. Each is
// verified with X-PagerDuty-Signature (`v1=<hex HMAC-SHA256 of the raw body>`, several during a secret
// rotation, PAGERDUTY_WEBHOOK_SECRET may list several too), refused if its event id was already accepted
// (the replay guard, shared through Redis), matched to the incident by the `incident_key` (the dedup_key the
// engine sent: `<workflow id>@<opening time>`), and run as the incident's Update: acknowledged ->
// acknowledge, resolved -> resolve, reassigned / escalated -> a note. The agent's PagerDuty user id is
// mapped to a 2.1 contact (verified identity); a `by` in the payload is never read.
import { z } from 'zod';
import { findContactByPlatformId, type ContactConfig } from '../playbook/contacts';
import type { ActionName, ActionOrigin } from '../playbook/contract/incident';
import { safeEqual, sign } from './auth';
import { IngressError } from './errors';
import { wholeIncidentRef } from './incident-ref';

export const PAGERDUTY_SIGNATURE_HEADER = 'x-pagerduty-signature';

const reference = z.looseObject({
  id: z.string().min(1).max(100),
  summary: z.string().max(500).nullish(),
  type: z.string().max(100).nullish(),
});

/** The v3 webhook envelope, as far as it is read; everything else PagerDuty sends is kept out. */
export const pagerDutyWebhookSchema = z.looseObject({
  event: z.looseObject({
    id: z.string().min(1).max(200),
    event_type: z.string().min(1).max(100),
    resource_type: z.string().max(100),
    occurred_at: z.string().max(100),
    agent: reference.nullish(),
    data: z.looseObject({
      id: z.string().min(1).max(100),
      type: z.string().max(100).optional(),
      incident_key: z.string().max(500).nullish(),
      title: z.string().max(2000).nullish(),
      status: z.string().max(100).nullish(),
      html_url: z.string().max(2000).nullish(),
      assignees: z.array(reference).max(100).nullish(),
      // incident.escalated carries the new assignee and level in some payloads; read if present.
      escalation_policy: reference.nullish(),
    }),
  }),
});
export type PagerDutyWebhook = z.output<typeof pagerDutyWebhookSchema>;

const unauthorized = (message: string) =>
  new IngressError(401, 'unauthorized', message, PAGERDUTY_SIGNATURE_HEADER);

/**
 * The header's `v1=` signatures, or 401 when there is none or no secret is configured: checked before the
 * body is read, so a request that cannot be PagerDuty's costs no body read.
 */
export function presentedPagerDutySignatures(
  header: string | string[] | undefined,
  secrets: readonly string[],
): string[] {
  if (secrets.length === 0)
    throw unauthorized('PagerDuty webhooks are not configured here: set PAGERDUTY_WEBHOOK_SECRET');
  const value = Array.isArray(header) ? header.join(',') : header;
  if (!value) throw unauthorized('missing X-PagerDuty-Signature');
  const presented = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .map((s) => s.slice(3).toLowerCase());
  if (presented.length === 0) throw unauthorized('X-PagerDuty-Signature has no v1= signature');
  return presented;
}

/** Throws 401 unless one of the header's `v1=` signatures is the body's HMAC with one of the secrets. */
export function verifyPagerDutySignature(
  header: string | string[] | undefined,
  rawBody: Buffer,
  secrets: readonly string[],
): void {
  const presented = presentedPagerDutySignatures(header, secrets);
  let ok = false;
  // Every pair is compared (no early exit), in constant time.
  for (const secret of secrets) {
    const expected = sign(secret, rawBody);
    for (const p of presented) ok = safeEqual(p, expected) || ok;
  }
  if (!ok) throw unauthorized('invalid X-PagerDuty-Signature');
}

export interface PagerDutyAction {
  workflowId: string;
  incidentId: string;
  name: ActionName;
  payload: Record<string, unknown>;
}

export type PagerDutyDecision =
  | { kind: 'action'; action: PagerDutyAction }
  | { kind: 'ignored'; reason: string }
  | { kind: 'refused'; reason: string };

/** Events older than this are refused as stale (PagerDuty retries within minutes); ids are kept as long. */
export const PAGERDUTY_EVENT_MAX_AGE_MS = 12 * 3600_000;

// PagerDuty writes `2020-04-09T15:16:27.944Z`; Date.parse alone would also take "1" (the year 2001).
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Why an event's `occurred_at` keeps it out, or null: not an ISO instant, older than the 12 h its id is
 * remembered (a replay past that would be accepted again), or later than now plus the allowed clock skew
 * (a future date would otherwise pass every age check).
 */
export function occurredAtProblem(occurredAt: string, nowMs: number, skewMs: number): string | null {
  const at = ISO_INSTANT.test(occurredAt) ? Date.parse(occurredAt) : NaN;
  if (!Number.isFinite(at))
    return `occurred_at ${JSON.stringify(occurredAt.slice(0, 40))} is not an ISO 8601 time`;
  if (nowMs - at > PAGERDUTY_EVENT_MAX_AGE_MS) return `it is stale (occurred ${occurredAt})`;
  if (at - nowMs > skewMs) return `it is dated in the future (occurred ${occurredAt})`;
  return null;
}

/** What an event asks of which incident, with its verified actor. Pure: the route runs the result. */
export function decidePagerDuty(webhook: PagerDutyWebhook, contacts: ContactConfig): PagerDutyDecision {
  const { event } = webhook;
  // The engine's dedup_key is the incident id, kept whole: the action is refused if another incident now
  // runs under its workflow id.
  const ref = wholeIncidentRef(event.data.incident_key);
  if (event.resource_type !== 'incident' || !ref)
    return { kind: 'ignored', reason: 'not an incident this engine opened (no engine incident_key)' };
  const agent = event.agent;
  const userId = agent?.type === 'user_reference' || agent?.type === 'user' ? agent.id : null;
  const known = userId ? findContactByPlatformId(contacts, 'pagerduty', userId) : null;
  if (!known && contacts.requireKnownUsers)
    return {
      kind: 'refused',
      reason: `PagerDuty user ${userId ?? '(none: a service or integration)'} is not in contacts and contacts.requireKnownUsers is set`,
    };
  const by = known?.name ?? (userId ? `pagerduty:${userId}` : `pagerduty:${agent?.id ?? 'system'}`);
  const origin: ActionOrigin = {
    channel: 'pagerduty',
    userId: userId ?? agent?.id ?? 'system',
    known: known !== null,
    ...(known?.role ? { role: known.role } : {}),
    eventId: event.id,
  };
  const action = (name: ActionName, extra: Record<string, unknown> = {}): PagerDutyDecision => ({
    kind: 'action',
    action: {
      workflowId: ref.workflowId,
      incidentId: ref.incidentId,
      name,
      payload: { by, origin, ...extra },
    },
  });
  const who = (refs: { id: string; summary?: string | null }[] | null | undefined) =>
    (refs ?? []).map((r) => r.summary ?? r.id).join(', ') || 'nobody';
  switch (event.event_type) {
    case 'incident.acknowledged':
      return action('acknowledge');
    case 'incident.resolved':
      return action('resolve', { resolution: 'Resolved in PagerDuty' });
    case 'incident.reassigned':
      return action('addNote', { text: `PagerDuty: reassigned to ${who(event.data.assignees)}` });
    case 'incident.escalated':
      return action('addNote', {
        text: `PagerDuty: escalated to ${who(event.data.assignees)}${event.data.escalation_policy ? ` (${event.data.escalation_policy.summary ?? event.data.escalation_policy.id})` : ''}`,
      });
    default:
      return { kind: 'ignored', reason: `${event.event_type} is not acted on` };
  }
}
