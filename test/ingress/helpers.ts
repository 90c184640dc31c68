// Shared helpers for the ingress tests: recorded-format payloads, a fake incident starter, config.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadIngressConfig, type IngressConfig } from '../../src/ingress/config';
import type { IngressConfigInput } from '../../src/ingress/config';
import { parseRoutingRules, type RoutingRules } from '../../src/ingress/routing';
import {
  TemporalUnavailableError,
  type FireAlertCommand,
  type IncidentStarter,
  type OpenIncidentCommand,
  type StartedRun,
} from '../../src/ingress/starter';
import type { Alert } from '../../src/workflows/definitions';

export const ROOT = path.resolve(__dirname, '..', '..');
export const FIXTURES = path.join(__dirname, 'fixtures');

export function fixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8')) as Record<string, unknown>;
}

export function defaultRules(): RoutingRules {
  const file = path.join(ROOT, 'config', 'alert-routes.yaml');
  return parseRoutingRules(readFileSync(file, 'utf8'), file);
}

export function testConfig(overrides: Partial<IngressConfigInput> = {}): IngressConfig {
  return loadIngressConfig(
    {},
    { port: 0, logLevel: 'silent', routesFile: path.join(ROOT, 'config', 'alert-routes.yaml'), ...overrides },
  );
}

export interface FakeCall {
  op: 'fire' | 'resolve' | 'open';
  workflowId: string;
  alert?: Alert;
  cmd?: FireAlertCommand | OpenIncidentCommand;
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
  async fireAlert(cmd: FireAlertCommand): Promise<StartedRun> {
    this.guard('signalWithStart');
    this.calls.push({ op: 'fire', workflowId: cmd.workflowId, alert: cmd.alert, cmd });
    let runId = this.running.get(cmd.workflowId);
    if (!runId) {
      runId = `run-${++this.n}`;
      this.running.set(cmd.workflowId, runId);
    }
    return { workflowId: cmd.workflowId, runId };
  }
  async resolveAlert(workflowId: string, alert: Alert): Promise<'signaled' | 'no-incident'> {
    this.guard('signal');
    this.calls.push({ op: 'resolve', workflowId, alert });
    return this.running.has(workflowId) ? 'signaled' : 'no-incident';
  }
  async openIncident(cmd: OpenIncidentCommand): Promise<StartedRun> {
    this.guard('start');
    this.calls.push({ op: 'open', workflowId: cmd.workflowId, cmd });
    const runId = (cmd.reuseRunning && this.running.get(cmd.workflowId)) || `run-${++this.n}`;
    this.running.set(cmd.workflowId, runId);
    return { workflowId: cmd.workflowId, runId };
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
      method: 'GET' | 'POST';
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
