// Alertmanager webhook payload, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
// Only what the ingress reads is checked, and only for its type: no alerts, no alert name
// or a wrong type is a 400; sizes are never a reason to refuse (src/ingress/normalize.ts truncates). Unknown,
// newer and unused fields (receiver, groupKey, groupLabels, commonLabels, externalURL...) pass unchecked.
import { z } from 'zod';
import { alertLabels, senderTime, stringMap } from '../../normalize';

export const alertmanagerAlertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: alertLabels(),
  annotations: stringMap().default({}),
  startsAt: senderTime.optional(),
  /** Firing alerts carry Go's zero time `0001-01-01T00:00:00Z`. */
  endsAt: senderTime.optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
});

/** How many alerts the sender left out (its max_alerts); a nonsense count reads as 0. */
export const truncatedAlertsCount = z
  .number()
  .default(0)
  .transform((n) => (Number.isFinite(n) && n > 0 ? Math.floor(n) : 0));

export const alertmanagerBodySchema = z.looseObject({
  version: z.literal('4', { error: 'only the Alertmanager webhook version "4" is understood' }),
  truncatedAlerts: truncatedAlertsCount,
  /** Any number: past INGRESS_MAX_ALERTS_PER_REQUEST the rest are folded into their incidents (dispatch.ts). */
  alerts: z.array(alertmanagerAlertSchema).min(1),
});

export type AlertmanagerBody = z.output<typeof alertmanagerBodySchema>;
