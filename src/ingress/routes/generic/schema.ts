// The generic alert schema for any other sender (docs/alerting.md). Strict: a misspelt field is a 400
// naming it, not a silently dropped value.
import { z } from 'zod';
import { senderTime, stringMap } from '../../normalize';

export const genericAlertSchema = z.strictObject({
  /** Alert name, matched by the routing rules (like Prometheus' alertname). */
  name: z.string().trim().min(1).max(300),
  status: z.enum(['firing', 'resolved']).default('firing'),
  /** critical | warning | info | none (unknown alerts are classified by it); stored as labels.severity. */
  severity: z.string().trim().min(1).max(50).optional(),
  summary: z.string().max(4000).optional(),
  description: z.string().max(16_384).optional(),
  /** Grouping labels such as service/job make the dedup key. */
  labels: stringMap().default({}),
  annotations: stringMap().default({}),
  startsAt: senderTime.optional(),
  endsAt: senderTime.optional(),
  /** Stable identity of this alert instance; default: hash of name + labels. */
  fingerprint: z.string().trim().min(1).max(200).optional(),
});

export const genericBodySchema = (maxAlerts: number) =>
  z.strictObject({
    /** Who sends (e.g. "uptime-kuma"); recorded as the alert source. */
    source: z.string().trim().min(1).max(100).default('generic'),
    alerts: z.array(genericAlertSchema).min(1).max(maxAlerts, `at most ${maxAlerts} alerts per request`),
  });

export type GenericBody = z.output<ReturnType<typeof genericBodySchema>>;
