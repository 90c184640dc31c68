// What the workflows hand the ledger (PostgreSQL, 6.4 metrics) to write: the incident's batched writes, the
// approval gates' records and the post-mortem's rows. Types only: the workflows and the core build them, the
// ledger activities write them.
import type { Severity } from '../severity';
import type { IncidentStatus, TimelineEvent } from './incident';

export type PostmortemRequirement = 'mandatory' | 'recommended' | 'none';
/**
 * open: waiting for the document · overdue: 6.1 deadline passed, still waiting · tracking: completed, action
 * items open · done: completed, every action item done · not-required: P3 · lapsed: a recommended (P2)
 * post-mortem whose window passed without one.
 */
export type PostmortemState = 'open' | 'overdue' | 'tracking' | 'done' | 'not-required' | 'lapsed';

export interface PostmortemRecord {
  incidentId: string;
  workflowId: string;
  title: string;
  severity: Severity;
  requirement: PostmortemRequirement;
  status: PostmortemState;
  owner: string;
  /** ISO times; dueAt is real time (resolvedAt + the 6.1 timeline / timeScale). */
  resolvedAt: string;
  dueAt: string | null;
  timeScale: number;
  remindersSent: number;
  overdueEscalatedAt: string | null;
  completedAt: string | null;
  completedBy: string | null;
  documentUrl: string | null;
  /** Monotonic: a write with a lower version than the stored row is ignored. */
  version: number;
}

export interface ActionItemRecord {
  /** "AI-1", "AI-2", ... */
  id: string;
  /** 0-based position in the completion's list. */
  index: number;
  title: string;
  owner: string;
  /** YYYY-MM-DD as given (COT calendar date). */
  dueDate: string;
  /** ISO, real time the item falls due (scaled). */
  dueAt: string;
  assignedAt: string | null;
  remindersSent: number;
  overdueEscalatedAt: string | null;
  doneAt: string | null;
  doneBy: string | null;
}

export type ApprovalOutcome = 'approved' | 'rejected' | 'pre-approved' | 'withdrawn' | 'expired';

/** An approval gate's request and/or decision; fields absent are left as stored. */
export interface ApprovalRecord {
  actionId: string;
  action?: string;
  description?: string;
  requestedAt?: string;
  expiresAt?: string | null;
  requiresConfirmationCode?: boolean;
  outcome?: ApprovalOutcome;
  decidedBy?: string;
  decidedAt?: string;
  reason?: string;
}

export type LedgerApproval = ApprovalRecord;

/** One ledger write: the timeline events from `fromSeq` (absolute) and the incident row at `upTo`. */
export interface LedgerWrite {
  incidentId: string;
  fromSeq: number;
  events: TimelineEvent[];
  snapshot: IncidentStatus;
  upTo: number;
}
