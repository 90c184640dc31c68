import { fromPrometheusAlert, type NormalizedAlert } from '../../normalize';
import type { GrafanaBody } from './schema';

const LINKS = ['generatorURL', 'silenceURL', 'dashboardURL', 'panelURL', 'imageURL', 'valueString'] as const;

export function normalizeGrafana(body: GrafanaBody): NormalizedAlert[] {
  return body.alerts.map((a) => {
    const annotations: Record<string, string> = { ...a.annotations };
    for (const key of LINKS) {
      const v = a[key];
      if (v && annotations[key] === undefined) annotations[key] = v;
    }
    if (a.values && annotations.values === undefined) annotations.values = JSON.stringify(a.values);
    return fromPrometheusAlert(a, annotations, 'grafana');
  });
}
