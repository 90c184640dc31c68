// Normalized alerts -> routing decisions -> Temporal. Alerts of one incident are delivered in order; different
// incidents in parallel (bounded). The promise resolves only once Temporal accepted every signal, so the
// HTTP layer answers 2xx only then (issue 3 item 4).
import type { FastifyBaseLogger } from 'fastify';
import { incidentInputSchema, type Alert, type IncidentInput } from '../workflows/definitions';
import type { IngressMetrics } from './metrics';
import type { RouteDecision, Router } from './routing';
import type { IncidentStarter } from './starter';

export interface DispatchIncident {
  incidentId: string;
  runId: string | null;
  kind: string;
  severity: string;
  dedupKey: string;
  fired: number;
  resolved: number;
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
  incidents: DispatchIncident[];
}

export interface DispatcherOptions {
  timeScale: number;
  concurrency: number;
  uiBaseUrl: string;
}

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

export async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { err: unknown } | null = null;
  const worker = async () => {
    while (failure === null && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure !== null) throw (failure as { err: unknown }).err;
}

export class AlertDispatcher {
  /** workflow id -> run id last seen: tells a new incident run from a deduplicated alert (this process). */
  private readonly knownRuns = new Map<string, string>();

  constructor(
    private readonly router: Router,
    private readonly starter: IncidentStarter,
    private readonly metrics: IngressMetrics,
    private readonly opts: DispatcherOptions,
    private readonly log: FastifyBaseLogger,
  ) {}

  async dispatch(
    alerts: readonly Alert[],
    meta: { source: string; truncatedAlerts: number },
  ): Promise<DispatchResult> {
    const result: DispatchResult = {
      received: alerts.length,
      firing: 0,
      resolved: 0,
      ignored: [],
      resolvedWithoutIncident: 0,
      truncatedAlerts: meta.truncatedAlerts,
      incidents: [],
    };
    if (meta.truncatedAlerts > 0) {
      this.metrics.alertsTruncated.inc({ source: meta.source }, meta.truncatedAlerts);
      this.log.warn(
        { source: meta.source, truncatedAlerts: meta.truncatedAlerts },
        'sender truncated alerts: raise its max_alerts or our INGRESS_MAX_ALERTS_PER_REQUEST',
      );
    }
    const groups = new Map<
      string,
      { decision: IncidentDecision; alerts: Alert[]; summary: DispatchIncident }
    >();
    for (const alert of alerts) {
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
      let g = groups.get(decision.workflowId);
      if (!g) {
        g = {
          decision,
          alerts: [],
          summary: {
            incidentId: decision.workflowId,
            runId: null,
            kind: decision.kind,
            severity: decision.severity,
            dedupKey: decision.dedupKey,
            fired: 0,
            resolved: 0,
            url: null,
          },
        };
        groups.set(decision.workflowId, g);
        result.incidents.push(g.summary);
      }
      g.alerts.push(alert);
    }

    await mapLimit([...groups.values()], this.opts.concurrency, async (g) => {
      for (const alert of g.alerts) {
        if ((alert.status ?? 'firing') === 'firing') {
          const run = await this.timed('signalWithStart', () =>
            this.starter.fireAlert({
              workflowId: g.decision.workflowId,
              input: this.incidentInput(g.decision, alert),
              kind: g.decision.kind,
              severity: g.decision.severity,
              alert,
              details: this.details(g.decision, alert),
            }),
          );
          this.noteRun(run.workflowId, run.runId, g.decision);
          g.summary.runId = run.runId;
          g.summary.fired += 1;
        } else {
          const outcome = await this.timed('signal', () =>
            this.starter.resolveAlert(g.decision.workflowId, alert),
          );
          if (outcome === 'no-incident') {
            result.resolvedWithoutIncident += 1;
            this.metrics.alertsResolvedOrphan.inc();
          } else g.summary.resolved += 1;
        }
      }
      g.summary.url =
        g.summary.runId || g.summary.resolved > 0
          ? incidentUrl(this.opts.uiBaseUrl, this.starter.namespace, g.decision.workflowId, g.summary.runId)
          : null;
    });
    return result;
  }

  private async timed<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    const started = process.hrtime.bigint();
    try {
      return await fn();
    } catch (err) {
      this.metrics.temporalErrors.inc({ operation });
      throw err;
    } finally {
      this.metrics.signalDuration.observe(Number(process.hrtime.bigint() - started) / 1e9, { operation });
    }
  }

  private noteRun(workflowId: string, runId: string, d: IncidentDecision): void {
    const known = this.knownRuns.get(workflowId);
    if (known === runId) {
      this.metrics.alertsDeduplicated.inc();
      return;
    }
    this.metrics.incidentsStarted.inc({ kind: d.kind, severity: d.severity });
    this.knownRuns.delete(workflowId);
    this.knownRuns.set(workflowId, runId);
    if (this.knownRuns.size > 10_000) {
      const oldest = this.knownRuns.keys().next();
      if (!oldest.done) this.knownRuns.delete(oldest.value);
    }
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
    };
    const checked = incidentInputSchema.safeParse(input);
    if (!checked.success)
      throw new Error(`ingress built an invalid incident input: ${checked.error.message}`);
    return checked.data;
  }

  private details(d: IncidentDecision, alert: Alert): string {
    const labels = Object.entries(alert.labels ?? {})
      .slice(0, 20)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ');
    return [
      `**${d.severity} ${d.kind}** opened by ingress from ${alert.source ?? 'an alert'}.`,
      '',
      `- Rule: \`${d.rule}\`: ${d.reason}`,
      `- Dedup key: \`${d.dedupKey}\``,
      `- First alert: ${alert.name}${alert.summary ? `: ${alert.summary}` : ''}`,
      `- Labels: ${labels || '(none)'}`,
    ].join('\n');
  }
}
