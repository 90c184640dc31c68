// The ingress's Prometheus series (prom-client), one registry per ingress so several in one process (tests)
// keep their own counts. What the ingress cannot know exactly is not counted here: whether a signalWithStart
// opened a new incident or joined a running one is known for sure only inside the incident, so incidents
// opened and alerts deduplicated are counted by the workflow (the worker's /metrics, see src/temporal/telemetry.ts),
// once per incident across every ingress replica and restart.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class IngressMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'ingress_requests_total',
    help: 'HTTP requests answered, by route and status code.',
    labelNames: ['route', 'code'] as const,
    registers: [this.registry],
  });
  readonly alertsReceived = new Counter({
    name: 'ingress_alerts_received_total',
    help: 'Alerts received in valid, authenticated requests, by source and status.',
    labelNames: ['source', 'status'] as const,
    registers: [this.registry],
  });
  readonly alertsDelivered = new Counter({
    name: 'ingress_alerts_delivered_total',
    help: 'Alerts Temporal accepted (signalled to their incident, which the call opened if none was running), by source.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly alertsRejected = new Counter({
    name: 'ingress_alerts_rejected_total',
    help: 'Alert webhook requests refused with 4xx/5xx before any alert was delivered, by route and reason.',
    labelNames: ['route', 'reason'] as const,
    registers: [this.registry],
  });
  readonly alertsIgnored = new Counter({
    name: 'ingress_alerts_ignored_total',
    help: 'Alerts a routing rule ignores (e.g. Watchdog), by alert name.',
    labelNames: ['alertname'] as const,
    registers: [this.registry],
  });
  readonly alertsResolvedOrphan = new Counter({
    name: 'ingress_alerts_resolved_without_incident_total',
    help: 'Resolved alerts whose incident is not running (closed or never opened).',
    registers: [this.registry],
  });
  readonly alertsTruncated = new Counter({
    name: 'ingress_alerts_truncated_total',
    help: 'Alerts the sender left out of a notification (Alertmanager/Grafana truncatedAlerts).',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly alertsFieldsTruncated = new Counter({
    name: 'ingress_alerts_fields_truncated_total',
    help: 'Alerts in which the ingress truncated an oversized value (marked in the alert), by source.',
    labelNames: ['source'] as const,
    registers: [this.registry],
  });
  readonly alertsOverLimit = new Counter({
    name: 'ingress_alerts_over_limit_total',
    help: 'Alerts of a request past INGRESS_MAX_ALERTS_PER_REQUEST, by source and outcome (folded into an alert of their incident, or dropped).',
    labelNames: ['source', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly incidentsOpenedByHand = new Counter({
    name: 'ingress_manual_incidents_total',
    help: 'POST /v1/incidents answered 201 (a new incident, or the running one of its idempotency key), by kind and severity.',
    labelNames: ['kind', 'severity'] as const,
    registers: [this.registry],
  });
  readonly temporalErrors = new Counter({
    name: 'ingress_temporal_errors_total',
    help: 'Temporal calls that failed (the request was answered 503), by operation.',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  readonly temporalDuration = new Histogram({
    name: 'ingress_temporal_call_duration_seconds',
    help: 'Latency of one Temporal call, failures included, by operation.',
    labelNames: ['operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly temporalReachable = new Gauge({
    name: 'ingress_temporal_reachable',
    help: '1 if the last Temporal call or health probe succeeded, 0 if it failed (Temporal away or not ready).',
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'ingress_request_duration_seconds',
    help: 'Time to answer a request, by route.',
    labelNames: ['route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly pagerDutyEvents = new Counter({
    name: 'ingress_pagerduty_events_total',
    help: 'Verified PagerDuty webhook events, by event type and what was done (action, ignored, refused).',
    labelNames: ['type', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly slackInteractions = new Counter({
    name: 'ingress_slack_interactions_total',
    help: 'Verified Slack interactions (buttons, dialogs), by what they became.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly slackCommands = new Counter({
    name: 'ingress_slack_commands_total',
    help: 'Verified /incident slash commands, by what they became.',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly rateLimited = new Counter({
    name: 'ingress_rate_limited_total',
    help: 'Requests refused by the per-client rate limit (503 on the alert webhooks, 429 elsewhere), by route.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly bodyBytesParsed = new Counter({
    name: 'ingress_body_bytes_parsed_total',
    help: 'Bytes of request bodies parsed (JSON or form), by route: only bodies whose signature verified (or whose bearer token was checked before the body was read) are parsed.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly channelActions = new Counter({
    name: 'ingress_channel_actions_total',
    help: 'Actions from Slack and PagerDuty run against an incident, by channel, action and outcome (accepted, rejected, no-incident, other-incident: the message or event named an incident that is no longer the one running under its workflow id, so nothing ran).',
    labelNames: ['channel', 'action', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly slackResponseUrlRefused = new Counter({
    name: 'ingress_slack_response_url_refused_total',
    help: 'Replies not sent because the response_url pointed outside SLACK_RESPONSE_URL_HOSTS.',
    registers: [this.registry],
  });
  readonly sharedStateFallbacks = new Counter({
    name: 'ingress_shared_state_fallbacks_total',
    help: "Operations on the replicas' shared state (INGRESS_REDIS_URL) that fell back to this process's memory because Redis was unreachable, by what.",
    labelNames: ['what'] as const,
    registers: [this.registry],
  });
  readonly heartbeats = new Counter({
    name: 'ingress_heartbeats_total',
    help: 'Heartbeats received (POST /v1/heartbeats/{name} and Alertmanager Watchdogs), by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly watchdogLastSeen = new Gauge({
    name: 'ingress_watchdog_last_seen_timestamp_seconds',
    help: 'Unix time of the last Watchdog heartbeat received (0 = never).',
    registers: [this.registry],
  });

  constructor({ processMetrics = false }: { processMetrics?: boolean } = {}) {
    // Counters without labels start at 0 so a rate() has a series before the first event.
    this.alertsResolvedOrphan.inc(0);
    this.slackResponseUrlRefused.inc(0);
    this.watchdogLastSeen.set(0);
    // Process CPU, memory, event-loop lag: for the ingress process itself (npm run ingress / npm start).
    if (processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'ingress_' });
  }

  /** The exposition text (Prometheus format 0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
