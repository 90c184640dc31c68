// Normalized alerts -> routing decisions -> Temporal. Alerts of one incident are delivered in order; different
// incidents in parallel (bounded). The promise resolves only once Temporal accepted every signal, so the
// HTTP layer answers 2xx only then. More alerts than the per-request limit are never a
// refusal: every incident of the notification gets its alerts up to the limit, and the rest
// are folded into the last one signalled to the same incident, which says how many.
import type { FastifyBaseLogger } from 'fastify';
import pLimit from 'p-limit';
import { incidentInputSchema, type Alert, type IncidentInput } from '../playbook/contract/incident';
import type { IngressMetrics } from './metrics';
import { alertToSignal, FOLDED_ANNOTATION, type NormalizedAlert } from './normalize';
import { ellipsize } from './text';
import type { RouteDecision, Router } from './routing';
import type { IncidentStarter } from './starter';
import { severityRank } from '../playbook/severity';
import type { PolicyOverrides } from '../playbook/policy';
import { WATCHDOG_MONITOR } from '../playbook/contract/heartbeat';
import type { BeatAnswer, HeartbeatIntake } from './heartbeats';

export interface DispatchIncident {
  /** The workflow id (what to type in the Web UI, `temporal` and `tctl`). */
  workflowId: string;
  runId: string | null;
  kind: string;
  severity: string;
  dedupKey: string;
  fired: number;
  resolved: number;
  /** Alerts of this incident in the request that were not signalled (over the limit), noted on the last one. */
  folded: number;
  url: string | null;
}

export interface DispatchResult {
  received: number;
  firing: number;
  resolved: number;
  ignored: { name: string; reason: string }[];
  /** Resolved alerts whose incident is not running (closed, or never opened): nothing to do. */
  resolvedWithoutIncident: number;
  truncatedAlerts: number;
  /** Alerts in which the ingress truncated a value (each one says so), and the first few such values. */
  truncated: { alerts: number; examples: string[] };
  /** Over the per-request limit: alerts folded into another of their incident / dropped (their incident had none). */
  folded: number;
  dropped: number;
  /** What was ignored (unparseable times, unknown generic fields), first few. */
  notes: string[];
  incidents: DispatchIncident[];
  /** Monitors this notification beat (Alertmanager's Watchdog beats `watchdog`). */
  heartbeats: BeatAnswer[];
}

export interface DispatcherOptions {
  timeScale: number;
  concurrency: number;
  uiBaseUrl: string;
  /** Alerts signalled per request: INGRESS_MAX_ALERTS_PER_REQUEST. */
  maxAlertsPerRequest: number;
  /**
   * The deployment's policy (the same INCIDENT_CONFIG as the worker): sent in the start input so the
   * incident pages in its first workflow task. Absent: the worker loads its own beside the first page.
   */
  policy?: PolicyOverrides;
  /** Where a firing `Watchdog` beats the `watchdog` monitor. Absent: the Watchdog only sets the gauge. */
  heartbeats?: HeartbeatIntake;
}

/**
 * Which alerts of one request are signalled when there are more than `limit` (`groups[i]`: alert i's
 * incident). First every incident's first alert, in order, then the rest in order while the limit lasts;
 * an alert left out is folded into the last signalled alert of its incident, or dropped when its incident got
 * none (only when one request touches more incidents than the limit). Order within an incident is kept.
 */
export function selectWithinLimit(
  groups: readonly string[],
  limit: number,
): { keep: boolean[]; foldedInto: Map<number, number>; folded: number; dropped: number } {
  const keep = groups.map(() => groups.length <= limit);
  const foldedInto = new Map<number, number>();
  if (groups.length <= limit) return { keep, foldedInto, folded: 0, dropped: 0 };
  let budget = limit;
  const opened = new Set<string>();
  groups.forEach((g, i) => {
    if (opened.has(g)) return;
    opened.add(g);
    if (budget > 0) {
      keep[i] = true;
      budget -= 1;
    }
  });
  for (let i = 0; i < groups.length && budget > 0; i++) {
    if (!keep[i]) {
      keep[i] = true;
      budget -= 1;
    }
  }
  const lastKept = new Map<string, number>();
  groups.forEach((g, i) => {
    if (keep[i]) lastKept.set(g, i);
  });
  let folded = 0;
  let dropped = 0;
  groups.forEach((g, i) => {
    if (keep[i]) return;
    const into = lastKept.get(g);
    if (into === undefined) dropped += 1;
    else {
      folded += 1;
      foldedInto.set(into, (foldedInto.get(into) ?? 0) + 1);
    }
  });
  return { keep, foldedInto, folded, dropped };
}

const EXAMPLES = 10;

type IncidentDecision = Extract<RouteDecision, { action: 'incident' }>;

export function incidentUrl(
  uiBaseUrl: string,
  namespace: string,
  workflowId: string,
  runId: string | null,
): string {
  const base = `${uiBaseUrl}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${encodeURIComponent(runId)}/history` : base;
}

/**
 * fn over items, at most `limit` at a time (p-limit); after the first failure nothing new starts, and it is
 * thrown once the calls in flight have settled.
 */
export async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  const gate = pLimit(limit);
  let failure: { err: unknown } | null = null;
  await Promise.all(
    items.map((item) =>
      gate(async () => {
        if (failure) return;
        try {
          await fn(item);
        } catch (err) {
          failure ??= { err };
        }
      }),
    ),
  );
  if (failure) throw (failure as { err: unknown }).err;
}

export class AlertDispatcher {
  constructor(
    private readonly router: Router,
    private readonly starter: IncidentStarter,
    private readonly metrics: IngressMetrics,
    private readonly opts: DispatcherOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  async dispatch(
    alerts: readonly NormalizedAlert[],
    meta: { source: string; truncatedAlerts: number },
  ): Promise<DispatchResult> {
    const result: DispatchResult = {
      received: alerts.length,
      firing: 0,
      resolved: 0,
      ignored: [],
      resolvedWithoutIncident: 0,
      truncatedAlerts: meta.truncatedAlerts,
      truncated: { alerts: 0, examples: [] },
      folded: 0,
      dropped: 0,
      notes: [],
      incidents: [],
      heartbeats: [],
    };
    if (meta.truncatedAlerts > 0) {
      this.metrics.alertsTruncated.inc({ source: meta.source }, meta.truncatedAlerts);
      this.log.warn(
        { source: meta.source, truncatedAlerts: meta.truncatedAlerts },
        'sender truncated alerts: raise its max_alerts or our INGRESS_MAX_ALERTS_PER_REQUEST',
      );
    }
    alerts.forEach((n, i) => {
      if (n.truncated.length > 0) {
        result.truncated.alerts += 1;
        for (const t of n.truncated)
          if (result.truncated.examples.length < EXAMPLES)
            result.truncated.examples.push(`alerts[${i}].${t.field}: ${t.detail}`);
      }
      for (const note of n.ignored)
        if (result.notes.length < EXAMPLES) result.notes.push(`alerts[${i}].${note}`);
    });
    if (result.truncated.alerts > 0) {
      this.metrics.alertsFieldsTruncated.inc({ source: meta.source }, result.truncated.alerts);
      this.log.warn(
        {
          source: meta.source,
          alerts: result.truncated.alerts,
          examples: result.truncated.examples.slice(0, 3),
        },
        'alert values over the ingress limits were truncated (marked in the alert)',
      );
    }

    // Alertmanager's always-firing Watchdog beats the `watchdog` monitor (one beat per notification), whatever
    // the routing rules make of it: if it stops arriving, that monitor opens "Heartbeat missing: watchdog".
    const watchdog = alerts.find(
      (n) => n.alert.name === 'Watchdog' && (n.alert.status ?? 'firing') === 'firing',
    );
    const beating =
      watchdog && this.opts.heartbeats
        ? this.opts.heartbeats.beat(WATCHDOG_MONITOR, meta.source).then((b) => void result.heartbeats.push(b))
        : null;

    // Route everything (pure, cheap); ignored alerts cost no Temporal call and do not count to the limit.
    const routed: { n: NormalizedAlert; decision: IncidentDecision }[] = [];
    for (const n of alerts) {
      const alert = n.alert;
      const status = alert.status ?? 'firing';
      this.metrics.alertsReceived.inc({ source: meta.source, status });
      const decision = this.router.route(alert);
      if (decision.action === 'ignore') {
        result.ignored.push({ name: alert.name, reason: decision.reason });
        this.metrics.alertsIgnored.inc({
          alertname: decision.rule === 'unknown-alert' ? 'unknown' : alert.name,
        });
        if (alert.name === 'Watchdog') this.metrics.watchdogLastSeen.set(Math.floor(Date.now() / 1000));
        continue;
      }
      if (status === 'firing') result.firing += 1;
      else result.resolved += 1;
      routed.push({ n, decision });
    }

    const limit = this.opts.maxAlertsPerRequest;
    const chosen = selectWithinLimit(
      routed.map((r) => r.decision.workflowId),
      limit,
    );
    result.folded = chosen.folded;
    result.dropped = chosen.dropped;
    if (chosen.folded > 0)
      this.metrics.alertsOverLimit.inc({ source: meta.source, outcome: 'folded' }, chosen.folded);
    if (chosen.dropped > 0) {
      this.metrics.alertsOverLimit.inc({ source: meta.source, outcome: 'dropped' }, chosen.dropped);
      this.log.error(
        { source: meta.source, dropped: chosen.dropped, limit },
        'one notification touches more incidents than INGRESS_MAX_ALERTS_PER_REQUEST: alerts of the incidents past it were dropped',
      );
    } else if (chosen.folded > 0)
      this.log.warn(
        { source: meta.source, folded: chosen.folded, limit },
        'more alerts than INGRESS_MAX_ALERTS_PER_REQUEST: the rest were folded into their incidents',
      );

    // One Temporal call per incident per request, carrying its alerts in order.
    const groups = new Map<
      string,
      {
        alerts: { n: NormalizedAlert; alert: Alert; decision: IncidentDecision }[];
        summary: DispatchIncident;
      }
    >();
    routed.forEach(({ n, decision }, i) => {
      let g = groups.get(decision.workflowId);
      if (!g) {
        g = {
          alerts: [],
          summary: {
            workflowId: decision.workflowId,
            runId: null,
            kind: decision.kind,
            severity: decision.severity,
            dedupKey: decision.dedupKey,
            fired: 0,
            resolved: 0,
            folded: 0,
            url: null,
          },
        };
        groups.set(decision.workflowId, g);
      }
      if (!chosen.keep[i]) return;
      const folded = chosen.foldedInto.get(i) ?? 0;
      g.summary.folded += folded;
      g.alerts.push({ n, alert: alertToSignal(n, folded, limit), decision });
    });
    for (const g of groups.values()) if (g.alerts.length > 0) result.incidents.push(g.summary);

    await mapLimit(
      [...groups.values()].filter((g) => g.alerts.length > 0),
      this.opts.concurrency,
      async (g) => {
        const isFiring = (a: Alert) => (a.status ?? 'firing') === 'firing';
        const firing = g.alerts.filter((a) => isFiring(a.alert));
        const workflowId = g.summary.workflowId;
        if (firing.length > 0) {
          // The incident opens from (and is named after) its most severe alert of the batch.
          const top = firing.reduce((a, b) =>
            severityRank(b.decision.severity) < severityRank(a.decision.severity) ? b : a,
          );
          const run = await this.starter.fireAlerts({
            workflowId,
            input: this.incidentInput(top.decision, top.alert),
            kind: top.decision.kind,
            severity: top.decision.severity,
            alerts: g.alerts.map((a) => ({
              alert: a.alert,
              severity: a.decision.severity,
              title: a.decision.title,
            })),
            details: this.details(top.decision, top.alert, top.n),
          });
          this.metrics.alertsDelivered.inc({ source: meta.source }, g.alerts.length);
          g.summary.runId = run.runId;
          g.summary.severity = top.decision.severity;
          g.summary.fired += firing.length;
          g.summary.resolved += g.alerts.length - firing.length;
        } else {
          const outcome = await this.starter.resolveAlerts(
            workflowId,
            g.alerts.map((a) => a.alert),
          );
          if (outcome === 'no-incident') {
            result.resolvedWithoutIncident += g.alerts.length;
            this.metrics.alertsResolvedOrphan.inc(g.alerts.length);
          } else {
            g.summary.resolved += g.alerts.length;
            this.metrics.alertsDelivered.inc({ source: meta.source }, g.alerts.length);
          }
        }
        g.summary.url =
          g.summary.runId || g.summary.resolved > 0
            ? incidentUrl(this.opts.uiBaseUrl, this.starter.namespace, workflowId, g.summary.runId)
            : null;
      },
    ).finally(() => beating?.catch(() => undefined));
    // The beat must be taken before 2xx, like every alert (a failure answers 503 and Alertmanager retries).
    if (beating) await beating;
    return result;
  }

  /** The start input; used only when this alert opens the incident (a running one ignores it). */
  private incidentInput(d: IncidentDecision, alert: Alert): IncidentInput {
    const input: IncidentInput = {
      title: d.title,
      severity: d.severity,
      kind: d.kind,
      summary: alert.summary,
      detectedAt: alert.startsAt,
      // No `alerts` here: the workflow counts alerts from the alertFired signals, the first one included.
      source: { system: alert.source ?? 'unknown', dedupKey: d.dedupKey },
      timeScale: this.opts.timeScale,
      ...(this.opts.policy ? { policy: this.opts.policy, policyComplete: true } : {}),
    };
    const checked = incidentInputSchema.safeParse(input);
    if (!checked.success)
      throw new Error(`ingress built an invalid incident input: ${checked.error.message}`);
    return checked.data;
  }

  private details(d: IncidentDecision, alert: Alert, n: NormalizedAlert): string {
    const labels = Object.entries(alert.labels ?? {})
      .slice(0, 20)
      .map(([k, v]) => `${ellipsize(k, 100)}=${ellipsize(v, 200)}`)
      .join(', ');
    const changed = [
      ...n.truncated.slice(0, 10).map((t) => `${t.field}: ${t.detail}`),
      ...(n.truncated.length > 10 ? [`+${n.truncated.length - 10} more`] : []),
    ];
    const folded = alert.annotations?.[FOLDED_ANNOTATION];
    return [
      `**${d.severity} ${d.kind}** opened by ingress from ${alert.source ?? 'an alert'}.`,
      '',
      `- Rule: \`${d.rule}\`: ${d.reason}`,
      `- Dedup key: \`${d.dedupKey}\``,
      `- First alert: ${alert.name}${alert.summary ? `: ${ellipsize(alert.summary, 1000)}` : ''}`,
      `- Labels: ${labels || '(none)'}`,
      ...(changed.length > 0 ? [`- Truncated by ingress: ${changed.join('; ')}`] : []),
      ...(folded ? [`- Folded by ingress: ${folded}`] : []),
    ].join('\n');
  }
}
