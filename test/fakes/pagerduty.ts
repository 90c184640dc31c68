// A fake PagerDuty Events API v2 on 127.0.0.1: POST /v2/enqueue with the real validation and answers
// (202 success, 400 "invalid event" with errors), an incident state per dedup_key, and injectable failures.
import { createHmac, randomUUID } from 'node:crypto';
import { startFakeHttpService, type FakeControl, type FakeResponse, type RecordedRequest } from './slack';

export interface FakePagerDutyIncident {
  dedupKey: string;
  status: 'triggered' | 'acknowledged' | 'resolved';
  /** Every accepted event for this key, in order. */
  actions: ('trigger' | 'acknowledge' | 'resolve')[];
  summary?: string;
  severity?: string;
}

export interface FakePagerDuty extends FakeControl {
  /** Requests to /v2/enqueue. */
  events(): RecordedRequest[];
  incidents: Map<string, FakePagerDutyIncident>;
}

const ACTIONS = ['trigger', 'acknowledge', 'resolve'] as const;
const SEVERITIES = ['critical', 'error', 'warning', 'info'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const blank = (v: unknown) => typeof v !== 'string' || v.trim().length === 0;

/** Field checks the Events API v2 makes, with its error strings. */
function validate(body: Record<string, unknown>): string[] {
  const errors: string[] = [];
  if (blank(body.routing_key)) errors.push("'routing_key' is missing or blank");
  if (!ACTIONS.includes(body.event_action as (typeof ACTIONS)[number]))
    errors.push(
      "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')",
    );
  if (body.event_action !== 'trigger' && blank(body.dedup_key))
    errors.push("'dedup_key' is missing or blank");
  if (typeof body.dedup_key === 'string' && body.dedup_key.length > 255)
    errors.push("'dedup_key' is too long (maximum is 255 characters)");
  if (body.event_action === 'trigger') {
    const p = body.payload;
    if (!isRecord(p)) {
      errors.push("'payload' is missing or blank");
    } else {
      if (blank(p.summary)) errors.push("'payload.summary' is missing or blank");
      // Stricter than the real service, which truncates: we want to know if we ever send too much.
      else if (typeof p.summary === 'string' && p.summary.length > 1024)
        errors.push("'payload.summary' is too long (maximum is 1024 characters)");
      if (blank(p.source)) errors.push("'payload.source' is missing or blank");
      if (!SEVERITIES.includes(p.severity as string))
        errors.push(
          "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')",
        );
      if (
        p.timestamp !== undefined &&
        (typeof p.timestamp !== 'string' || Number.isNaN(Date.parse(p.timestamp)))
      )
        errors.push("'payload.timestamp' is invalid (must be a valid ISO 8601 date)");
    }
  }
  return errors;
}

export interface FakePagerDutyOptions {
  /** When set, only this routing key is accepted (others get 400 like an unknown integration). */
  routingKey?: string;
}

export async function startFakePagerDuty(options: FakePagerDutyOptions = {}): Promise<FakePagerDuty> {
  const incidents = new Map<string, FakePagerDutyIncident>();
  const json = (status: number, body: Record<string, unknown>): FakeResponse => ({
    status,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const invalid = (errors: string[]) =>
    json(400, { status: 'invalid event', message: 'Event object is invalid', errors });

  const control = await startFakeHttpService((req) => {
    if (req.path !== '/v2/enqueue') return json(404, { status: 'not found', message: 'Not found' });
    if (req.method !== 'POST')
      return json(405, { status: 'method not allowed', message: 'Method not allowed' });
    if (!isRecord(req.body)) return invalid(['Event object is invalid']);
    const body = req.body;
    const errors = validate(body);
    if (options.routingKey && body.routing_key !== options.routingKey && errors.length === 0)
      errors.push("'routing_key' is invalid");
    if (errors.length > 0) return invalid(errors);

    const action = body.event_action as (typeof ACTIONS)[number];
    const dedupKey =
      typeof body.dedup_key === 'string' && body.dedup_key.length > 0
        ? body.dedup_key
        : randomUUID().replace(/-/g, '');
    const existing = incidents.get(dedupKey);
    const payload = isRecord(body.payload) ? body.payload : undefined;
    if (action === 'trigger') {
      // A trigger for an open key is deduplicated into it; after resolve it opens a new incident.
      const reopen = !existing || existing.status === 'resolved';
      incidents.set(dedupKey, {
        dedupKey,
        status: reopen ? 'triggered' : existing.status,
        actions: [...(existing?.actions ?? []), action],
        ...(typeof payload?.summary === 'string' ? { summary: payload.summary } : {}),
        ...(typeof payload?.severity === 'string' ? { severity: payload.severity } : {}),
      });
    } else if (existing) {
      // acknowledge/resolve for an unknown key are accepted and do nothing, like the real service
      const status =
        action === 'resolve' ? 'resolved' : existing.status === 'resolved' ? 'resolved' : 'acknowledged';
      incidents.set(dedupKey, { ...existing, status, actions: [...existing.actions, action] });
    }
    return json(202, { status: 'success', message: 'Event processed', dedup_key: dedupKey });
  });

  return {
    ...control,
    events: () => control.requests.filter((r) => r.path === '/v2/enqueue'),
    incidents,
  };
}

/**
 * A PagerDuty v3 webhook body as PagerDuty sends it (developer docs "V3 Webhooks": the event envelope with
 * an incident resource and the acting user as `agent`).
 */
export function pagerDutyWebhook(opts: {
  eventType: string;
  incidentKey: string;
  agentId?: string;
  agentName?: string;
  eventId?: string;
  occurredAt?: string;
  assignees?: { id: string; summary: string }[];
}): Record<string, unknown> {
  const user = (id: string, summary: string) => ({
    html_url: `https://acme.pagerduty.com/users/${id}`,
    id,
    self: `https://api.pagerduty.com/users/${id}`,
    summary,
    type: 'user_reference',
  });
  return {
    event: {
      id: opts.eventId ?? `01${randomUUID().replace(/-/g, '').slice(0, 24).toUpperCase()}`,
      event_type: opts.eventType,
      resource_type: 'incident',
      occurred_at: opts.occurredAt ?? new Date().toISOString(),
      agent: opts.agentId ? user(opts.agentId, opts.agentName ?? 'Someone') : null,
      client: null,
      data: {
        id: 'Q2K8C1ZVLPYS6Z',
        type: 'incident',
        self: 'https://api.pagerduty.com/incidents/Q2K8C1ZVLPYS6Z',
        html_url: 'https://acme.pagerduty.com/incidents/Q2K8C1ZVLPYS6Z',
        number: 42,
        status: opts.eventType.replace('incident.', ''),
        incident_key: opts.incidentKey,
        created_at: new Date().toISOString(),
        title: '[P0] Trading API down',
        service: {
          html_url: 'https://acme.pagerduty.com/services/PF9KMXH',
          id: 'PF9KMXH',
          self: 'https://api.pagerduty.com/services/PF9KMXH',
          summary: 'Trading',
          type: 'service_reference',
        },
        assignees: (opts.assignees ?? []).map((a) => user(a.id, a.summary)),
        escalation_policy: {
          html_url: 'https://acme.pagerduty.com/escalation_policies/PUS0KTE',
          id: 'PUS0KTE',
          self: 'https://api.pagerduty.com/escalation_policies/PUS0KTE',
          summary: 'Trading on-call',
          type: 'escalation_policy_reference',
        },
        teams: [],
        priority: null,
        urgency: 'high',
        conference_bridge: null,
        resolve_reason: null,
      },
    },
  };
}

/** X-PagerDuty-Signature for a body: `v1=<hex HMAC-SHA256>` per secret, comma-separated (rotation). */
export function pagerDutySignature(body: string, ...secrets: string[]): string {
  return secrets.map((s) => `v1=${createHmac('sha256', s).update(body).digest('hex')}`).join(',');
}
