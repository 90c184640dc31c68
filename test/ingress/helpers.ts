// Shared helpers for the ingress tests: recorded-format payloads, a fake incident starter, config.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadIngressConfig, type IngressConfig } from '../../src/ingress/config';
import type { IngressConfigInput } from '../../src/ingress/config';
import { parseRoutingRules, type RoutingRules } from '../../src/ingress/routing';
import { buildIngress } from '../../src/ingress/server';
import {
  type BeatCommand,
  TemporalUnavailableError,
  type ActionOutcome,
  type ActionTarget,
  type FireAlertsCommand,
  type IncidentStarter,
  type OpenIncidentCommand,
  type StartedRun,
} from '../../src/ingress/starter';
import type { ActionName, Alert, IncidentStatus } from '../../src/playbook/contract/incident';
import type { MonitorStatus } from '../../src/playbook/contract/heartbeat';
import {
  addOverrideSchema,
  cancelOverrideSchema,
  type AddOverrideInput,
  type CancelOverrideInput,
  type OncallResult,
  type RuntimeOverride,
} from '../../src/playbook/contract/oncall';
import {
  addOverride,
  cancelOverride,
  emptyRoster,
  rosterView,
  type RosterCore,
} from '../../src/playbook/oncall';
import fc from 'fast-check';
import { createHash } from 'node:crypto';

export const ROOT = path.resolve(__dirname, '..', '..');
export const FIXTURES = path.join(__dirname, 'fixtures');

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

export function defaultRules(): RoutingRules {
  const file = path.join(ROOT, 'config', 'alert-routes.yaml');
  return parseRoutingRules(readFileSync(file, 'utf8'), file);
}

/** A test ingress; without a token or secret in `overrides` it is INGRESS_INSECURE (no auth). */
export function testConfig(overrides: Partial<IngressConfigInput> = {}): IngressConfig {
  const auth = overrides.bearerTokens !== undefined || overrides.hmacSecrets !== undefined;
  return loadIngressConfig(
    {},
    {
      port: 0,
      logLevel: 'silent',
      routesFile: path.join(ROOT, 'config', 'alert-routes.yaml'),
      ...(auth ? {} : { insecure: true }),
      ...overrides,
    },
  );
}

export interface FakeCall {
  op: 'fire' | 'resolve' | 'open';
  workflowId: string;
  alert?: Alert;
  cmd?: FireAlertsCommand | OpenIncidentCommand;
}

/** Records every call; `down` makes every call fail like an unreachable Temporal. */
export class FakeStarter implements IncidentStarter {
  readonly namespace = 'default';
  readonly calls: FakeCall[] = [];
  readonly running = new Map<string, string>();
  down = false;
  private n = 0;

  private guard(op: string) {
    if (this.down) throw new TemporalUnavailableError(op, new Error('14 UNAVAILABLE: connection refused'));
  }
  /** Temporal calls made (one per incident per request), beside `calls` (one entry per alert). */
  temporalCalls = 0;
  async fireAlerts(cmd: FireAlertsCommand): Promise<StartedRun> {
    this.guard('signalWithStart');
    this.temporalCalls += 1;
    for (const a of cmd.alerts)
      this.calls.push({
        op: (a.alert.status ?? 'firing') === 'firing' ? 'fire' : 'resolve',
        workflowId: cmd.workflowId,
        alert: a.alert,
        cmd,
      });
    let runId = this.running.get(cmd.workflowId);
    if (!runId) {
      runId = `run-${++this.n}`;
      this.running.set(cmd.workflowId, runId);
    }
    return { workflowId: cmd.workflowId, runId };
  }
  async resolveAlerts(workflowId: string, alerts: Alert[]): Promise<'signaled' | 'no-incident'> {
    this.guard('signal');
    this.temporalCalls += 1;
    for (const alert of alerts) this.calls.push({ op: 'resolve', workflowId, alert });
    return this.running.has(workflowId) ? 'signaled' : 'no-incident';
  }
  async openIncident(cmd: OpenIncidentCommand): Promise<StartedRun> {
    this.guard('start');
    this.calls.push({ op: 'open', workflowId: cmd.workflowId, cmd });
    const runId = (cmd.reuseRunning && this.running.get(cmd.workflowId)) || `run-${++this.n}`;
    this.running.set(cmd.workflowId, runId);
    return { workflowId: cmd.workflowId, runId };
  }
  /**
   * Actions run as Updates (Slack, PagerDuty), in order; `actionOutcome` decides the answer. An action that
   * names an incident other than the one in `statuses` for its workflow id is refused as the real starter
   * refuses it, and not recorded.
   */
  readonly actions: { workflowId: string; incidentId?: string; name: ActionName; payload: unknown }[] = [];
  actionOutcome: (workflowId: string, name: ActionName) => ActionOutcome = (_w, name) => ({
    outcome: 'accepted',
    result: { accepted: true, action: name, status: 'acknowledged', severity: 'P0', message: name },
  });
  async runAction(
    workflowId: string,
    name: ActionName,
    payload: unknown,
    target: ActionTarget = {},
  ): Promise<ActionOutcome> {
    this.guard(`update:${name}`);
    const running = this.statuses.get(workflowId)?.incidentId;
    if (target.incidentId && running && running !== target.incidentId)
      return { outcome: 'other-incident', runningIncidentId: running };
    this.actions.push({
      workflowId,
      ...(target.incidentId ? { incidentId: target.incidentId } : {}),
      name,
      payload,
    });
    return this.actionOutcome(workflowId, name);
  }
  /** Beats, in order (signalWithStart of `beat` to `heartbeat-<name>`). */
  readonly beats: BeatCommand[] = [];
  async beat(cmd: BeatCommand): Promise<StartedRun> {
    this.guard('signalWithStart');
    this.temporalCalls += 1;
    this.beats.push(cmd);
    return { workflowId: `heartbeat-${cmd.monitor.spec.name}`, runId: 'run-monitor' };
  }
  /** What listMonitors answers. */
  monitors: MonitorStatus[] = [];
  async listMonitors(limit: number): Promise<MonitorStatus[]> {
    this.guard('list:monitors');
    return this.monitors.slice(0, limit);
  }
  /** What queryStatus answers (status of a running incident, or null). */
  statuses = new Map<string, IncidentStatus>();
  async queryStatus(workflowId: string): Promise<IncidentStatus | null> {
    this.guard('query:status');
    return this.statuses.get(workflowId) ?? null;
  }
  /**
   * The on-call roster, by the roster workflow's own rules (validator and handlers) at `oncallNow()`: absent
   * until the first Update starts it, as the real starter does. Every Update asked for is in `oncallCalls`.
   */
  roster: RosterCore | null = null;
  oncallNow: () => number = Date.now;
  readonly oncallCalls: (
    | { update: 'addOverride'; input: AddOverrideInput }
    | { update: 'cancelOverride'; input: CancelOverrideInput }
  )[] = [];
  async oncallOverrides(): Promise<RuntimeOverride[] | null> {
    this.guard('query:oncall');
    return this.roster ? rosterView(this.roster, this.oncallNow()).overrides : null;
  }
  async addOverride(input: AddOverrideInput): Promise<OncallResult> {
    this.guard('update:addOverride');
    this.oncallCalls.push({ update: 'addOverride', input });
    this.roster ??= emptyRoster();
    const parsed = addOverrideSchema.safeParse(input);
    if (!parsed.success) return { accepted: false, message: parsed.error.message };
    return addOverride(this.roster, parsed.data, this.oncallNow());
  }
  async cancelOverride(input: CancelOverrideInput): Promise<OncallResult> {
    this.guard('update:cancelOverride');
    this.oncallCalls.push({ update: 'cancelOverride', input });
    this.roster ??= emptyRoster();
    const parsed = cancelOverrideSchema.safeParse(input);
    if (!parsed.success) return { accepted: false, message: parsed.error.message };
    return cancelOverride(this.roster, parsed.data, this.oncallNow());
  }
  async health() {
    return this.down ? { reachable: false, error: 'connection refused' } : { reachable: true };
  }
  async close() {}
}

/** An Alertmanager v4 notification as Alertmanager 0.27+ sends it. */
export function alertmanagerPayload(
  alerts: {
    alertname: string;
    status?: 'firing' | 'resolved';
    labels?: Record<string, string>;
    fingerprint?: string;
  }[],
  extra: Record<string, unknown> = {},
) {
  const status = alerts.some((a) => (a.status ?? 'firing') === 'firing') ? 'firing' : 'resolved';
  return {
    receiver: 'incident-ingress',
    status,
    alerts: alerts.map((a, i) => ({
      status: a.status ?? 'firing',
      labels: { alertname: a.alertname, severity: 'critical', ...a.labels },
      annotations: { summary: `${a.alertname} summary`, description: 'details' },
      startsAt: '2026-01-17T10:00:00.123456789Z',
      endsAt: (a.status ?? 'firing') === 'firing' ? '0001-01-01T00:00:00Z' : '2026-01-17T10:05:00Z',
      generatorURL: 'http://prometheus:9090/graph?g0.expr=up%3D%3D0',
      fingerprint: a.fingerprint ?? `fp${i.toString(16).padStart(14, '0')}`,
    })),
    groupLabels: { alertname: alerts[0]?.alertname ?? 'x' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: '{}:{alertname="x"}',
    truncatedAlerts: 0,
    ...extra,
  };
}

import { request as undiciRequest } from 'undici';
import type { AddressInfo } from 'node:net';

export interface HttpResult {
  statusCode: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any -- test-only convenience
}

interface Listenable {
  listen(opts: { host: string; port: number }): Promise<string>;
  close(): Promise<unknown>;
  server: { address(): AddressInfo | string | null; listening: boolean };
}

const openApps = new Set<Listenable>();

/** Real HTTP on loopback (light-my-request's ESM dependency does not load under jest's CommonJS runtime). */
export function httpClient(app: Listenable) {
  let base: Promise<string> | null = null;
  const url = () => {
    base ??= (app.server.listening ? Promise.resolve('') : app.listen({ host: '127.0.0.1', port: 0 })).then(
      () => {
        openApps.add(app);
        return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
      },
    );
    return base;
  };
  return {
    url,
    async inject(opts: {
      method: 'GET' | 'POST' | 'DELETE';
      url: string;
      headers?: Record<string, string>;
      payload?: unknown;
    }): Promise<HttpResult> {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      let body: string | Buffer | undefined;
      if (opts.payload !== undefined) {
        if (typeof opts.payload === 'string' || Buffer.isBuffer(opts.payload)) body = opts.payload;
        else {
          body = JSON.stringify(opts.payload);
          headers['content-type'] ??= 'application/json';
        }
      }
      const res = await undiciRequest(`${await url()}${opts.url}`, { method: opts.method, headers, body });
      const text = await res.body.text();
      return { statusCode: res.statusCode, headers: res.headers, body: text, json: () => JSON.parse(text) };
    },
  };
}

export async function closeAllApps(): Promise<void> {
  for (const app of openApps) await app.close();
  openApps.clear();
}

/** Characters that break the ledger and friends, mixed with ordinary and astral ones. */
// Text the ingress must sanitize (issue 12 item 7).
export const nastyChar = fc.oneof(
  fc.constantFrom('\u0000', '\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\u0001', '\n', '"', '\\', 'é', '😀'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
);
export const nastyString = (maxLength = 40) => fc.string({ unit: nastyChar, maxLength });

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Well-formed UTF-16 without NUL: what the ledger (text and jsonb) accepts. */
export function isClean(s: string): boolean {
  // The UTF-8 round trip (what PostgreSQL and every HTTP API see) is lossless only for well-formed text.
  return !s.includes('\u0000') && !LONE_SURROGATE.test(s) && Buffer.from(s, 'utf8').toString('utf8') === s;
}

export function expectClean(s: string): void {
  if (!isClean(s)) expect(JSON.stringify(s)).toBe('clean text (no NUL, no lone surrogate)');
}

/** Every string (keys too) anywhere in a value is clean; the failure lists the offending strings. */
export function expectAllClean(value: unknown): void {
  const bad: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'string') {
      if (!isClean(v)) bad.push(JSON.stringify(v.slice(0, 200)));
    } else if (Array.isArray(v)) stack.push(...v);
    else if (v !== null && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) {
        if (!isClean(k)) bad.push(`key ${JSON.stringify(k.slice(0, 200))}`);
        stack.push(x);
      }
  }
  expect(bad).toEqual([]);
}

/**
 * A big Alertmanager group as a Kubernetes-scale Prometheus sends it: `count` alerts of about 1.5 KB each
 * (a dozen labels, summary, description, runbook, a long generatorURL), spread over `services` dedup keys.
 */
export function bigAlertmanagerGroup(
  count: number,
  opts: { alertname?: string; services?: number; tag?: string } = {},
) {
  const alertname = opts.alertname ?? 'HighRestartRate';
  const services = opts.services ?? 1;
  const tag = opts.tag ?? 'big';
  const alerts = Array.from({ length: count }, (_, i) => {
    const service = `${tag}-svc-${i % services}`;
    const pod = `${service}-7d9f8c6b5-${i.toString(36).padStart(5, '0')}`;
    return {
      status: 'firing',
      labels: {
        alertname,
        severity: 'warning',
        service,
        job: 'kube-state-metrics',
        namespace: 'trading-prod',
        pod,
        container: 'app',
        // One instance per service: generic alerts group per instance too, and these spread over `services` keys.
        instance: `10.42.${i % services}.7:8080`,
        node: `ip-10-0-${i % 16}-${i % 200}.ec2.internal`,
        cluster: 'usdcop-prod-eu-west-1',
        team: 'platform',
        prometheus: 'monitoring/k8s',
        endpoint: 'http-metrics',
      },
      annotations: {
        summary: `${pod} restarted ${3 + (i % 5)} times in 15 minutes`,
        description: `Container app of pod trading-prod/${pod} on node ip-10-0-${i % 16} has restarted ${3 + (i % 5)} times in the last 15 minutes (CrashLoopBackOff). Last termination reason: OOMKilled, exit code 137. Check memory limits and recent deploys.`,
        runbook_url: 'https://runbooks.example/kubernetes/KubePodCrashLooping',
      },
      startsAt: '2026-01-17T10:00:00.123456789Z',
      endsAt: '0001-01-01T00:00:00Z',
      generatorURL: `http://prometheus-k8s-0:9090/graph?g0.expr=increase%28kube_pod_container_status_restarts_total%7Bnamespace%3D%22trading-prod%22%2Cpod%3D%22${pod}%22%2Ccontainer%3D%22app%22%7D%5B15m%5D%29+%3E+3&g0.tab=1&g0.range_input=1h`,
      fingerprint: createHash('sha256').update(`${tag}/${i}`).digest('hex').slice(0, 16),
    };
  });
  return {
    receiver: 'incident-ingress',
    status: 'firing',
    alerts,
    groupLabels: { alertname },
    commonLabels: { alertname, severity: 'warning', namespace: 'trading-prod' },
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: `{}:{alertname="${alertname}"}`,
    truncatedAlerts: 0,
  };
}

/** An ingress on the default rules with a FakeStarter behind it, served over real HTTP on loopback. */
export function fakeIngress(overrides: Partial<IngressConfigInput> = {}, now?: () => number) {
  const starter = new FakeStarter();
  const app = httpClient(
    buildIngress(testConfig(overrides), { starter, rules: defaultRules(), ...(now ? { now } : {}) }),
  );
  return { starter, app };
}
