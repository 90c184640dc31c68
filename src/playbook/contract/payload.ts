// Reading a raw payload before and after it is checked: who sent it, and what was wrong with it, in words a
// person can act on (the "rejected" timeline entry and the Update's error say the same).
import type { z } from 'zod';

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
