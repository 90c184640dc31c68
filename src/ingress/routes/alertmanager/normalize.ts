import type { Alert } from '../../../workflows/definitions';
import { compact, toAlert } from '../../normalize';
import type { AlertmanagerBody } from './schema';

export function normalizeAlertmanager(body: AlertmanagerBody): Alert[] {
  return body.alerts.map((a) => {
    const annotations: Record<string, string> = { ...a.annotations };
    if (a.generatorURL && annotations.generatorURL === undefined) annotations.generatorURL = a.generatorURL;
    return compact(
      toAlert({
        name: a.labels.alertname,
        status: a.status,
        labels: a.labels,
        annotations,
        startsAt: a.startsAt,
        endsAt: a.endsAt,
        fingerprint: a.fingerprint,
        source: 'alertmanager',
      }),
    );
  });
}
