// The monthly incident report (playbook 6.4), computed from ledger rows by pure functions: MTTD, MTTA and
// MTTR per severity as p50, p90 and mean beside the 6.4 targets, incidents per month and their trend, SLA
// breaches, and the post-mortems and action items overdue at report time. No I/O here: scripts/report.ts
// loads the rows (src/ledger/report-rows.ts) and prints formatReport's text or the JSON.
import { SEVERITIES, type Severity } from '../playbook/severity';
import { COT_OFFSET_MS } from '../playbook/time';

export type MetricName = 'mttd' | 'mtta' | 'mttr';
export const METRIC_NAMES: MetricName[] = ['mttd', 'mtta', 'mttr'];

/** 6.4 targets in seconds (null: the playbook sets none). The targets are on the mean ("Mean Time to"). */
export const METRIC_TARGETS: Record<MetricName, Record<Severity, number | null>> = {
  mttd: { P0: 300, P1: 300, P2: 300, P3: 300 }, // < 5 min
  mtta: { P0: 300, P1: 300, P2: 300, P3: 300 }, // < 5 min
  mttr: { P0: 1800, P1: 7200, P2: null, P3: null }, // < 30 min (P0), < 2h (P1)
};

export interface ReportIncidentRow {
  id: string;
  title: string;
  /** Final severity. */
  severity: Severity;
  /** The most severe level the incident reached (absent: `severity`). The report groups by it. */
  highestSeverity?: Severity;
  status: string;
  openedAt: string;
  /** Playbook seconds, null when the end event has not happened. */
  mttdSeconds: number | null;
  mttaSeconds: number | null;
  mttrSeconds: number | null;
  breaches: { type: 'response' | 'resolution'; at: string; severity: Severity }[];
  /** 1 for a real incident; anything else is a drill (a game day run with compressed time). */
  timeScale: number;
}

export interface ReportPostmortemRow {
  incidentId: string;
  title: string;
  severity: Severity;
  requirement: 'mandatory' | 'recommended' | 'none';
  status: string;
  owner: string;
  dueAt: string | null;
  completedAt: string | null;
  overdueEscalatedAt: string | null;
  /** The incident's timeScale (1 when absent). */
  timeScale?: number;
}

export interface ReportActionItemRow {
  incidentId: string;
  id: string;
  title: string;
  owner: string;
  dueDate: string;
  dueAt: string;
  doneAt: string | null;
  /** The incident's timeScale (1 when absent). */
  timeScale?: number;
}

export interface ReportRows {
  incidents: ReportIncidentRow[];
  postmortems: ReportPostmortemRow[];
  actionItems: ReportActionItemRow[];
}

export interface Stat {
  n: number;
  p50: number | null;
  p90: number | null;
  mean: number | null;
  targetSeconds: number | null;
  /** Incidents whose value is under the target. */
  withinTarget: number | null;
  /** Mean under the target; null when there is no target or no value. */
  met: boolean | null;
}

export interface Report {
  /** Half-open [since, until): ISO instants. */
  since: string;
  until: string;
  incidents: { total: number; bySeverity: Record<Severity, number> };
  /**
   * Incidents count, and answer to the 6.4 targets, under the most severe level they reached (as the 6.1
   * post-mortem rule does), not their final one: a P0 downgraded before resolution still has the P0 MTTR
   * target. `endedLower`: incidents of the period whose final severity is lower than their highest.
   */
  severityGrouping: { by: 'highest'; endedLower: number };
  /**
   * Drills: incidents run with a timeScale other than 1 (game days, `npm run demo`). Left out of every figure
   * unless asked for, with their post-mortems and action items; `count` is how many were in the period.
   */
  drills: { included: boolean; count: number };
  metrics: Record<Severity | 'all', { count: number } & Record<MetricName, Stat>>;
  monthly: { month: string; count: number; bySeverity: Record<Severity, number>; complete: boolean }[];
  trend: {
    direction: 'down' | 'up' | 'flat' | 'insufficient data';
    slopePerMonth: number | null;
    months: number;
    target: 'trending down';
    met: boolean | null;
  };
  breaches: {
    total: number;
    incidents: number;
    byType: { response: number; resolution: number };
    bySeverity: Record<Severity, number>;
    list: {
      incidentId: string;
      title: string;
      severity: Severity;
      type: 'response' | 'resolution';
      at: string;
    }[];
  };
  overduePostmortems: {
    incidentId: string;
    title: string;
    severity: Severity;
    owner: string;
    dueAt: string;
    overdueSeconds: number;
    escalatedAt: string | null;
  }[];
  overdueActionItems: {
    incidentId: string;
    id: string;
    title: string;
    owner: string;
    dueDate: string;
    dueAt: string;
    overdueSeconds: number;
  }[];
}

/** Nearest-rank percentile: the smallest value with at least p% of the values at or below it. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

function stat(values: number[], target: number | null): Stat {
  const m = mean(values);
  return {
    n: values.length,
    p50: percentile(values, 50),
    p90: percentile(values, 90),
    mean: m,
    targetSeconds: target,
    withinTarget: target === null ? null : values.filter((v) => v < target).length,
    met: target === null || m === null ? null : m < target,
  };
}

const zeroBySeverity = (): Record<Severity, number> => ({ P0: 0, P1: 0, P2: 0, P3: 0 });

/** "2026-11" of an instant, on the COT calendar. */
export function cotMonth(ms: number): string {
  return new Date(ms + COT_OFFSET_MS).toISOString().slice(0, 7);
}
/** Start of a COT month ("2026-11") as epoch ms, shifted by `plus` months. */
function cotMonthStart(month: string, plus = 0): number {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return Date.UTC(y, m - 1 + plus, 1) - COT_OFFSET_MS;
}
/** Start of a COT calendar day (YYYY-MM-DD) as epoch ms. */
export function cotDayStart(date: string): number {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(`${date}T00:00:00Z`)))
    throw new Error(`not a YYYY-MM-DD date: ${date}`);
  return Date.parse(`${date}T00:00:00.000Z`) - COT_OFFSET_MS;
}

/** Least-squares slope of y over x = 0, 1, 2, ... */
export function slope(ys: readonly number[]): number | null {
  const n = ys.length;
  if (n < 2) return null;
  const xMean = (n - 1) / 2;
  const yMean = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  ys.forEach((y, x) => {
    num += (x - xMean) * (y - yMean);
    den += (x - xMean) ** 2;
  });
  return num / den;
}

export interface ReportOptions {
  /** Count drills (timeScale other than 1) as incidents; default false. */
  includeDrills?: boolean;
}

const isDrill = (row: { timeScale?: number }) => (row.timeScale ?? 1) !== 1;
/** The severity an incident is reported under: the highest it reached. */
export const reportedSeverity = (i: ReportIncidentRow): Severity => i.highestSeverity ?? i.severity;

export function computeReport(
  allRows: ReportRows,
  sinceMs: number,
  untilMs: number,
  { includeDrills = false }: ReportOptions = {},
): Report {
  const inPeriod = allRows.incidents.filter((i) => {
    const t = Date.parse(i.openedAt);
    return t >= sinceMs && t < untilMs;
  });
  const drillCount = inPeriod.filter(isDrill).length;
  const rows: ReportRows = includeDrills
    ? allRows
    : {
        incidents: allRows.incidents.filter((i) => !isDrill(i)),
        postmortems: allRows.postmortems.filter((p) => !isDrill(p)),
        actionItems: allRows.actionItems.filter((a) => !isDrill(a)),
      };
  const incidents = includeDrills ? inPeriod : inPeriod.filter((i) => !isDrill(i));

  const bySeverity = zeroBySeverity();
  for (const i of incidents) bySeverity[reportedSeverity(i)] += 1;

  const metricsFor = (list: ReportIncidentRow[], severity: Severity | 'all') => {
    const values = (m: MetricName) =>
      list.map((i) => i[`${m}Seconds` as const]).filter((v): v is number => v !== null && Number.isFinite(v));
    // The "all" row has no single target: MTTR's differs per severity.
    const target = (m: MetricName) =>
      severity === 'all' ? (m === 'mttr' ? null : METRIC_TARGETS[m].P0) : METRIC_TARGETS[m][severity];
    return {
      count: list.length,
      mttd: stat(values('mttd'), target('mttd')),
      mtta: stat(values('mtta'), target('mtta')),
      mttr: stat(values('mttr'), target('mttr')),
    };
  };
  const metrics = Object.fromEntries([
    ...SEVERITIES.map((sev) => [
      sev,
      metricsFor(
        incidents.filter((i) => reportedSeverity(i) === sev),
        sev,
      ),
    ]),
    ['all', metricsFor(incidents, 'all')],
  ]) as Report['metrics'];

  // Incidents per month (COT calendar), every month of the period, zero months included.
  const monthly: Report['monthly'] = [];
  for (
    let month = cotMonth(sinceMs);
    cotMonthStart(month) < untilMs;
    month = cotMonth(cotMonthStart(month, 1))
  ) {
    const inMonth = incidents.filter((i) => cotMonth(Date.parse(i.openedAt)) === month);
    const sev = zeroBySeverity();
    for (const i of inMonth) sev[reportedSeverity(i)] += 1;
    // A month counts toward the trend only when the period covers all of it.
    const complete = cotMonthStart(month) >= sinceMs && cotMonthStart(month, 1) <= untilMs;
    monthly.push({ month, count: inMonth.length, bySeverity: sev, complete });
  }
  const completeCounts = monthly.filter((m) => m.complete).map((m) => m.count);
  const s = slope(completeCounts);
  const trend: Report['trend'] = {
    direction: s === null ? 'insufficient data' : s < 0 ? 'down' : s > 0 ? 'up' : 'flat',
    slopePerMonth: s,
    months: completeCounts.length,
    target: 'trending down',
    met: s === null ? null : s < 0,
  };

  const list = incidents
    .flatMap((i) =>
      i.breaches.map((b) => ({
        incidentId: i.id,
        title: i.title,
        severity: b.severity,
        type: b.type,
        at: b.at,
      })),
    )
    .sort((a, b) => a.at.localeCompare(b.at));
  const breachBySeverity = zeroBySeverity();
  for (const b of list) breachBySeverity[b.severity] += 1;
  const breaches: Report['breaches'] = {
    total: list.length,
    incidents: new Set(list.map((b) => b.incidentId)).size,
    byType: {
      response: list.filter((b) => b.type === 'response').length,
      resolution: list.filter((b) => b.type === 'resolution').length,
    },
    bySeverity: breachBySeverity,
    list,
  };

  // Open obligations at report time, whatever the incident's date: 6.1 mandatory post-mortems past due
  // (a recommended one lapses instead), and 6.3 action items past due and not done.
  const overduePostmortems = rows.postmortems
    .filter(
      (p) =>
        p.requirement === 'mandatory' &&
        p.completedAt === null &&
        p.dueAt !== null &&
        Date.parse(p.dueAt) < untilMs,
    )
    .map((p) => ({
      incidentId: p.incidentId,
      title: p.title,
      severity: p.severity,
      owner: p.owner,
      dueAt: p.dueAt!,
      overdueSeconds: Math.floor((untilMs - Date.parse(p.dueAt!)) / 1000),
      escalatedAt: p.overdueEscalatedAt,
    }))
    .sort((a, b) => a.dueAt.localeCompare(b.dueAt));
  const overdueActionItems = rows.actionItems
    .filter((a) => a.doneAt === null && Date.parse(a.dueAt) < untilMs)
    .map((a) => ({
      incidentId: a.incidentId,
      id: a.id,
      title: a.title,
      owner: a.owner,
      dueDate: a.dueDate,
      dueAt: a.dueAt,
      overdueSeconds: Math.floor((untilMs - Date.parse(a.dueAt)) / 1000),
    }))
    .sort((a, b) => a.dueAt.localeCompare(b.dueAt) || a.id.localeCompare(b.id));

  return {
    since: new Date(sinceMs).toISOString(),
    until: new Date(untilMs).toISOString(),
    incidents: { total: incidents.length, bySeverity },
    severityGrouping: {
      by: 'highest',
      endedLower: incidents.filter((i) => reportedSeverity(i) !== i.severity).length,
    },
    drills: { included: includeDrills, count: drillCount },
    metrics,
    monthly,
    trend,
    breaches,
    overduePostmortems,
    overdueActionItems,
  };
}

// ---------- text output ----------

/** "45s", "4m 30s", "1h 05m", "2d 03h". */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d ${String(Math.floor((s % 86400) / 3600)).padStart(2, '0')}h`;
}

function table(header: string[], body: string[][]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r
      .map((v, c) => v.padEnd(widths[c]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

const cot = (iso: string) => {
  const d = new Date(Date.parse(iso) + COT_OFFSET_MS).toISOString();
  return `${d.slice(0, 10)} ${d.slice(11, 16)}`;
};

export function formatReport(r: Report): string {
  const out: string[] = [];
  out.push(`Incident report ${cot(r.since)} .. ${cot(r.until)} COT`);
  out.push(
    `Incidents: ${r.incidents.total} (${SEVERITIES.map((s) => `${s} ${r.incidents.bySeverity[s]}`).join(', ')})`,
  );
  const lower = r.severityGrouping.endedLower;
  out.push(
    `Severity: the highest each incident reached (as 6.1), not its final one${lower > 0 ? `; ${lower} incident(s) ended lower and count under their highest` : ''}`,
  );
  if (r.drills.count > 0)
    out.push(
      r.drills.included
        ? `Drills: ${r.drills.count} incident(s) run with a timeScale other than 1 are counted above`
        : `Drills: ${r.drills.count} incident(s) run with a timeScale other than 1 are left out (--include-drills counts them)`,
    );
  out.push('');
  out.push(
    '6.4 metrics by highest severity (playbook time; the target applies to the mean; "within" = incidents under the target)',
  );
  const rows: string[][] = [];
  for (const sev of [...SEVERITIES, 'all'] as const) {
    for (const m of METRIC_NAMES) {
      const st = r.metrics[sev][m];
      if (sev === 'all' && st.n === 0) continue;
      rows.push([
        sev,
        m.toUpperCase(),
        String(st.n),
        formatSeconds(st.p50),
        formatSeconds(st.p90),
        formatSeconds(st.mean),
        st.targetSeconds === null ? '-' : `< ${formatSeconds(st.targetSeconds)}`,
        st.withinTarget === null ? '-' : `${st.withinTarget}/${st.n}`,
        st.met === null ? '-' : st.met ? 'met' : 'MISSED',
      ]);
    }
  }
  out.push(table(['Severity', 'Metric', 'n', 'p50', 'p90', 'mean', 'target', 'within', 'status'], rows));
  out.push('');
  out.push('Incidents per month (COT calendar; * = month only partly in the period)');
  out.push(
    table(
      ['Month', 'Total', ...SEVERITIES],
      r.monthly.map((m) => [
        `${m.month}${m.complete ? '' : '*'}`,
        String(m.count),
        ...SEVERITIES.map((s) => String(m.bySeverity[s])),
      ]),
    ),
  );
  const t = r.trend;
  out.push(
    t.slopePerMonth === null
      ? `Trend: insufficient data (${t.months} complete month${t.months === 1 ? '' : 's'}; target: trending down)`
      : `Trend: ${t.direction} (${t.slopePerMonth >= 0 ? '+' : ''}${t.slopePerMonth.toFixed(2)} incidents/month over ${t.months} complete months; target: trending down, ${t.met ? 'met' : 'MISSED'})`,
  );
  out.push('');
  out.push(
    `SLA breaches: ${r.breaches.total} in ${r.breaches.incidents} incident(s) (response ${r.breaches.byType.response}, resolution ${r.breaches.byType.resolution}; ${SEVERITIES.map((s) => `${s} ${r.breaches.bySeverity[s]}`).join(', ')})`,
  );
  for (const b of r.breaches.list)
    out.push(`  ${cot(b.at)}  ${b.severity}  ${b.type.padEnd(10)}  ${b.incidentId}  ${b.title}`);
  out.push('');
  out.push(`Overdue post-mortems (6.1): ${r.overduePostmortems.length}`);
  for (const p of r.overduePostmortems)
    out.push(
      `  ${p.severity}  due ${cot(p.dueAt)}  overdue ${formatSeconds(p.overdueSeconds)}  owner ${p.owner}  ${p.incidentId}  ${p.title}${p.escalatedAt ? '  (escalated)' : ''}`,
    );
  out.push(`Overdue action items (6.3): ${r.overdueActionItems.length}`);
  for (const a of r.overdueActionItems)
    out.push(
      `  ${a.id}  due ${a.dueDate}  overdue ${formatSeconds(a.overdueSeconds)}  owner ${a.owner}  ${a.incidentId}  ${a.title}`,
    );
  return out.join('\n');
}
