// The generic alert schema for any other sender (docs/alerting.md). Only `alerts[].name` is required; the
// known fields are checked for their type; sizes are truncated, never refused. An unknown field (a typo such
// as `sevrity`) is not a reason to drop the alert either: it is ignored, named in the answer's `notes` and
// on the alert (`ingress.ignored`), so the sender's owner can see it.
import { z } from 'zod';
import { senderTime, stringMap } from '../../normalize';

export const GENERIC_ALERT_FIELDS = [
  'name',
  'status',
  'severity',
  'summary',
  'description',
  'labels',
  'annotations',
  'startsAt',
  'endsAt',
  'fingerprint',
] as const;

export const genericAlertSchema = z.looseObject({
  /** Alert name, matched by the routing rules (like Prometheus' alertname). */
  name: z.string().trim().min(1, 'required: the alert name'),
  status: z.enum(['firing', 'resolved']).default('firing'),
  /** critical | warning | info | none (unknown alerts are classified by it); stored as labels.severity. */
  severity: z.string().optional(),
  summary: z.string().optional(),
  description: z.string().optional(),
  /** Grouping labels such as service/job make the dedup key. */
  labels: stringMap().default({}),
  annotations: stringMap().default({}),
  startsAt: senderTime.optional(),
  endsAt: senderTime.optional(),
  /** Stable identity of this alert instance; default: hash of name + labels. */
  fingerprint: z.string().optional(),
});

export const genericBodySchema = z.looseObject({
  /** Who sends (e.g. "uptime-kuma"); recorded as the alert source. */
  source: z
    .string()
    .optional()
    .transform((s) => (s && s.trim() ? s.trim() : 'generic')),
  alerts: z.array(genericAlertSchema).min(1),
});

export type GenericBody = z.output<typeof genericBodySchema>;
