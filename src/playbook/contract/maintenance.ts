// The contract of a maintenance window (DESIGN "Maintenance windows"): matchers in Alertmanager's silence
// syntax over alert labels and incident fields, a start (now or later), an end, a reason and who made it; its
// Updates `extend` and `end`, and its `status`.
import { z } from 'zod';
import { actor, isoTime, str, text } from './fields';

export const MAINTENANCE_WORKFLOW_TYPE = 'maintenanceWindow';
export const maintenanceWorkflowId = (id: string): string => `maintenance-${id}`;

export const MATCHER_OPS = ['=', '!=', '=~', '!~'] as const;
export type MatcherOp = (typeof MATCHER_OPS)[number];

/** Longest a window may last: a window is planned work, not a way to mute a service for good. */
export const MAX_WINDOW_MS = 7 * 24 * 3600 * 1000;

/**
 * One matcher. `name`: `alertname`, `service`, `severity` (the playbook severity the alert routes to), `kind`
 * (the incident kind) or any alert label. Regular expressions are anchored at both ends, as Alertmanager's.
 */
export const matcherSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a label name (letters, digits, _)'),
    op: z.enum(MATCHER_OPS),
    value: str().max(1000),
  })
  .superRefine((m, ctx) => {
    if (m.op !== '=~' && m.op !== '!~') return;
    try {
      new RegExp(`^(?:${m.value})$`);
    } catch (e) {
      ctx.addIssue({
        code: 'custom',
        path: ['value'],
        message: `invalid regular expression: ${(e as Error).message}`,
      });
    }
  });
export type Matcher = z.output<typeof matcherSchema>;

/** The window's start input (DESIGN): `{matchers, startsAt?, endsAt, reason, by}`. */
export const windowInputSchema = z
  .object({
    matchers: z.array(matcherSchema).min(1, 'a window needs at least one matcher').max(20),
    startsAt: isoTime.optional(),
    endsAt: isoTime,
    reason: text(1000),
    by: actor,
  })
  .superRefine((w, ctx) => {
    const start = w.startsAt ? Date.parse(w.startsAt) : null;
    const end = Date.parse(w.endsAt);
    if (start !== null && end <= start)
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'endsAt must be after startsAt' });
    if (start !== null && end - start > MAX_WINDOW_MS)
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'a window lasts at most 7 days' });
    // A window that silences everything would hide every incident: at least one matcher must be an equality
    // or a regular expression that does not match the empty string.
    if (w.matchers.length > 0 && w.matchers.every(matchesNothingInParticular))
      ctx.addIssue({
        code: 'custom',
        path: ['matchers'],
        message:
          'the matchers would silence every alert: give at least one `=` (or a `=~` that needs some text)',
      });
  });
export type WindowInput = z.output<typeof windowInputSchema>;

/** A matcher that holds for an alert without that label (so alone it would not narrow the window). */
function matchesNothingInParticular(m: Matcher): boolean {
  if (m.op === '!=' || m.op === '!~') return true;
  if (m.op === '=') return m.value === '';
  try {
    return new RegExp(`^(?:${m.value})$`).test('');
  } catch {
    return false; // reported on the matcher itself
  }
}

export const extendSchema = z.object({ endsAt: isoTime, by: actor });
export const endSchema = z.object({ by: actor, reason: text(1000).optional() });
