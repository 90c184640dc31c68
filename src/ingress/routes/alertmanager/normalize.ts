import { fromPrometheusAlert, type NormalizedAlert } from '../../normalize';
import type { AlertmanagerBody } from './schema';

export function normalizeAlertmanager(body: AlertmanagerBody): NormalizedAlert[] {
  return body.alerts.map((a) => {
    const annotations: Record<string, string> = { ...a.annotations };
    if (a.generatorURL && annotations.generatorURL === undefined) annotations.generatorURL = a.generatorURL;
    return fromPrometheusAlert(a, annotations, 'alertmanager');
  });
}
