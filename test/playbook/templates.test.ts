import {
  renderIncidentResolved,
  renderIncidentStart,
  renderIncidentUpdate,
  renderExternalStatus,
} from '../../src/playbook/templates';

const at = Date.UTC(2026, 10, 27, 14, 5); // 09:05 COT

test('4.1 start notification', () => {
  expect(
    renderIncidentStart({
      title: 'Trading API down',
      severity: 'P0',
      impact: 'No trades executing',
      startedAt: at,
      onCall: ['oncall-primary'],
      symptoms: ['TradingAPIDown', 'API 5xx'],
      actions: ['Checking health endpoints'],
      channel: '#trading-incidents',
    }),
  ).toBe(
    [
      ':rotating_light: **INCIDENT: Trading API down**',
      '',
      '**Severity**: P0',
      '**Status**: Investigating',
      '**Impact**: No trades executing',
      '**Started**: 2026-11-27 09:05 COT',
      '**On-Call**: @oncall-primary',
      '',
      '**Initial Symptoms**:',
      '- TradingAPIDown',
      '- API 5xx',
      '',
      '**Actions Being Taken**:',
      '- Checking health endpoints',
      '',
      '**Updates**: This thread / #trading-incidents',
    ].join('\n'),
  );
});

test('4.2 update notification splits multi-line text into bullets', () => {
  const text = renderIncidentUpdate({
    title: 'X',
    status: 'Mitigating',
    progress: 'restarted api\nchecked db',
    nextSteps: ['watch'],
    eta: '10 min',
  });
  expect(text).toContain('**Status**: Mitigating');
  expect(text).toContain('**Progress Since Last Update**:\n- restarted api\n- checked db');
  expect(text).toContain('**Next Steps**:\n- watch');
  expect(text).toContain('**ETA**: 10 min');
  expect(renderIncidentUpdate({ title: 'X', status: 'Investigating' })).toContain('**ETA**: Investigating');
});

test('4.3 resolved notification', () => {
  const text = renderIncidentResolved({
    title: 'Trading API down',
    durationMs: 83 * 60_000,
    tradingDowntimeMinutes: 40,
    missedTrades: 3,
    financialImpactUsd: 1250.5,
    rootCause: 'OOM in inference-api',
    resolution: 'Restarted containers',
    postmortemDueAt: at + 48 * 3_600_000,
    postmortemRequirement: 'mandatory',
    followUps: ['Add memory alert'],
    postmortemLink: null,
  });
  expect(text).toBe(
    [
      ':white_check_mark: **RESOLVED: Trading API down**',
      '',
      '**Duration**: 1 hour 23 minutes',
      '**Impact Summary**:',
      '- Trading downtime: 40 minutes',
      '- Missed trades: 3',
      '- Financial impact: $1,250.50',
      '',
      '**Root Cause**: OOM in inference-api',
      '',
      '**Resolution**: Restarted containers',
      '',
      '**Follow-up Actions**:',
      '- [ ] Post-mortem scheduled for 2026-11-29 09:05 COT',
      '- [ ] Add memory alert',
      '',
      '**Post-mortem**: Link when available',
    ].join('\n'),
  );
});

test('4.3 financial impact: "None" only when reported as zero; nobody reported one: "Unknown"', () => {
  const resolved = (financialImpactUsd: number | null) =>
    renderIncidentResolved({
      title: 'Trading API down',
      durationMs: 60_000,
      tradingDowntimeMinutes: null,
      missedTrades: null,
      financialImpactUsd,
      rootCause: null,
      resolution: 'Resolved in PagerDuty',
      postmortemDueAt: null,
      postmortemRequirement: 'none',
      followUps: [],
      postmortemLink: null,
    });
  expect(resolved(null)).toContain('- Financial impact: Unknown\n');
  expect(resolved(null)).not.toContain('None');
  expect(resolved(0)).toContain('- Financial impact: None\n');
  expect(resolved(12)).toContain('- Financial impact: $12.00\n');
});

test('4.4 external status', () => {
  const text = renderExternalStatus({
    currentStatus: 'Degraded',
    lastUpdated: at,
    summary: 'Delayed prices',
    impact: 'Signals paused',
    resolutionEta: null,
    nextUpdate: '10:00 COT',
  });
  expect(text.split('\n').slice(0, 4)).toEqual([
    '**Status Update - USD/COP Trading System**',
    '',
    '**Current Status**: Degraded',
    '**Last Updated**: 2026-11-27 09:05 COT',
  ]);
  expect(text).toContain('**Resolution ETA**: Investigating');
});
