// POST /v1/incidents: open an incident by hand.
import { z } from 'zod';
import { SEVERITIES } from '../../../playbook/severity';
import { assessmentSchema, INCIDENT_KINDS } from '../../../playbook/contract/incident';
import { cleanText } from '../../text';

export const manualIncidentBodySchema = z
  .strictObject({
    // Invisible and direction-changing characters go before the length checks: a title of only those is empty.
    title: z.string().max(2000).transform(cleanText).pipe(z.string().trim().min(1).max(500)),
    /** Either a severity, or the 1.3 decision-tree answers to classify one. */
    severity: z.enum(SEVERITIES).optional(),
    assessment: assessmentSchema.strict().optional(),
    kind: z.enum(INCIDENT_KINDS).default('generic'),
    summary: z.string().max(4000).optional(),
    detectedAt: z.iso.datetime({ offset: true }).optional(),
    /** Who opens it (recorded as the source system `manual:<openedBy>`). */
    openedBy: z.string().trim().min(1).max(200).optional(),
    /** Retrying with the same key returns the same incident instead of opening a second one. */
    idempotencyKey: z.string().trim().min(1).max(200).optional(),
  })
  .refine((b) => b.severity !== undefined || b.assessment !== undefined, {
    path: ['severity'],
    message: 'give `severity` (P0..P3) or `assessment` (the 1.3 decision-tree answers)',
  });

export type ManualIncidentBody = z.output<typeof manualIncidentBodySchema>;
