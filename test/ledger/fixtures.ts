// IncidentStatus snapshots as incidentWorkflow's `status` query returns them, for ledger and report tests.
import type { IncidentStatus } from '../../src/playbook/contract/incident';

const at = (iso: string, plusSeconds: number | null): string | null =>
  plusSeconds === null ? null : new Date(Date.parse(iso) + plusSeconds * 1000).toISOString();

export interface SnapshotSpec {
  id: string;
  severity?: IncidentStatus['severity'];
  status?: IncidentStatus['status'];
  /** Opening time (ISO). */
  openedAt: string;
  /** Metrics in playbook seconds (timeScale 1 here, so also real seconds); null: not happened yet. */
  mttd?: number | null;
  mtta?: number | null;
  mttr?: number | null;
  breaches?: IncidentStatus['breaches'];
  lossUsd?: number;
}

export function snapshot(spec: SnapshotSpec): IncidentStatus {
  const { openedAt } = spec;
  const severity = spec.severity ?? 'P1';
  const mttd = spec.mttd ?? 0;
  const mtta = spec.mtta ?? null;
  const mttr = spec.mttr ?? null;
  // Paged when opened; detected `mttd` seconds before.
  const firstPagedAt = openedAt;
  const resolvedAt = at(firstPagedAt, mttr);
  const status = spec.status ?? (mttr !== null ? 'closed' : mtta !== null ? 'acknowledged' : 'triggered');
  return {
    incidentId: spec.id,
    workflowId: spec.id,
    title: `Incident ${spec.id}`,
    kind: 'generic',
    severity,
    highestSeverity: severity,
    status,
    summary: null,
    source: { system: 'test' },
    timeScale: 1,
    openedAt,
    detectedAt: at(openedAt, -(mttd ?? 0))!,
    firstPagedAt,
    acknowledgedBy: mtta === null ? null : 'alice',
    acknowledgedAt: at(firstPagedAt, mtta),
    resolvedBy: mttr === null ? null : 'alice',
    resolvedAt,
    closedAt: status === 'closed' ? at(resolvedAt!, 1800) : null,
    reopenUntil: null,
    reopenCount: 0,
    engagedRoles: ['oncall-primary'],
    engagements: [{ role: 'oncall-primary', at: openedAt, step: `escalate-${severity}-0m` }],
    nextEscalation: null,
    pendingApprovals: [],
    sla: {
      responseDeadline: at(openedAt, 300)!,
      resolutionDeadline: at(openedAt, 1800)!,
      responseBreachedAt: spec.breaches?.find((b) => b.type === 'response')?.at ?? null,
      resolutionBreachedAt: spec.breaches?.find((b) => b.type === 'resolution')?.at ?? null,
    },
    breaches: spec.breaches ?? [],
    metrics: { mttdSeconds: spec.mttd === undefined ? 0 : spec.mttd, mttaSeconds: mtta, mttrSeconds: mttr },
    alerts: { firing: 0, resolved: 0, received: 1, repeats: 0, lastSeenAt: null, active: [] },
    lossUsd: spec.lossUsd ?? 0,
    resolution:
      mttr === null
        ? null
        : {
            rootCause: 'disk full',
            resolution: 'freed space',
            financialImpactUsd: null,
            missedTrades: null,
            tradingDowntimeMinutes: null,
          },
    policyVersion: 'test',
    lastUpdate: null,
    nextStatusUpdateDue: null,
    procedure: null,
    findings: [],
    postmortemWorkflowId: null,
  } as IncidentStatus;
}
