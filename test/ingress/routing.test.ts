// Routing rules: the shipped YAML covers every platform alert (trading-platform.md) per the playbook's 1.2
// examples; unknown alerts are classified by their severity label; dedup keys and workflow ids.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  dedupKeyFor,
  parseRoutingRules,
  Router,
  RoutingRulesError,
  workflowIdFor,
} from '../../src/ingress/routing';
import type { Alert } from '../../src/playbook/contract/incident';
import { defaultRules, ROOT } from './helpers';

// "Alerts it fires" in ../shared/trading-platform.md.
const PLATFORM_ALERTS = {
  critical:
    'ServiceDown, TradingAPIDown, InferenceAPIDown, ConsecutiveLossesExceeded, DailyLossLimitBreached, MarketDataVeryStaleCritical, NoModelsLoaded, ChampionModelNotLoaded, ModelPredictionLatencyCritical, ModelStuckBehavior, ModelReloadFailed, ShadowModelVeryHighDivergence, MultipleFeaturesDrifted, HighFeatureDrift, OverallDriftScoreHigh, InferenceLatencyP99Critical, InferenceLatencyP50Critical, InferenceErrorRateHigh, FeatureCircuitBreakerActivated, ModelNotLoaded, DiskSpaceCritical, AirflowSchedulerUnhealthy',
  warning:
    'DatabaseConnectionPoolExhausted, RedisConnectionsFailing, HighRestartRate, HighMemoryUsage, HighCPUUsage, DiskSpaceLow, PostgresHighConnections, RedisMemoryHigh, NoTradingSignals, TradingSignalAnomalyHigh, LowConfidenceSignals, DailyLossLimitApproaching, ConsecutiveLossesHigh, MarketDataStale, DataFreshnessStale, OHLCVDataGap, MacroDataMissing, HighNullRatioInFeatures, FeatureValueOutOfRange, FeatureNaNRatioHigh, FeatureCalculationFailures, FeatureCalculationSlow, ModelInferenceErrors, ModelDriftDetected, ModelAccuracyDegraded, ModelDriftHigh, ModelPredictionLatencyHigh, PredictionDistributionSkewed, NoPredictionsGenerated, ShadowModelHighDivergence, ShadowModelNotLoaded, FeatureDriftDetected, ModerateFeatureDrift, DriftChecksStalled, InferenceLatencyP95Warning, InferenceLatencyP99Warning, InferenceThroughputLow, DatabaseQuerySlow, AirflowDAGFailed, L0PipelineDelayed',
  info: 'ShadowModelHighAgreement, ChampionModelStale, ModelReloadTriggered, FeatureWindowsLow, FeatureDriftResolved',
  none: 'Watchdog',
} as const;
const names = (s: string) => s.split(',').map((n) => n.trim());
const ALL = Object.entries(PLATFORM_ALERTS).flatMap(([severity, list]) =>
  names(list).map((name) => ({ name, severity })),
);

const alert = (name: string, labels: Record<string, string> = {}): Alert => ({
  fingerprint: `fp-${name}`,
  name,
  status: 'firing',
  labels: { alertname: name, ...labels },
});

describe('default routing rules (config/alert-routes.yaml)', () => {
  const rules = defaultRules();
  const router = new Router(rules);

  it('lists the same alert names as trading-platform.md (when ../shared is present)', () => {
    const doc = path.join(ROOT, '..', 'shared', 'trading-platform.md');
    if (!existsSync(doc)) return;
    const text = readFileSync(doc, 'utf8');
    for (const { name } of ALL) expect(text).toContain(name);
  });

  it('has an explicit rule with a reason for every platform alert', () => {
    const named = new Set(rules.rules.map((r) => r.alert));
    const missing = ALL.filter(({ name }) => !named.has(name)).map((a) => a.name);
    expect(missing).toEqual([]);
    for (const r of rules.rules) expect(r.reason.length).toBeGreaterThan(10);
    for (const { name, severity } of ALL) {
      const d = router.route(alert(name, { severity }));
      expect(d.rule).toBe(name);
    }
  });

  it('never opens an incident for Watchdog', () => {
    expect(router.route(alert('Watchdog', { severity: 'none' })).action).toBe('ignore');
  });

  it.each([
    ['TradingAPIDown', 'trading-system-down', 'P0'],
    ['ServiceDown', 'trading-system-down', 'P0'],
    ['NoModelsLoaded', 'trading-system-down', 'P0'],
    ['DailyLossLimitBreached', 'trading-system-down', 'P0'],
    ['InferenceAPIDown', 'trading-system-down', 'P0'],
    ['HighFeatureDrift', 'model-degradation', 'P1'],
    ['OverallDriftScoreHigh', 'model-degradation', 'P1'],
    ['ModelAccuracyDegraded', 'model-degradation', 'P1'],
    ['InferenceErrorRateHigh', 'model-degradation', 'P1'],
    ['ModelPredictionLatencyCritical', 'model-degradation', 'P1'],
    ['MarketDataVeryStaleCritical', 'data-source-down', 'P1'],
    ['DatabaseConnectionPoolExhausted', 'database-connection', 'P2'],
    ['PostgresHighConnections', 'database-connection', 'P2'],
    ['DatabaseQuerySlow', 'database-connection', 'P2'],
    ['ShadowModelNotLoaded', 'model-degradation', 'P3'],
  ])('%s -> %s %s (playbook 1.2)', (name, kind, severity) => {
    expect(router.route(alert(name))).toMatchObject({ action: 'incident', kind, severity });
  });

  it('routes the feature-refresh DAG failure as P1 data-source-down (3.3) and other DAGs as P2', () => {
    expect(router.route(alert('AirflowDAGFailed', { dag_id: 'rl_l1_01_feature_refresh' }))).toMatchObject({
      kind: 'data-source-down',
      severity: 'P1',
    });
    expect(router.route(alert('AirflowDAGFailed', { dag_id: 'backups' }))).toMatchObject({
      kind: 'data-source-down',
      severity: 'P2',
    });
  });

  it.each([
    ['critical', 'P1'],
    ['warning', 'P2'],
    ['info', 'P3'],
    ['', 'P2'],
    ['bogus', 'P2'],
  ])('classifies an unknown alert with severity label "%s" as generic %s', (severity, expected) => {
    const d = router.route(alert('SomethingNobodyNamed', severity ? { severity } : {}));
    expect(d).toMatchObject({
      action: 'incident',
      kind: 'generic',
      severity: expected,
      rule: 'unknown-alert',
    });
  });

  it('ignores an unknown alert with severity "none" (a heartbeat)', () => {
    expect(router.route(alert('OtherHeartbeat', { severity: 'none' })).action).toBe('ignore');
  });
});

describe('dedup keys', () => {
  const router = new Router(defaultRules());
  const id = (name: string, labels: Record<string, string>) => {
    const d = router.route(alert(name, labels));
    if (d.action !== 'incident') throw new Error('expected an incident');
    return d;
  };

  it('puts alerts of one procedure and service on one incident', () => {
    const a = id('TradingAPIDown', { service: 'trading-api', instance: 'a' });
    const b = id('ServiceDown', { service: 'trading-api', instance: 'b' });
    expect(a.workflowId).toBe(b.workflowId);
    expect(a.dedupKey).toBe('trading-system-down|service=trading-api');
    expect(a.workflowId).toMatch(/^incident-trading-system-down-[0-9a-f]{16}$/);
  });

  it('separates services, kinds and unknown alert names', () => {
    expect(id('TradingAPIDown', { service: 'a' }).workflowId).not.toBe(
      id('TradingAPIDown', { service: 'b' }).workflowId,
    );
    expect(id('HighFeatureDrift', { service: 'a' }).workflowId).not.toBe(
      id('TradingAPIDown', { service: 'a' }).workflowId,
    );
    expect(id('UnknownA', {}).workflowId).not.toBe(id('UnknownB', {}).workflowId);
  });

  it('is bounded to the contract (500 characters) and stable', () => {
    const long = 'x'.repeat(5000);
    const k = dedupKeyFor('generic', alert('A', { service: long }), ['service']);
    expect(k.length).toBeLessThanOrEqual(500);
    expect(k).toBe(dedupKeyFor('generic', alert('A', { service: long }), ['service']));
    expect(workflowIdFor('generic', k)).toBe(workflowIdFor('generic', k));
  });
});

describe('routing rules validation', () => {
  it('names the offending path in a bad file', () => {
    expect(() =>
      parseRoutingRules(
        'version: 1\nrules:\n  - alert: X\n    kind: nope\n    severity: P9\n    reason: why not',
        'bad.yaml',
      ),
    ).toThrow(/bad\.yaml: invalid routing rules:[\s\S]*rules\.0\.kind/);
    expect(() =>
      parseRoutingRules('version: 1\nrules:\n  - alert: X\n    kind: generic\n    severity: P1\n', 'r.yaml'),
    ).toThrow(/rules\.0\.reason/);
    expect(() =>
      parseRoutingRules(
        'version: 1\nrules:\n  - alertRegex: "("\n    action: ignore\n    reason: broken',
        'r.yaml',
      ),
    ).toThrow(/invalid regular expression/);
    expect(() => parseRoutingRules('version: [', 'y.yaml')).toThrow(RoutingRulesError);
  });

  it('applies defaults to a minimal file', () => {
    const r = parseRoutingRules('version: 1\n');
    expect(r.defaults.groupBy).toEqual(['service', 'job']);
    expect(r.defaults.unknownAlerts.severityBySeverityLabel).toMatchObject({
      critical: 'P1',
      none: 'ignore',
    });
  });
});
