// Ledger writes. Every write is one idempotent statement (or one transaction of them) keyed so that
// repeating it changes nothing: INSERT ... ON CONFLICT DO NOTHING for append-only rows, and for rows that
// evolve, ON CONFLICT DO UPDATE guarded by a monotonic `version` and by "the values differ", so a repeated
// or stale write neither changes a value nor bumps `updated_at`.
import type pg from 'pg';
import type { Notification } from '../playbook/contract/notification';
import type { IncidentStatus, TimelineEvent } from '../playbook/contract/incident';
import type { ActionItemRecord, ApprovalRecord, PostmortemRecord } from '../playbook/contract/records';

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** One `pages` row: a notification delivered on one channel. */
export interface PageRow {
  channel: string;
  idempotencyKey: string;
  incidentId: string;
  step: string;
  target: string;
  kind: string;
  severity: string;
  template: string | null;
  ref: string | null;
  /** Workflow time the message was composed (ISO). */
  createdAt: string;
  deliveredAt: string;
  /** The incident's title, for the row a page creates when the incident has none yet (older spools lack it). */
  title?: string;
}

export function pageRow(channel: string, n: Notification, deliveredAt: string, ref?: string): PageRow {
  return {
    channel,
    idempotencyKey: n.idempotencyKey,
    incidentId: n.incidentId,
    step: n.step,
    target: n.target,
    kind: n.kind,
    severity: n.severity,
    template: n.template ?? null,
    ref: ref ?? null,
    createdAt: n.createdAt,
    deliveredAt,
    title: n.title,
  };
}

const KIND_IN_WORKFLOW_ID =
  /^incident-(trading-system-down|model-degradation|data-source-down|database-connection|monitoring-gap)-[0-9a-f]{16}@/;

/**
 * The incident row a delivered page guarantees: an incident that paged someone is in the ledger by the time
 * its page is, even if the workflow never got to write its own row (terminated right after opening, or the
 * ledger away until then). Version -1: the workflow's first real write (version >= 0) replaces it whole.
 */
function stubIncidentRows(rows: PageRow[]) {
  const first = new Map<string, PageRow>();
  for (const r of rows) {
    const had = first.get(r.incidentId);
    if (!had || Date.parse(r.deliveredAt) < Date.parse(had.deliveredAt)) first.set(r.incidentId, r);
  }
  return [...first.values()].map((r) => ({
    id: r.incidentId,
    title: r.title ?? r.incidentId,
    // The ingress's workflow ids name the kind; anything else is recorded as generic until the real write.
    kind: KIND_IN_WORKFLOW_ID.exec(r.incidentId)?.[1] ?? 'generic',
    severity: r.severity,
    openedAt: r.createdAt,
    firstPagedAt: r.deliveredAt,
  }));
}

/** `INSERT ... ON CONFLICT (key) DO UPDATE ... WHERE newer-or-equal version AND values differ`. */
function versionedUpsert(table: string, key: string[], cols: string[]): string {
  const values = cols.map((_, i) => `$${i + 1}`).join(', ');
  const mutable = cols.filter((c) => !key.includes(c) && c !== 'version');
  return `INSERT INTO ${table} (${cols.join(', ')}) VALUES (${values})
    ON CONFLICT (${key.join(', ')}) DO UPDATE SET
      ${[...mutable, 'version'].map((c) => `${c} = EXCLUDED.${c}`).join(', ')}, updated_at = now()
    WHERE ${table}.version <= EXCLUDED.version
      AND (${mutable.map((c) => `${table}.${c}`).join(', ')}) IS DISTINCT FROM (${mutable.map((c) => `EXCLUDED.${c}`).join(', ')})`;
}

const INCIDENT_COLS = [
  'id',
  'title',
  'kind',
  'severity',
  'highest_severity',
  'status',
  'summary',
  'source_system',
  'opened_at',
  'detected_at',
  'first_paged_at',
  'acknowledged_at',
  'acknowledged_by',
  'resolved_at',
  'resolved_by',
  'closed_at',
  'mttd_seconds',
  'mtta_seconds',
  'mttr_seconds',
  'time_scale',
  'response_deadline',
  'resolution_deadline',
  'response_breached_at',
  'resolution_breached_at',
  'breaches',
  'loss_usd',
  'financial_impact_usd',
  'missed_trades',
  'trading_downtime_minutes',
  'root_cause',
  'resolution',
  'reopen_count',
  'engaged_roles',
  'policy_version',
  'version',
  'snapshot',
];
const UPSERT_INCIDENT = versionedUpsert('incidents', ['id'], INCIDENT_COLS);

const POSTMORTEM_COLS = [
  'incident_id',
  'workflow_id',
  'title',
  'severity',
  'requirement',
  'status',
  'owner',
  'resolved_at',
  'due_at',
  'time_scale',
  'reminders_sent',
  'overdue_escalated_at',
  'completed_at',
  'completed_by',
  'document_url',
  'version',
];
const UPSERT_POSTMORTEM = versionedUpsert('postmortems', ['incident_id'], POSTMORTEM_COLS);

const ACTION_ITEM_COLS = [
  'incident_id',
  'item_index',
  'id',
  'title',
  'owner',
  'due_date',
  'due_at',
  'assigned_at',
  'reminders_sent',
  'overdue_escalated_at',
  'done_at',
  'done_by',
  'version',
];
const UPSERT_ACTION_ITEM = versionedUpsert('action_items', ['incident_id', 'item_index'], ACTION_ITEM_COLS);

export class LedgerStore {
  constructor(private readonly db: pg.Pool) {}

  /** Insert or update the incident row from a `status` snapshot. `changed` is false for a repeated or stale write. */
  async upsertIncident(s: IncidentStatus, version = 0): Promise<{ changed: boolean }> {
    const r = s.resolution;
    const values = [
      s.incidentId,
      s.title,
      s.kind,
      s.severity,
      // A snapshot from before highestSeverity existed: the final severity is all it knows.
      s.highestSeverity ?? s.severity,
      s.status,
      s.summary,
      s.source?.system ?? null,
      s.openedAt,
      s.detectedAt,
      s.firstPagedAt,
      s.acknowledgedAt,
      s.acknowledgedBy,
      s.resolvedAt,
      s.resolvedBy,
      s.closedAt,
      s.metrics.mttdSeconds,
      s.metrics.mttaSeconds,
      s.metrics.mttrSeconds,
      s.timeScale,
      s.sla.responseDeadline,
      s.sla.resolutionDeadline,
      s.sla.responseBreachedAt,
      s.sla.resolutionBreachedAt,
      JSON.stringify(s.breaches),
      s.lossUsd,
      r?.financialImpactUsd ?? null,
      r?.missedTrades ?? null,
      r?.tradingDowntimeMinutes ?? null,
      r?.rootCause ?? null,
      r?.resolution ?? null,
      s.reopenCount,
      s.engagedRoles,
      s.policyVersion,
      version,
      JSON.stringify(s),
    ];
    const res = await this.db.query(UPSERT_INCIDENT, values);
    return { changed: (res.rowCount ?? 0) > 0 };
  }

  /**
   * Append timeline events; `events[i]` is the incident's event number `fromSeq + i` (its index in the
   * workflow's timeline). An event already stored is skipped, so re-sending a range is harmless.
   */
  async appendEvents(
    incidentId: string,
    fromSeq: number,
    events: TimelineEvent[],
  ): Promise<{ inserted: number }> {
    if (events.length === 0) return { inserted: 0 };
    const rows = events.map((e, i) => ({
      seq: fromSeq + i,
      at: e.at,
      actor: e.actor,
      type: e.type,
      text: e.text,
      data: e.data ?? null,
    }));
    const res = await this.db.query(
      `INSERT INTO incident_events (incident_id, seq, at, actor, type, text, data)
       SELECT $1, e.seq, e.at, e.actor, e.type, e.text, e.data
         FROM jsonb_to_recordset($2::jsonb) AS e(seq integer, at timestamptz, actor text, type text, text text, data jsonb)
       ON CONFLICT (incident_id, seq) DO NOTHING`,
      [incidentId, JSON.stringify(rows)],
    );
    return { inserted: res.rowCount ?? 0 };
  }

  /** One delivered notification on one channel; the (channel, idempotency key) pair is stored once. */
  async recordPage(
    channel: string,
    n: Notification,
    deliveredAt: string,
    ref?: string,
  ): Promise<{ inserted: boolean }> {
    const { inserted } = await this.recordPages([pageRow(channel, n, deliveredAt, ref)]);
    return { inserted: inserted > 0 };
  }

  /** Delivered notifications in one statement; rows already stored (same channel and key) are skipped. */
  async recordPages(rows: PageRow[]): Promise<{ inserted: number }> {
    if (rows.length === 0) return { inserted: 0 };
    await this.db.query(
      `INSERT INTO incidents (id, title, kind, severity, highest_severity, status, opened_at, detected_at,
                              first_paged_at, version, snapshot)
       SELECT s.id, s.title, s.kind, s.severity, s.severity, 'triggered', s."openedAt", s."openedAt",
              s."firstPagedAt", -1, jsonb_build_object('stub', true, 'from', 'first delivered page')
         FROM jsonb_to_recordset($1::jsonb) AS s(id text, title text, kind text, severity text,
              "openedAt" timestamptz, "firstPagedAt" timestamptz)
       ON CONFLICT (id) DO NOTHING`,
      [JSON.stringify(stubIncidentRows(rows))],
    );
    const res = await this.db.query(
      `INSERT INTO pages (channel, idempotency_key, incident_id, step, target, kind, severity, template, ref, created_at, delivered_at)
       SELECT p.channel, p."idempotencyKey", p."incidentId", p.step, p.target, p.kind, p.severity, p.template, p.ref,
              p."createdAt", p."deliveredAt"
         FROM jsonb_to_recordset($1::jsonb) AS p(channel text, "idempotencyKey" text, "incidentId" text, step text,
              target text, kind text, severity text, template text, ref text, "createdAt" timestamptz,
              "deliveredAt" timestamptz)
       ON CONFLICT (channel, idempotency_key) DO NOTHING`,
      [JSON.stringify(rows)],
    );
    return { inserted: res.rowCount ?? 0 };
  }

  /**
   * An approval request and/or its decision. Request fields keep their first stored value; the first
   * decision wins (a later, different decision is ignored: the gate closed once).
   */
  async recordApproval(incidentId: string, a: ApprovalRecord): Promise<{ changed: boolean }> {
    const keep = (c: string) => `COALESCE(approvals.${c}, EXCLUDED.${c})`;
    const decision = (c: string) =>
      `CASE WHEN approvals.outcome IS NULL THEN EXCLUDED.${c} ELSE approvals.${c} END`;
    const request = ['action', 'description', 'requested_at', 'expires_at', 'requires_confirmation_code'];
    const decided = ['outcome', 'decided_by', 'decided_at', 'reason'];
    const res = await this.db.query(
      `INSERT INTO approvals (incident_id, action_id, action, description, requested_at, expires_at, requires_confirmation_code,
                              outcome, decided_by, decided_at, reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
       ON CONFLICT (incident_id, action_id) DO UPDATE SET
         ${[...request.map((c) => `${c} = ${keep(c)}`), ...decided.map((c) => `${c} = ${decision(c)}`)].join(', ')},
         updated_at = now()
       WHERE (${[...request, ...decided].map((c) => `approvals.${c}`).join(', ')})
             IS DISTINCT FROM (${[...request.map(keep), ...decided.map(decision)].join(', ')})`,
      [
        incidentId,
        a.actionId,
        a.action ?? null,
        a.description ?? null,
        a.requestedAt ?? null,
        a.expiresAt ?? null,
        a.requiresConfirmationCode ?? null,
        a.outcome ?? null,
        a.outcome ? (a.decidedBy ?? null) : null,
        a.outcome ? (a.decidedAt ?? new Date().toISOString()) : null,
        a.outcome ? (a.reason ?? null) : null,
      ],
    );
    return { changed: (res.rowCount ?? 0) > 0 };
  }

  async recordPostmortem(p: PostmortemRecord): Promise<{ changed: boolean }> {
    const res = await this.db.query(UPSERT_POSTMORTEM, postmortemValues(p));
    return { changed: (res.rowCount ?? 0) > 0 };
  }

  /** The post-mortem row and its action items in one transaction (the items reference the row). */
  async recordPostmortemWithItems(
    p: PostmortemRecord,
    items: ActionItemRecord[],
  ): Promise<{ changed: number }> {
    return this.transaction(async (c) => {
      let changed = (await c.query(UPSERT_POSTMORTEM, postmortemValues(p))).rowCount ?? 0;
      changed += await upsertItems(c, p.incidentId, p.version, items);
      return { changed };
    });
  }

  private async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.db.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {
        broken = true; // the connection is gone (killed backend): do not return it to the pool
      });
      throw err;
    } finally {
      client.release(broken || undefined);
    }
  }
}

function postmortemValues(p: PostmortemRecord): unknown[] {
  return [
    p.incidentId,
    p.workflowId,
    p.title,
    p.severity,
    p.requirement,
    p.status,
    p.owner,
    p.resolvedAt,
    p.dueAt,
    p.timeScale,
    p.remindersSent,
    p.overdueEscalatedAt,
    p.completedAt,
    p.completedBy,
    p.documentUrl,
    p.version,
  ];
}

async function upsertItems(
  c: Queryable,
  incidentId: string,
  version: number,
  items: ActionItemRecord[],
): Promise<number> {
  let changed = 0;
  for (const i of items) {
    const res = await c.query(UPSERT_ACTION_ITEM, [
      incidentId,
      i.index,
      i.id,
      i.title,
      i.owner,
      i.dueDate,
      i.dueAt,
      i.assignedAt,
      i.remindersSent,
      i.overdueEscalatedAt,
      i.doneAt,
      i.doneBy,
      version,
    ]);
    changed += res.rowCount ?? 0;
  }
  return changed;
}
