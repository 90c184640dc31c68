// Grafana Alerting webhook payload (contact point "Webhook", payload version "1"). As for Alertmanager, only
// the fields the ingress reads are checked, for their type; sizes are truncated, never refused; unknown and
// unused fields (title, message, state, orgId, groupKey, externalURL...) pass unchecked.
import { z } from 'zod';
import { alertLabels, senderTime, stringMap } from '../../normalize';
import { truncatedAlertsCount } from '../alertmanager/schema';

export const grafanaAlertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: alertLabels(),
  annotations: stringMap().default({}),
  startsAt: senderTime.optional(),
  endsAt: senderTime.optional(),
  values: z.record(z.string(), z.number().nullable()).nullable().optional(),
  valueString: z.string().optional(),
  generatorURL: z.string().optional(),
  fingerprint: z.string().optional(),
  silenceURL: z.string().optional(),
  dashboardURL: z.string().optional(),
  panelURL: z.string().optional(),
  imageURL: z.string().optional(),
});

export const grafanaBodySchema = z.looseObject({
  version: z.literal('1', { error: 'only the Grafana webhook payload version "1" is understood' }),
  truncatedAlerts: truncatedAlertsCount,
  alerts: z.array(grafanaAlertSchema).min(1),
});

export type GrafanaBody = z.output<typeof grafanaBodySchema>;
