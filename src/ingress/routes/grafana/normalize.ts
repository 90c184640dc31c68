import { toAlert, type NormalizedAlert } from '../../normalize';
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
    return toAlert({
      name: a.labels.alertname ?? '',
      status: a.status,
      labels: a.labels,
      annotations,
      startsAt: a.startsAt,
      endsAt: a.endsAt,
      fingerprint: a.fingerprint,
      source: 'grafana',
    });
  });
}
