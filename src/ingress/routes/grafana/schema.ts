// Grafana Alerting webhook payload (contact point "Webhook", payload version "1"). Unknown fields tolerated.
import { z } from 'zod';
import { alertLabels, senderTime, stringMap } from '../../normalize';

export const grafanaAlertSchema = z.looseObject({
  status: z.enum(['firing', 'resolved']),
  labels: alertLabels(),
  annotations: stringMap().default({}),
  startsAt: senderTime,
  endsAt: senderTime.optional(),
  values: z.record(z.string().max(256), z.number().nullable()).nullable().optional(),
  valueString: z.string().max(16_384).optional(),
  generatorURL: z.string().max(4096).optional(),
  fingerprint: z.string().min(1).max(200).optional(),
  silenceURL: z.string().max(4096).optional(),
  dashboardURL: z.string().max(4096).optional(),
  panelURL: z.string().max(4096).optional(),
  imageURL: z.string().max(4096).optional(),
});

export const grafanaBodySchema = (maxAlerts: number) =>
  z.looseObject({
    version: z.literal('1', { error: 'only the Grafana webhook payload version "1" is understood' }),
    status: z.enum(['firing', 'resolved']),
    orgId: z.number().int().optional(),
    receiver: z.string().max(1000).optional(),
    groupKey: z.string().max(16_384).optional(),
    truncatedAlerts: z.number().int().min(0).default(0),
    groupLabels: stringMap().default({}),
    commonLabels: stringMap().default({}),
    commonAnnotations: stringMap().default({}),
    externalURL: z.string().max(4096).optional(),
    title: z.string().max(4096).optional(),
    state: z.string().max(100).optional(),
    message: z.string().max(65_536).optional(),
    alerts: z
      .array(grafanaAlertSchema)
      .min(1)
      .max(maxAlerts, `at most ${maxAlerts} alerts per request (set Max Alerts on the contact point)`),
  });

export type GrafanaBody = z.output<ReturnType<typeof grafanaBodySchema>>;
