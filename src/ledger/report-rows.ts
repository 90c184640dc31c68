// Reads the ledger rows the report needs (src/ledger/report.ts computes, this file only loads).
import type pg from 'pg';
import type { ReportRows } from './report';

const isoOrNull = (v: Date | null): string | null => (v === null ? null : v.toISOString());

/** Incidents opened in [since, until), and every open post-mortem and action item. */
export async function loadReportRows(
  db: Pick<pg.Pool, 'query'>,
  sinceMs: number,
  untilMs: number,
): Promise<ReportRows> {
  const incidents = await db.query(
    // A row written by a worker that predates the column: its snapshot still says, else the final severity.
    `SELECT id, title, severity,
            COALESCE(highest_severity,
                     CASE WHEN snapshot->>'highestSeverity' IN ('P0', 'P1', 'P2', 'P3')
                          THEN snapshot->>'highestSeverity' END,
                     severity) AS highest_severity,
            status, opened_at, mttd_seconds, mtta_seconds, mttr_seconds, breaches, time_scale
       FROM incidents WHERE opened_at >= $1 AND opened_at < $2 ORDER BY opened_at`,
    [new Date(sinceMs), new Date(untilMs)],
  );
  const postmortems = await db.query(
    `SELECT incident_id, title, severity, requirement, status, owner, due_at, completed_at, overdue_escalated_at,
            time_scale
       FROM postmortems WHERE completed_at IS NULL ORDER BY due_at`,
  );
  const items = await db.query(
    `SELECT a.incident_id, a.id, a.title, a.owner, to_char(a.due_date, 'YYYY-MM-DD') AS due_date, a.due_at,
            a.done_at, p.time_scale
       FROM action_items a JOIN postmortems p USING (incident_id)
      WHERE a.done_at IS NULL ORDER BY a.due_at`,
  );
  return {
    incidents: incidents.rows.map((r) => ({
      id: r.id,
      title: r.title,
      severity: r.severity,
      highestSeverity: r.highest_severity,
      status: r.status,
      openedAt: (r.opened_at as Date).toISOString(),
      mttdSeconds: r.mttd_seconds,
      mttaSeconds: r.mtta_seconds,
      mttrSeconds: r.mttr_seconds,
      breaches: r.breaches,
      timeScale: r.time_scale,
    })),
    postmortems: postmortems.rows.map((r) => ({
      incidentId: r.incident_id,
      title: r.title,
      severity: r.severity,
      requirement: r.requirement,
      status: r.status,
      owner: r.owner,
      dueAt: isoOrNull(r.due_at),
      completedAt: isoOrNull(r.completed_at),
      overdueEscalatedAt: isoOrNull(r.overdue_escalated_at),
      timeScale: r.time_scale,
    })),
    actionItems: items.rows.map((r) => ({
      incidentId: r.incident_id,
      id: r.id,
      title: r.title,
      owner: r.owner,
      dueDate: r.due_date,
      dueAt: (r.due_at as Date).toISOString(),
      doneAt: isoOrNull(r.done_at),
      timeScale: r.time_scale,
    })),
  };
}
