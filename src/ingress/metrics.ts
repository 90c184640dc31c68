// Prometheus text exposition (format 0.0.4) for the handful of series the ingress keeps. Small enough to
// write here rather than add a dependency.

type Labels = Record<string, string>;

function labelKey(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`).join(',');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

class Counter {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }
  total(): number {
    let t = 0;
    for (const v of this.values.values()) t += v;
    return t;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.values.size === 0) lines.push(`${this.name} 0`);
    for (const [k, v] of this.values) lines.push(`${this.name}${k ? `{${k}}` : ''} ${v}`);
    return lines.join('\n');
  }
}

class Gauge {
  private value = 0;
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  set(v: number): void {
    this.value = v;
  }
  render(): string {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} gauge`,
      `${this.name} ${this.value}`,
    ].join('\n');
  }
}

class Histogram {
  private readonly series = new Map<
    string,
    { counts: number[]; sum: number; count: number; labels: Labels }
  >();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}
  observe(value: number, labels: Labels = {}): void {
    const k = labelKey(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0, labels };
      this.series.set(k, s);
    }
    this.buckets.forEach((b, i) => {
      if (value <= b) s.counts[i] = (s.counts[i] ?? 0) + 1;
    });
    s.sum += value;
    s.count += 1;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => {
        lines.push(`${this.name}_bucket{${labelKey({ ...s.labels, le: String(b) })}} ${s.counts[i] ?? 0}`);
      });
      const base = labelKey(s.labels);
      lines.push(`${this.name}_bucket{${labelKey({ ...s.labels, le: '+Inf' })}} ${s.count}`);
      lines.push(`${this.name}_sum${base ? `{${base}}` : ''} ${s.sum}`);
      lines.push(`${this.name}_count${base ? `{${base}}` : ''} ${s.count}`);
    }
    return lines.join('\n');
  }
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class IngressMetrics {
  readonly requests = new Counter(
    'ingress_requests_total',
    'HTTP requests answered, by route and status code.',
  );
  readonly alertsReceived = new Counter(
    'ingress_alerts_received_total',
    'Alerts received in valid, authenticated requests, by source and status.',
  );
  readonly alertsRejected = new Counter(
    'ingress_alerts_rejected_total',
    'Requests refused with 4xx/5xx before any alert was delivered, by route and reason.',
  );
  readonly alertsIgnored = new Counter(
    'ingress_alerts_ignored_total',
    'Alerts a routing rule ignores (e.g. Watchdog), by alert name.',
  );
  readonly alertsDeduplicated = new Counter(
    'ingress_alerts_deduplicated_total',
    'Firing alerts signalled to an incident this process had already seen running (same dedup key).',
  );
  readonly alertsResolvedOrphan = new Counter(
    'ingress_alerts_resolved_without_incident_total',
    'Resolved alerts whose incident is not running (closed or never opened).',
  );
  readonly alertsTruncated = new Counter(
    'ingress_alerts_truncated_total',
    'Alerts the sender left out of a notification (Alertmanager/Grafana truncatedAlerts).',
  );
  readonly alertsFieldsTruncated = new Counter(
    'ingress_alerts_fields_truncated_total',
    'Alerts in which the ingress truncated an oversized value (marked in the alert), by source.',
  );
  readonly alertsOverLimit = new Counter(
    'ingress_alerts_over_limit_total',
    'Alerts of a request past INGRESS_MAX_ALERTS_PER_REQUEST, by source and outcome (folded into an alert of their incident, or dropped).',
  );
  readonly incidentsStarted = new Counter(
    'ingress_incidents_started_total',
    'Incident runs first seen by this process, by kind and severity.',
  );
  readonly temporalErrors = new Counter(
    'ingress_temporal_errors_total',
    'Temporal calls that failed (answered 503), by operation.',
  );
  readonly requestDuration = new Histogram(
    'ingress_request_duration_seconds',
    'Time to answer a request, by route.',
    LATENCY_BUCKETS,
  );
  readonly signalDuration = new Histogram(
    'ingress_temporal_call_duration_seconds',
    'Latency of one Temporal call, by operation.',
    LATENCY_BUCKETS,
  );
  readonly watchdogLastSeen = new Gauge(
    'ingress_watchdog_last_seen_timestamp_seconds',
    'Unix time of the last Watchdog heartbeat received (0 = never).',
  );

  render(): string {
    return (
      [
        this.requests,
        this.alertsReceived,
        this.alertsRejected,
        this.alertsIgnored,
        this.alertsDeduplicated,
        this.alertsResolvedOrphan,
        this.alertsTruncated,
        this.alertsFieldsTruncated,
        this.alertsOverLimit,
        this.incidentsStarted,
        this.temporalErrors,
        this.requestDuration,
        this.signalDuration,
        this.watchdogLastSeen,
      ]
        .map((m) => m.render())
        .join('\n') + '\n'
    );
  }
}
