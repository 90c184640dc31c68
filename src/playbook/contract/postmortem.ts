// The vocabulary of a post-mortem (playbook 6.1-6.3): the workflow's id and input, the completion and its
// action items (6.3: each with an owner and a due date), and the shape the `postmortemStatus` query answers.
// Pure data and zod schemas: the incident's core starts a post-mortem from these names, the workflow and
// the ledger read the same shapes.
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../severity';
import type { PostmortemRequirement, PostmortemState } from './records';

export const POSTMORTEM_WORKFLOW_TYPE = 'postmortemWorkflow';
/** The workflow id the parent uses: one post-mortem per incident. */
export const postmortemWorkflowId = (incidentId: string): string => `postmortem-${incidentId}`;

const text = (max = 2000) => z.string().trim().min(1).max(max);
const actor = text(200);

export const postmortemInputSchema = z.object({
  incidentId: text(500),
  title: text(500),
  severity: z.enum(SEVERITIES),
  /** When the incident was resolved: the 6.1 timeline starts here. */
  resolvedAt: z.iso.datetime({ offset: true }),
  /** Divides every playbook duration, as for incidentWorkflow. Default 1. */
  timeScale: z.number().positive().max(10_000_000).optional(),
  /** Who writes the post-mortem: a role id (paged as that role) or a person. Default `eng-lead`. */
  owner: actor.optional(),
  /** Notification channels (as the incident policy names them). Default `['outbox']`. */
  channels: z.array(z.string().min(1).max(100)).min(1).max(10).optional(),
  /** Reminder timing; each field defaults to DEFAULT_POSTMORTEM_REMINDERS. */
  reminders: z
    .object({
      atFractions: z.array(z.number().gt(0).lt(1)).max(10).optional(),
      overdueRepeatHours: z.number().positive().nullable().optional(),
      actionItemBeforeDueHours: z.array(z.number().positive()).max(10).optional(),
      actionItemOverdueRepeatHours: z.number().positive().nullable().optional(),
    })
    .strict()
    .optional(),
});
export type PostmortemInput = z.infer<typeof postmortemInputSchema>;

/**
 * YYYY-MM-DD, a real calendar day. Not `z.iso.date()`: in the webpack workflow bundle it resolves to
 * `z.date()` (a Date object schema) and rejects every string.
 */
function calendarDate(message: string) {
  return z
    .string({ error: message })
    .regex(/^\d{4}-\d{2}-\d{2}$/, { message, abort: true })
    .refine((v) => {
      const [y, m, d] = v.split('-').map(Number) as [number, number, number];
      const t = new Date(Date.UTC(y, m - 1, d));
      return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
    }, message);
}

// 6.3 "All post-mortem action items must be: assigned to a specific owner, given a due date".
export const actionItemSchema = z.object({
  title: text(500),
  owner: z
    .string({ error: '6.3: every action item must be assigned to a specific owner' })
    .trim()
    .min(1, '6.3: every action item must be assigned to a specific owner')
    .max(200),
  dueDate: calendarDate('6.3: every action item must be given a due date (YYYY-MM-DD)'),
});
export type ActionItemInput = z.infer<typeof actionItemSchema>;

export const completePostmortemSchema = z.object({
  by: actor,
  documentUrl: z
    .url({ protocol: /^https?$/, error: 'documentUrl must be an http(s) link to the post-mortem document' })
    .max(2000),
  actionItems: z.array(actionItemSchema).max(100),
});
export type CompletePostmortemInput = z.infer<typeof completePostmortemSchema>;

export const actionItemDoneSchema = z
  .object({
    by: actor,
    /** 0-based position in the completion's list, or */
    index: z.number().int().min(0).optional(),
    /** the item id ("AI-1"). */
    id: text(50).optional(),
    note: z.string().max(2000).optional(),
  })
  .refine((v) => (v.index === undefined) !== (v.id === undefined), {
    message: 'give exactly one of index or id',
    path: ['index'],
  });
export type ActionItemDoneInput = z.infer<typeof actionItemDoneSchema>;

export interface PostmortemActionResult {
  accepted: true;
  status: PostmortemState;
  message: string;
}

export interface PostmortemEvent {
  at: string;
  actor: string;
  type: string;
  text: string;
  data?: Record<string, unknown>;
}

export interface ActionItemStatus {
  id: string;
  index: number;
  title: string;
  owner: string;
  dueDate: string;
  /** Real time the item falls due (end of dueDate COT, scaled). */
  dueAt: string;
  assignedAt: string | null;
  remindersSent: { step: string; at: string }[];
  overdueEscalatedAt: string | null;
  doneAt: string | null;
  doneBy: string | null;
}

export interface PostmortemStatus {
  incidentId: string;
  title: string;
  severity: Severity;
  requirement: PostmortemRequirement;
  /** 6.1 "Timeline" label, e.g. "Within 48 hours". */
  timeline: string;
  status: PostmortemState;
  owner: string;
  timeScale: number;
  resolvedAt: string;
  dueAt: string | null;
  /** Scheduled reminders before the deadline, with when each was sent (or skipped as stale). */
  reminders: { step: string; at: string; sentAt: string | null; skipped: boolean }[];
  overdueEscalatedAt: string | null;
  overdueRepeats: number;
  completedAt: string | null;
  completedBy: string | null;
  documentUrl: string | null;
  actionItems: ActionItemStatus[];
  /** Every reminder, escalation, completion, rejected signal and failure, latest last (at most 500). */
  events: PostmortemEvent[];
}
