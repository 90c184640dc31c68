// The 6.4 report against a ledger fixture on real PostgreSQL. Every expected figure below is worked out by
// hand from the fixture (nearest-rank percentiles: p50 = value at rank ceil(0.5 n), p90 = value at rank
// ceil(0.9 n) of the sorted values), not by calling the report code.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { ActionItemRecord, PostmortemRecord } from '../../src/playbook/contract/records';
import {
  computeReport,
  cotDayStart,
  formatReport,
  formatSeconds,
  percentile,
  slope,
  type Report,
} from '../../src/ledger/report';
import { loadReportRows } from '../../src/ledger/report-rows';
import { LedgerStore } from '../../src/ledger/store';
import type { IncidentStatus } from '../../src/playbook/contract/incident';
import { freshLedger, type TestLedger } from '../ledger/db';
import { snapshot } from '../ledger/fixtures';

const run = promisify(execFile);
let ledger: TestLedger;

// Period: 2026-08-01 00:00 COT (05:00 UTC) .. 2026-12-01 00:00 COT: four complete months.
const SINCE = Date.parse('2026-08-01T05:00:00.000Z');
const UNTIL = Date.parse('2026-12-01T05:00:00.000Z');

const b = (type: 'response' | 'resolution', at: string, severity: IncidentStatus['severity']) => ({
  type,
  at,
  severity,
});
const INCIDENTS: IncidentStatus[] = [
  // August: 4
  snapshot({
    id: 'p0-a',
    severity: 'P0',
    openedAt: '2026-08-03T15:00:00.000Z',
    mttd: 60,
    mtta: 180,
    mttr: 900,
  }),
  snapshot({
    id: 'p0-b',
    severity: 'P0',
    openedAt: '2026-08-10T15:00:00.000Z',
    mttd: 120,
    mtta: 240,
    mttr: 1500,
    breaches: [
      b('response', '2026-08-10T15:05:00.000Z', 'P0'),
      b('resolution', '2026-08-10T15:30:00.000Z', 'P0'),
    ],
  }),
  snapshot({
    id: 'p1-a',
    severity: 'P1',
    openedAt: '2026-08-12T15:00:00.000Z',
    mttd: 30,
    mtta: 100,
    mttr: 3600,
  }),
  snapshot({
    id: 'p1-b',
    severity: 'P1',
    openedAt: '2026-08-31T15:00:00.000Z',
    mttd: 30,
    mtta: 200,
    mttr: 5400,
  }),
  // September: 3
  snapshot({
    id: 'p0-c',
    severity: 'P0',
    openedAt: '2026-09-02T15:00:00.000Z',
    mttd: 240,
    mtta: 420,
    mttr: 3600,
  }),
  snapshot({
    id: 'p1-c',
    severity: 'P1',
    openedAt: '2026-09-15T15:00:00.000Z',
    mttd: 90,
    mtta: 300,
    mttr: 7200,
    breaches: [b('resolution', '2026-09-15T17:00:00.000Z', 'P1')],
  }),
  snapshot({
    id: 'p2-a',
    severity: 'P2',
    openedAt: '2026-09-20T15:00:00.000Z',
    mttd: 10,
    mtta: 600,
    mttr: 10800,
  }),
  // October: 3 (one opened 2026-11-01 03:00 UTC = 2026-10-31 22:00 COT: October on the COT calendar)
  snapshot({
    id: 'p1-d',
    severity: 'P1',
    openedAt: '2026-10-05T15:00:00.000Z',
    mttd: 400,
    mtta: 400,
    mttr: 9000,
  }),
  snapshot({
    id: 'p2-b',
    severity: 'P2',
    openedAt: '2026-10-20T15:00:00.000Z',
    mttd: 20,
    mtta: 1200,
    mttr: 14400,
  }),
  snapshot({
    id: 'p3-a',
    severity: 'P3',
    openedAt: '2026-11-01T03:00:00.000Z',
    mttd: 0,
    mtta: null,
    mttr: null,
    breaches: [b('response', '2026-11-03T23:00:00.000Z', 'P3')],
  }),
  // November: 2 (one still open: no MTTR)
  snapshot({
    id: 'p0-d',
    severity: 'P0',
    openedAt: '2026-11-28T15:00:00.000Z',
    mttd: 600,
    mtta: 60,
    mttr: 1200,
  }),
  snapshot({
    id: 'p1-e',
    severity: 'P1',
    openedAt: '2026-11-29T15:00:00.000Z',
    mttd: 1000,
    mtta: 500,
    mttr: null,
  }),
  // Outside the period: 2026-07-31 23:00 COT, and 2026-12-01 00:00 COT exactly (the end is exclusive).
  snapshot({
    id: 'before',
    severity: 'P0',
    openedAt: '2026-08-01T04:00:00.000Z',
    mttd: 9999,
    mtta: 9999,
    mttr: 9999,
    breaches: [b('response', '2026-08-01T04:05:00.000Z', 'P0')],
  }),
  // A game day in September, run at 60x: a drill, left out unless --include-drills.
  {
    ...snapshot({
      id: 'drill-p0',
      severity: 'P0',
      openedAt: '2026-09-20T15:00:00.000Z',
      mttd: 30,
      mtta: 30,
      mttr: 600,
    }),
    timeScale: 60,
  },
  snapshot({
    id: 'after',
    severity: 'P0',
    openedAt: '2026-12-01T05:00:00.000Z',
    mttd: 9999,
    mtta: 9999,
    mttr: 9999,
  }),
];

const pm = (incidentId: string, over: Partial<PostmortemRecord>): PostmortemRecord => ({
  incidentId,
  workflowId: `postmortem-${incidentId}`,
  title: `Incident ${incidentId}`,
  severity: 'P0',
  requirement: 'mandatory',
  status: 'open',
  owner: 'eng-lead',
  resolvedAt: '2026-08-03T15:15:00.000Z',
  dueAt: null,
  timeScale: 1,
  remindersSent: 0,
  overdueEscalatedAt: null,
  completedAt: null,
  completedBy: null,
  documentUrl: null,
  version: 1,
  ...over,
});
const item = (index: number, dueDate: string, dueAt: string, doneAt: string | null): ActionItemRecord => ({
  id: `AI-${index + 1}`,
  index,
  title: `follow-up ${index + 1}`,
  owner: 'bob',
  dueDate,
  dueAt,
  assignedAt: '2026-08-04T15:00:00.000Z',
  remindersSent: 0,
  overdueEscalatedAt: null,
  doneAt,
  doneBy: doneAt ? 'bob' : null,
});

beforeAll(async () => {
  ledger = await freshLedger('report');
  const store = new LedgerStore(ledger.pool);
  for (const s of INCIDENTS) await store.upsertIncident(s, 1);
  // p0-a: completed, 3 action items: done, overdue (due 2026-11-15), not yet due (2026-12-15).
  await store.recordPostmortemWithItems(
    pm('p0-a', {
      status: 'tracking',
      dueAt: '2026-08-05T15:15:00.000Z',
      completedAt: '2026-08-04T15:00:00.000Z',
      completedBy: 'alice',
      documentUrl: 'https://wiki/pm/p0-a',
    }),
    [
      item(0, '2026-09-01', '2026-09-02T05:00:00.000Z', '2026-08-30T12:00:00.000Z'),
      item(1, '2026-11-15', '2026-11-16T05:00:00.000Z', null),
      item(2, '2026-12-15', '2026-12-16T05:00:00.000Z', null),
    ],
  );
  // p0-d: overdue (due 2026-11-30 15:20 UTC) and escalated.
  await store.recordPostmortem(
    pm('p0-d', {
      status: 'overdue',
      resolvedAt: '2026-11-28T15:20:00.000Z',
      dueAt: '2026-11-30T15:20:00.000Z',
      overdueEscalatedAt: '2026-11-30T15:20:01.000Z',
    }),
  );
  // p1-d: due after the period ends; p2-b: recommended and lapsed; p3-a: none required.
  await store.recordPostmortem(
    pm('p1-d', { severity: 'P1', resolvedAt: '2026-11-28T15:00:00.000Z', dueAt: '2026-12-05T15:00:00.000Z' }),
  );
  await store.recordPostmortem(
    pm('p2-b', {
      severity: 'P2',
      requirement: 'recommended',
      status: 'lapsed',
      dueAt: '2026-11-03T19:00:00.000Z',
    }),
  );
  await store.recordPostmortem(pm('p3-a', { severity: 'P3', requirement: 'none', status: 'not-required' }));
  // The drill's post-mortem and action item, overdue: not the team's real obligations.
  await store.recordPostmortemWithItems(
    pm('drill-p0', { status: 'overdue', timeScale: 60, dueAt: '2026-09-20T15:48:00.000Z' }),
    [item(0, '2026-09-21', '2026-09-20T16:00:00.000Z', null)],
  );
});
afterAll(async () => {
  await ledger.close();
});

function checkFigures(r: Report): void {
  expect(r.since).toBe('2026-08-01T05:00:00.000Z');
  expect(r.until).toBe('2026-12-01T05:00:00.000Z');
  expect(r.incidents).toEqual({ total: 12, bySeverity: { P0: 4, P1: 5, P2: 2, P3: 1 } });

  // P0: MTTD 60,120,240,600 · MTTA 60,180,240,420 · MTTR 900,1200,1500,3600 (n = 4: p50 = 2nd, p90 = 4th).
  expect(r.metrics.P0.count).toBe(4);
  expect(r.metrics.P0.mttd).toEqual({
    n: 4,
    p50: 120,
    p90: 600,
    mean: 255,
    targetSeconds: 300,
    withinTarget: 3,
    met: true,
  });
  expect(r.metrics.P0.mtta).toEqual({
    n: 4,
    p50: 180,
    p90: 420,
    mean: 225,
    targetSeconds: 300,
    withinTarget: 3,
    met: true,
  });
  // Mean exactly 1800 s = 30 min: the target is "< 30 min", so missed.
  expect(r.metrics.P0.mttr).toEqual({
    n: 4,
    p50: 1200,
    p90: 3600,
    mean: 1800,
    targetSeconds: 1800,
    withinTarget: 3,
    met: false,
  });

  // P1: MTTD 30,30,90,400,1000 · MTTA 100,200,300,400,500 (n = 5: p50 = 3rd, p90 = 5th) · MTTR 3600,5400,7200,9000 (one open).
  expect(r.metrics.P1.mttd).toEqual({
    n: 5,
    p50: 90,
    p90: 1000,
    mean: 310,
    targetSeconds: 300,
    withinTarget: 3,
    met: false,
  });
  expect(r.metrics.P1.mtta).toEqual({
    n: 5,
    p50: 300,
    p90: 500,
    mean: 300,
    targetSeconds: 300,
    withinTarget: 2,
    met: false,
  });
  expect(r.metrics.P1.mttr).toEqual({
    n: 4,
    p50: 5400,
    p90: 9000,
    mean: 6300,
    targetSeconds: 7200,
    withinTarget: 2,
    met: true,
  });

  // P2 (n = 2: p50 = 1st, p90 = 2nd); no MTTR target in 6.4 for P2/P3.
  expect(r.metrics.P2.mttd).toEqual({
    n: 2,
    p50: 10,
    p90: 20,
    mean: 15,
    targetSeconds: 300,
    withinTarget: 2,
    met: true,
  });
  expect(r.metrics.P2.mtta).toEqual({
    n: 2,
    p50: 600,
    p90: 1200,
    mean: 900,
    targetSeconds: 300,
    withinTarget: 0,
    met: false,
  });
  expect(r.metrics.P2.mttr).toEqual({
    n: 2,
    p50: 10800,
    p90: 14400,
    mean: 12600,
    targetSeconds: null,
    withinTarget: null,
    met: null,
  });

  // P3: never acknowledged.
  expect(r.metrics.P3.mttd).toEqual({
    n: 1,
    p50: 0,
    p90: 0,
    mean: 0,
    targetSeconds: 300,
    withinTarget: 1,
    met: true,
  });
  expect(r.metrics.P3.mtta).toEqual({
    n: 0,
    p50: null,
    p90: null,
    mean: null,
    targetSeconds: 300,
    withinTarget: 0,
    met: null,
  });

  // All severities. MTTD sorted 0,10,20,30,30,60,90,120,240,400,600,1000 (sum 2600): p50 = 6th, p90 = 11th.
  expect(r.metrics.all.mttd).toMatchObject({ n: 12, p50: 60, p90: 600, withinTarget: 9, met: true });
  expect(r.metrics.all.mttd.mean).toBeCloseTo(2600 / 12, 10);
  // MTTA sorted 60,100,180,200,240,300,400,420,500,600,1200 (sum 4200): p50 = 6th, p90 = 10th.
  expect(r.metrics.all.mtta).toMatchObject({ n: 11, p50: 300, p90: 600, met: false });
  expect(r.metrics.all.mtta.mean).toBeCloseTo(4200 / 11, 10);
  // MTTR sorted 900,1200,1500,3600,3600,5400,7200,9000,10800,14400 (sum 57600): no single target.
  expect(r.metrics.all.mttr).toEqual({
    n: 10,
    p50: 3600,
    p90: 10800,
    mean: 5760,
    targetSeconds: null,
    withinTarget: null,
    met: null,
  });

  expect(r.monthly.map((m) => [m.month, m.count, m.complete])).toEqual([
    ['2026-08', 4, true],
    ['2026-09', 3, true],
    ['2026-10', 3, true],
    ['2026-11', 2, true],
  ]);
  expect(r.monthly[0]!.bySeverity).toEqual({ P0: 2, P1: 2, P2: 0, P3: 0 });
  // Least squares over 4,3,3,2 at x = 0..3: sum((x - 1.5)(y - 3)) / sum((x - 1.5)^2) = -3 / 5.
  expect(r.trend).toMatchObject({ direction: 'down', months: 4, met: true });
  expect(r.trend.slopePerMonth).toBeCloseTo(-0.6, 10);

  expect(r.breaches).toMatchObject({
    total: 4,
    incidents: 3,
    byType: { response: 2, resolution: 2 },
    bySeverity: { P0: 2, P1: 1, P2: 0, P3: 1 },
  });
  expect(r.breaches.list.map((x) => `${x.incidentId}:${x.type}`)).toEqual([
    'p0-b:response',
    'p0-b:resolution',
    'p1-c:resolution',
    'p3-a:response',
  ]);

  // Only p0-d: due 2026-11-30 15:20 UTC, until 2026-12-01 05:00 UTC -> 13 h 40 min = 49200 s.
  expect(r.overduePostmortems).toEqual([
    {
      incidentId: 'p0-d',
      title: 'Incident p0-d',
      severity: 'P0',
      owner: 'eng-lead',
      dueAt: '2026-11-30T15:20:00.000Z',
      overdueSeconds: 49200,
      escalatedAt: '2026-11-30T15:20:01.000Z',
    },
  ]);
  // Only p0-a AI-2: due 2026-11-16 05:00 UTC -> 15 days = 1296000 s.
  expect(r.overdueActionItems).toEqual([
    {
      incidentId: 'p0-a',
      id: 'AI-2',
      title: 'follow-up 2',
      owner: 'bob',
      dueDate: '2026-11-15',
      dueAt: '2026-11-16T05:00:00.000Z',
      overdueSeconds: 1296000,
    },
  ]);
}

test('report figures from the ledger equal the figures worked out by hand', async () => {
  const rows = await loadReportRows(ledger.pool, SINCE, UNTIL);
  expect(rows.incidents).toHaveLength(13);
  const r = computeReport(rows, SINCE, UNTIL);
  checkFigures(r);
  expect(r.drills).toEqual({ included: false, count: 1 });
});

test('drills (a timeScale other than 1) are left out unless asked for, with their post-mortems', async () => {
  const rows = await loadReportRows(ledger.pool, SINCE, UNTIL);
  const r = computeReport(rows, SINCE, UNTIL, { includeDrills: true });
  expect(r.drills).toEqual({ included: true, count: 1 });
  expect(r.incidents).toEqual({ total: 13, bySeverity: { P0: 5, P1: 5, P2: 2, P3: 1 } });
  // P0 MTTR with the drill's 600 s: 600,900,1200,1500,3600 (n = 5: p50 = 3rd, p90 = 5th).
  expect(r.metrics.P0.mttr).toMatchObject({ n: 5, p50: 1200, p90: 3600, mean: 1560, withinTarget: 4 });
  expect(r.overduePostmortems.map((p) => p.incidentId)).toEqual(['drill-p0', 'p0-d']);
  expect(r.overdueActionItems.map((a) => `${a.incidentId}/${a.id}`)).toEqual(['drill-p0/AI-1', 'p0-a/AI-2']);
  expect(formatReport(r)).toContain(
    'Drills: 1 incident(s) run with a timeScale other than 1 are counted above',
  );
  expect(formatReport(computeReport(rows, SINCE, UNTIL))).toContain(
    'Drills: 1 incident(s) run with a timeScale other than 1 are left out (--include-drills counts them)',
  );
});

test('npm run report: JSON output has the same figures; text output shows each line beside its target', async () => {
  const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
  const script = path.resolve(__dirname, '../../scripts/report.ts');
  const args = ['--since', '2026-08-01', '--until', '2026-12-01', '--database-url', ledger.url];
  const json = await run(tsx, [script, ...args, '--format', 'json']);
  checkFigures(JSON.parse(json.stdout) as Report);
  const drills = await run(tsx, [script, ...args, '--format', 'json', '--include-drills']);
  expect((JSON.parse(drills.stdout) as Report).incidents.total).toBe(13);
  const text = (await run(tsx, [script, ...args])).stdout;
  expect(text).toContain('Incident report 2026-08-01 00:00 .. 2026-12-01 00:00 COT');
  expect(text).toContain('Incidents: 12 (P0 4, P1 5, P2 2, P3 1)');
  expect(text).toMatch(/P0 +MTTR +4 +20m 00s +1h 00m +30m 00s +< 30m 00s +3\/4 +MISSED/);
  expect(text).toMatch(/P1 +MTTR +4 +1h 30m +2h 30m +1h 45m +< 2h 00m +2\/4 +met/);
  expect(text).toMatch(
    /Trend: down \(-0\.60 incidents\/month over 4 complete months; target: trending down, met\)/,
  );
  expect(text).toContain(
    'SLA breaches: 4 in 3 incident(s) (response 2, resolution 2; P0 2, P1 1, P2 0, P3 1)',
  );
  expect(text).toContain('Overdue post-mortems (6.1): 1');
  expect(text).toContain('Overdue action items (6.3): 1');
  const bad = await run(tsx, [script, '--since', 'yesterday', '--database-url', ledger.url]).catch(
    (e: { code: number; stderr: string }) => e,
  );
  expect(bad).toMatchObject({ code: 2 });
  expect((bad as { stderr: string }).stderr).toContain('not a YYYY-MM-DD date');
});

test('npm run report with no --since reports the last 7 days and says so; --until alone, the 7 days before it', async () => {
  // Its own ledger: rows dated relative to now, and in January 2020, far from the fixture's period.
  const own = await freshLedger('report_default');
  try {
    const store = new LedgerStore(own.pool);
    const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    for (const s of [
      snapshot({ id: 'now-2d', severity: 'P1', openedAt: ago(2), mttd: 30, mtta: 60, mttr: 600 }),
      snapshot({ id: 'now-6d', severity: 'P2', openedAt: ago(6.9), mttd: 30 }),
      snapshot({ id: 'now-8d', severity: 'P0', openedAt: ago(7.1), mttd: 30 }),
      snapshot({ id: 'now-30d', severity: 'P3', openedAt: ago(30), mttd: 30 }),
      // --until 2020-01-15: 2020-01-08 05:00 UTC (00:00 COT) .. 2020-01-15 05:00 UTC.
      snapshot({ id: 'jan-10', severity: 'P0', openedAt: '2020-01-10T15:00:00.000Z', mttd: 30 }),
      snapshot({ id: 'jan-08-early', severity: 'P1', openedAt: '2020-01-08T04:59:00.000Z', mttd: 30 }),
      snapshot({ id: 'jan-05', severity: 'P1', openedAt: '2020-01-05T15:00:00.000Z', mttd: 30 }),
    ])
      await store.upsertIncident(s, 1);

    const tsx = path.resolve(__dirname, '../../node_modules/.bin/tsx');
    const script = path.resolve(__dirname, '../../scripts/report.ts');
    const before = Date.now();
    const text = await run(tsx, [script, '--database-url', own.url]);
    const lines = text.stdout.split('\n');
    expect(lines[0]).toBe(
      'No --since given: the last 7 days, until now (--since YYYY-MM-DD for another period).',
    );
    expect(lines[1]).toMatch(
      /^Incident report \d{4}-\d{2}-\d{2} \d{2}:\d{2} .. \d{4}-\d{2}-\d{2} \d{2}:\d{2} COT$/,
    );
    expect(text.stdout).toContain('Incidents: 2 (P0 0, P1 1, P2 1, P3 0)');

    const json = await run(tsx, [script, '--database-url', own.url, '--format', 'json']);
    const r = JSON.parse(json.stdout) as Report;
    expect(json.stderr).toContain('No --since given: the last 7 days, until now');
    expect(Date.parse(r.until) - Date.parse(r.since)).toBe(7 * 86_400_000);
    expect(Date.parse(r.until)).toBeGreaterThanOrEqual(before);
    expect(r.incidents).toEqual({ total: 2, bySeverity: { P0: 0, P1: 1, P2: 1, P3: 0 } });

    const until = await run(tsx, [script, '--until', '2020-01-15', '--database-url', own.url]);
    expect(until.stdout).toContain(
      'No --since given: the last 7 days, before 2020-01-15 00:00 COT (--since YYYY-MM-DD for another period).',
    );
    expect(until.stdout).toContain('Incident report 2020-01-08 00:00 .. 2020-01-15 00:00 COT');
    expect(until.stdout).toContain('Incidents: 1 (P0 1, P1 0, P2 0, P3 0)');

    // --since still chooses the period, with no note.
    const since = await run(tsx, [
      script,
      '--since',
      '2020-01-01',
      '--until',
      '2020-01-15',
      '--database-url',
      own.url,
    ]);
    expect(since.stdout).not.toContain('No --since given');
    expect(since.stdout).toContain('Incidents: 3 (P0 1, P1 2, P2 0, P3 0)');
  } finally {
    await own.close();
  }
}, 120_000);

test('pure helpers: nearest-rank percentiles, slope, partial months, durations', () => {
  expect(percentile([], 50)).toBeNull();
  expect(percentile([7], 90)).toBe(7);
  expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
  expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90)).toBe(9);
  expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90)).toBe(10);
  expect(slope([3])).toBeNull();
  expect(slope([1, 2, 3])).toBe(1);
  expect(slope([2, 2])).toBe(0);
  // A period ending mid-month: that month is shown but left out of the trend.
  const r = computeReport(
    { incidents: [], postmortems: [], actionItems: [] },
    cotDayStart('2026-10-01'),
    Date.parse('2026-11-15T12:00:00Z'),
  );
  expect(r.monthly.map((m) => [m.month, m.complete])).toEqual([
    ['2026-10', true],
    ['2026-11', false],
  ]);
  expect(r.trend).toMatchObject({ direction: 'insufficient data', months: 1, met: null });
  expect(formatReport(r)).toContain('2026-11*');
  expect([
    formatSeconds(45),
    formatSeconds(270),
    formatSeconds(3900),
    formatSeconds(183600),
    formatSeconds(null),
  ]).toEqual(['45s', '4m 30s', '1h 05m', '2d 03h', '-']);
});
