// Small pure helpers shared by the workflows (deterministic: no I/O, no clock).
import * as wf from '@temporalio/workflow';
import type { z } from 'zod';

export const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
export const isoOf = (ms: number): string => new Date(ms).toISOString();

/** Who sent a payload, read defensively before it is validated (for the "rejected" timeline entry). */
export function actorOf(raw: unknown): string {
  if (typeof raw === 'object' && raw !== null && 'by' in raw && typeof raw.by === 'string' && raw.by.trim())
    return raw.by.slice(0, 200);
  return 'unknown';
}

/** zod issues as one line naming each offending field: "by: Invalid input; severity: ...". */
export function formatIssues(issues: z.core.$ZodIssue[]): string {
  return issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(payload)'}: ${i.message}`)
    .join('; ');
}

/** The message that explains a failure: an activity's cause rather than "Activity task failed". */
export function errorMessage(err: unknown): string {
  if (err instanceof wf.ActivityFailure && err.cause) return errorMessage(err.cause);
  if (err instanceof Error) return err.message;
  return String(err);
}
