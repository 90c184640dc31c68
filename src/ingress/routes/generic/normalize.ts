import type { Alert } from '../../../workflows/definitions';
import { compact, toAlert } from '../../normalize';
import type { GenericBody } from './schema';

export function normalizeGeneric(body: GenericBody): Alert[] {
  return body.alerts.map((a) => {
    const labels: Record<string, string> = { ...a.labels, alertname: a.name };
    if (a.severity !== undefined) labels.severity = a.severity;
    const annotations: Record<string, string> = { ...a.annotations };
    if (a.summary !== undefined) annotations.summary = a.summary;
    if (a.description !== undefined) annotations.description = a.description;
    return compact(
      toAlert({
        name: a.name,
        status: a.status,
        labels,
        annotations,
        startsAt: a.startsAt,
        endsAt: a.endsAt,
        fingerprint: a.fingerprint,
        severity: a.severity,
        summary: a.summary,
        source: body.source,
      }),
    );
  });
}
