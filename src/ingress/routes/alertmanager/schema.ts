// Alertmanager webhook payload, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
// Required fields are validated; unknown and newer fields are tolerated (loose objects).
import { z } from 'zod';
import { alertLabels, senderTime, stringMap } from '../../normalize';

export const alertmanagerAlertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: alertLabels(),
  annotations: stringMap().default({}),
  startsAt: senderTime,
  /** Firing alerts carry Go's zero time `0001-01-01T00:00:00Z`. */
  endsAt: senderTime.optional(),
  generatorURL: z.string().max(4096).optional(),
  fingerprint: z.string().min(1).max(200).optional(),
});

export const alertmanagerBodySchema = (maxAlerts: number) =>
  z.looseObject({
    version: z.literal('4', { error: 'only the Alertmanager webhook version "4" is understood' }),
    groupKey: z.string().max(16_384),
    /** How many alerts the sender left out (its max_alerts). */
    truncatedAlerts: z.number().int().min(0).default(0),
    status: z.enum(['firing', 'resolved']),
    receiver: z.string().max(1000),
    groupLabels: stringMap().default({}),
    commonLabels: stringMap().default({}),
    commonAnnotations: stringMap().default({}),
    externalURL: z.string().max(4096).default(''),
    /** Newer Alertmanager fields, passed through for context. */
    notification_reason: z.string().max(200).optional(),
    routeLabels: stringMap().optional(),
    alerts: z
      .array(alertmanagerAlertSchema)
      .min(1)
      .max(maxAlerts, `at most ${maxAlerts} alerts per request (set max_alerts on the receiver)`),
  });

export type AlertmanagerBody = z.output<ReturnType<typeof alertmanagerBodySchema>>;
