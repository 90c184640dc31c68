// PagerDuty Events API v2 channel behind the notification port (2.2 external contact "PagerDuty").
// One PagerDuty incident per Temporal incident: dedup_key is derived from the incident id, so the
// workflow's acknowledge and resolve propagate to the page; the escalation step goes into custom_details.
import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { parseIncidentId } from '../../playbook/contract/incident-id';
import type { Severity } from '../../playbook/severity';
import {
  badResponseFailure,
  httpTimeoutsSchema,
  parseJsonBody,
  parseRetryAfter,
  postJson,
  rateLimitedFailure,
  rejectedFailure,
  unavailableFailure,
} from './http';
import type { KeyValueStore } from '../../ledger/kv';
import type { DeliveryResult, NotificationChannel } from './port';
import type { Notification, NotificationKind } from '../../playbook/contract/notification';

export const pagerDutyConfigSchema = z.object({
  name: z.string().min(1).default('pagerduty'),
  /** Integration key of the Events API v2 integration on the service. Secret: never logged. */
  routingKey: z.string().min(1),
  baseUrl: z.url().default('https://events.pagerduty.com'),
  /** payload.source: the system that raised the event. */
  source: z.string().min(1).default('incident-response'),
  /** payload.component, payload.group: shown and filterable in PagerDuty. */
  component: z.string().min(1).default('usdcop-trading'),
  group: z.string().min(1).default('trading'),
  /**
   * Optional link to the incident: `{workflowId}` (what the Temporal UI's URL names) and `{incidentId}`
   * (`<workflow id>@<opening time>`) are replaced.
   */
  incidentUrlTemplate: z.string().optional(),
  timeouts: httpTimeoutsSchema.prefault({}),
});
export type PagerDutyConfig = z.output<typeof pagerDutyConfigSchema>;
export type PagerDutyConfigInput = z.input<typeof pagerDutyConfigSchema>;

export interface PagerDutyDeps {
  dispatcher: Dispatcher;
  store: KeyValueStore;
}

export type PagerDutyEventAction = 'trigger' | 'acknowledge' | 'resolve';
export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';

/** Which Events API action a notification kind maps to; null = nothing is sent to PagerDuty. */
export const PAGERDUTY_ACTION: Record<NotificationKind, PagerDutyEventAction | null> = {
  page: 'trigger',
  repage: 'trigger',
  breach: 'trigger',
  reopened: 'trigger',
  acknowledged: 'acknowledge',
  resolved: 'resolve',
  // Status updates (4.2), severity changes and info messages are chat, not paging (the roles a raise makes
  // due are paged by their own `page`).
  update: null,
  severity: null,
  info: null,
};

export const PAGERDUTY_SEVERITY: Record<Severity, PagerDutySeverity> = {
  P0: 'critical',
  P1: 'error',
  P2: 'warning',
  P3: 'info',
};

/** Ref returned for kinds that send nothing to PagerDuty. */
export const PAGERDUTY_SKIPPED = 'skipped';

const SUMMARY_MAX = 1024; // Events API v2 payload.summary limit
const DEDUP_KEY_MAX = 255;

/** One dedup_key per incident; ids longer than PagerDuty's limit are shortened with a hash suffix. */
export function pagerDutyDedupKey(incidentId: string): string {
  if (incidentId.length <= DEDUP_KEY_MAX) return incidentId;
  const hash = createHash('sha256').update(incidentId).digest('hex').slice(0, 16);
  return `${incidentId.slice(0, DEDUP_KEY_MAX - 17)}:${hash}`;
}

export interface PagerDutyEvent {
  routing_key: string;
  event_action: PagerDutyEventAction;
  dedup_key: string;
  client?: string;
  client_url?: string;
  payload?: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp: string;
    component: string;
    group: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links?: { href: string; text: string }[];
}

/** The Events API v2 body for a notification (without sending it). Exported for tests and the docs. */
export function buildPagerDutyEvent(
  n: Notification,
  config: PagerDutyConfig,
  action: PagerDutyEventAction,
): PagerDutyEvent {
  const dedupKey = pagerDutyDedupKey(n.incidentId);
  const workflowId = parseIncidentId(n.incidentId)?.workflowId ?? n.incidentId;
  const url = config.incidentUrlTemplate
    ?.replace(/\{incidentId\}/g, encodeURIComponent(n.incidentId))
    .replace(/\{workflowId\}/g, encodeURIComponent(workflowId));
  const event: PagerDutyEvent = { routing_key: config.routingKey, event_action: action, dedup_key: dedupKey };
  if (action !== 'trigger') return event; // acknowledge/resolve carry only the key (Events API v2)
  const summary = `[${n.severity}] ${n.title}`;
  const timestamp = Number.isNaN(Date.parse(n.createdAt))
    ? new Date().toISOString()
    : new Date(Date.parse(n.createdAt)).toISOString();
  event.payload = {
    summary: summary.length <= SUMMARY_MAX ? summary : `${summary.slice(0, SUMMARY_MAX - 1)}…`,
    source: config.source,
    severity: PAGERDUTY_SEVERITY[n.severity],
    timestamp,
    component: config.component,
    group: config.group,
    class: n.kind,
    custom_details: {
      incident_id: n.incidentId,
      step: n.step,
      target: n.target,
      kind: n.kind,
      severity: n.severity,
      incident_status: n.incidentStatus,
      ...(n.template ? { template: n.template } : {}),
      // The rendered playbook template; PagerDuty caps the whole event at 512 KB.
      text: n.text.length <= 16_000 ? n.text : `${n.text.slice(0, 15_999)}…`,
    },
  };
  if (url) {
    event.client = 'Incident response (Temporal)';
    event.client_url = url;
    event.links = [{ href: url, text: `Incident ${n.incidentId}` }];
  }
  return event;
}

const acceptedSchema = z.object({
  status: z.literal('success'),
  message: z.string(),
  dedup_key: z.string().min(1),
});
const invalidEventSchema = z.object({
  status: z.string(),
  message: z.string(),
  errors: z.array(z.string()).default([]),
});

export class PagerDutyChannel implements NotificationChannel {
  readonly name: string;
  private readonly config: PagerDutyConfig;

  constructor(
    config: PagerDutyConfigInput,
    private readonly deps: PagerDutyDeps,
  ) {
    this.config = pagerDutyConfigSchema.parse(config);
    this.name = this.config.name;
  }

  async deliver(n: Notification): Promise<DeliveryResult> {
    const base = { channel: this.name, idempotencyKey: n.idempotencyKey };
    const action = PAGERDUTY_ACTION[n.kind];
    if (action === null) return { ...base, outcome: 'delivered', ref: PAGERDUTY_SKIPPED };

    const sentKey = `${this.name}:sent:${n.idempotencyKey}`;
    const already = await this.deps.store.get(sentKey);
    if (already !== undefined) return { ...base, outcome: 'duplicate', ref: already };

    const event = buildPagerDutyEvent(n, this.config, action);
    const res = await postJson({
      channel: this.name,
      dispatcher: this.deps.dispatcher,
      url: `${this.config.baseUrl.replace(/\/+$/, '')}/v2/enqueue`,
      body: event,
      timeouts: this.config.timeouts,
    });

    if (res.status === 202 || res.status === 200) {
      const ok = parseJsonBody(res.body, acceptedSchema);
      if (!ok) throw badResponseFailure(this.name, res.status, 'expected {status:"success", dedup_key}');
      await this.deps.store.set(sentKey, ok.dedup_key);
      return { ...base, outcome: 'delivered', ref: ok.dedup_key };
    }
    if (res.status === 429)
      throw rateLimitedFailure(this.name, 429, parseRetryAfter(res.headers['retry-after']));
    if (res.status >= 500 || res.status === 408) throw unavailableFailure(this.name, res.status);
    if (res.status === 400) {
      const invalid = parseJsonBody(res.body, invalidEventSchema);
      // PagerDuty's error strings name fields, never values, so they are safe to keep.
      throw rejectedFailure(this.name, 400, 'invalid event', {
        errors: invalid?.errors.slice(0, 10) ?? [],
        action,
      });
    }
    // 401/403/404/413: the same event will never be accepted.
    throw rejectedFailure(this.name, res.status);
  }
}
