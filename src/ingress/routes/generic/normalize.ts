import { toAlert, type NormalizedAlert } from '../../normalize';
import { GENERIC_ALERT_FIELDS, type GenericBody } from './schema';

const KNOWN: ReadonlySet<string> = new Set(GENERIC_ALERT_FIELDS);
const BODY_FIELDS: ReadonlySet<string> = new Set(['source', 'alerts']);

export function normalizeGeneric(body: GenericBody): NormalizedAlert[] {
  const unknownInBody = Object.keys(body)
    .filter((k) => !BODY_FIELDS.has(k))
    .map((k) => `body.${k}`);
  return body.alerts.map((a) => {
    const labels: Record<string, string> = { ...a.labels, alertname: a.name };
    if (a.severity !== undefined) labels.severity = a.severity;
    const annotations: Record<string, string> = { ...a.annotations };
    if (a.summary !== undefined) annotations.summary = a.summary;
    if (a.description !== undefined) annotations.description = a.description;
    return toAlert({
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
      unknownFields: [...unknownInBody, ...Object.keys(a).filter((k) => !KNOWN.has(k))],
    });
  });
}
