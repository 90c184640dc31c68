// Helpers shared by the source normalizers: every source ends as the contract's `Alert` (definitions.ts).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Alert } from '../workflows/definitions';

/** Label / annotation maps as the senders produce them: string values only, bounded. */
export const stringMap = (maxEntries = 200) =>
  z
    .record(z.string().max(256), z.string().max(16_384))
    .refine((m) => Object.keys(m).length <= maxEntries, { message: `at most ${maxEntries} entries` });

/** Prometheus-style labels that must name the alert (`alertname`), as Alertmanager and Grafana send them. */
export const alertLabels = () =>
  stringMap().superRefine((labels, ctx) => {
    const name = labels.alertname;
    if (name === undefined)
      ctx.addIssue({ code: 'custom', path: ['alertname'], message: 'required: the alert name label' });
    else if (name.trim().length === 0 || name.length > 300)
      ctx.addIssue({ code: 'custom', path: ['alertname'], message: 'must be 1 to 300 characters' });
  });

/**
 * RFC 3339 time as Alertmanager/Grafana send it (nanoseconds allowed). Go's zero time
 * (`0001-01-01T00:00:00Z`) means "not set" and becomes undefined.
 */
export const senderTime = z
  .string()
  .max(64)
  .refine(
    (s) =>
      !Number.isNaN(Date.parse(s)) &&
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i.test(s),
    {
      message: 'an RFC 3339 time such as 2026-01-17T10:00:00Z',
    },
  );

export function normalizeTime(s: string | undefined): string | undefined {
  if (s === undefined) return undefined;
  const ms = Date.parse(s);
  // Anything before 1970 is Go's zero time or equally meaningless here.
  if (Number.isNaN(ms) || ms <= 0) return undefined;
  return new Date(ms).toISOString();
}

export function clip(s: string | undefined, max: number): string | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t.length === 0) return undefined;
  return t.length > max ? `${t.slice(0, max - 3)}...` : t;
}

/** Stable fingerprint for senders that do not give one: alert name + sorted labels. */
export function fingerprintOf(name: string, labels: Record<string, string>): string {
  const h = createHash('sha256');
  h.update(name);
  for (const k of Object.keys(labels).sort()) h.update(`\u0000${k}=${labels[k] ?? ''}`);
  return h.digest('hex').slice(0, 16);
}

export interface RawAlert {
  name: string;
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  fingerprint?: string;
  severity?: string;
  summary?: string;
  source: string;
}

export function toAlert(raw: RawAlert): Alert {
  const name = clip(raw.name, 300) ?? 'unnamed';
  const labels = { ...raw.labels };
  return {
    fingerprint: clip(raw.fingerprint, 200) ?? fingerprintOf(name, labels),
    name,
    status: raw.status,
    severity: clip(raw.severity ?? labels.severity, 50),
    summary: clip(raw.summary ?? raw.annotations.summary ?? raw.annotations.description, 4000),
    labels,
    annotations: { ...raw.annotations },
    startsAt: normalizeTime(raw.startsAt),
    endsAt: raw.status === 'resolved' ? normalizeTime(raw.endsAt) : undefined,
    source: clip(raw.source, 100) ?? 'unknown',
  };
}

/** Drops undefined members so the payload stays small and JSON-equal after a round trip. */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
