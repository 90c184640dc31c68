// Dedup grouping as Alertmanager users expect: a procedure's alerts make one incident per kind and service
// during a storm, while host-level (generic) alerts make one incident per alert and instance.
import path from 'node:path';
import { loadRoutingRules, Router, parseRoutingRules } from '../../src/ingress/routing';
import type { Alert } from '../../src/playbook/contract/incident';

const router = new Router(loadRoutingRules(path.resolve(__dirname, '../../config/alert-routes.yaml')));
const alert = (name: string, labels: Record<string, string>): Alert =>
  ({ name, labels, fingerprint: `${name}-${JSON.stringify(labels)}`, status: 'firing' }) as unknown as Alert;
const workflowOf = (a: Alert) => {
  const d = router.route(a);
  if (d.action !== 'incident') throw new Error(`ignored: ${d.reason}`);
  return d.workflowId;
};

test("node-exporter disk alerts from two hosts are two incidents; one host's repeats are one", () => {
  const a = workflowOf(
    alert('DiskSpaceCritical', { job: 'node', instance: 'db-1:9100', severity: 'critical' }),
  );
  const b = workflowOf(
    alert('DiskSpaceCritical', { job: 'node', instance: 'app-2:9100', severity: 'critical' }),
  );
  const again = workflowOf(
    alert('DiskSpaceCritical', { job: 'node', instance: 'db-1:9100', severity: 'critical', mountpoint: '/' }),
  );
  expect(a).not.toBe(b);
  expect(again).toBe(a);
  // Another host-level alert on the same host is its own incident too.
  expect(workflowOf(alert('HighMemoryUsage', { job: 'node', instance: 'db-1:9100' }))).not.toBe(a);
});

test('unknown alerts group per name and instance; procedure alerts still make one incident per service', () => {
  const u1 = workflowOf(alert('SomethingNew', { job: 'node', instance: 'h1', severity: 'warning' }));
  const u2 = workflowOf(alert('SomethingNew', { job: 'node', instance: 'h2', severity: 'warning' }));
  expect(u1).not.toBe(u2);
  const t1 = workflowOf(alert('TradingAPIDown', { service: 'trading-api', instance: 'a' }));
  const t2 = workflowOf(alert('TradingAPIDown', { service: 'trading-api', instance: 'b' }));
  expect(t1).toBe(t2);
});

test('a rule or the defaults can say otherwise', () => {
  const rules = parseRoutingRules(
    [
      'version: 1',
      'defaults: { genericGroupBy: [alertname, job] }',
      'rules:',
      "  - { alert: DiskSpaceCritical, kind: generic, severity: P1, reason: 'per job here' }",
    ].join('\n'),
    'inline',
  );
  const r = new Router(rules);
  const key = (instance: string) => {
    const d = r.route(alert('DiskSpaceCritical', { job: 'node', instance }));
    return d.action === 'incident' ? d.dedupKey : null;
  };
  expect(key('h1')).toBe('generic|alertname=DiskSpaceCritical|job=node');
  expect(key('h2')).toBe(key('h1'));
});

test('1.2 P0 examples without a platform alert still route as P0: kill switch, database unavailable, security breach', () => {
  const route = (name: string) => {
    const d = router.route(alert(name, { severity: 'critical', instance: 'h1' }));
    return d.action === 'incident' ? `${d.kind} ${d.severity}` : 'ignored';
  };
  expect(route('KillSwitchActivated')).toBe('trading-system-down P0');
  expect(route('PostgresqlDown')).toBe('database-connection P0');
  expect(route('DatabaseUnavailable')).toBe('database-connection P0');
  expect(route('SecurityBreachDetected')).toBe('generic P0');
  expect(route('IntrusionAttempt')).toBe('generic P0');
  // The platform's own names keep their rules (an unnamed critical alert stays P1).
  expect(route('DatabaseConnectionPoolExhausted')).toBe('database-connection P2');
  expect(route('SomethingCritical')).toBe('generic P1');
});
