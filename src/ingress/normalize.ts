// Helpers shared by the source normalizers: every source ends as the contract's `Alert`
// (src/playbook/contract/incident.ts).
// A real alert is never refused for its size. The schemas check only what the ingress
// cannot do without (an alert name, the types of the fields it reads); every oversized value is cut here,
// marked in the value itself, listed with the alert (`ingress.truncated` annotation) and named in the
// summary the incident timeline shows.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Alert } from '../playbook/contract/incident';
import { ellipsize, truncateText } from './text';

/** What one alert may carry; past it a value is truncated (and marked), never refused. docs/alerting.md. */
export const ALERT_LIMITS = {
  /** Alert name (alertname), as the contract's alertSchema allows. */
  name: 300,
  fingerprint: 200,
  severity: 50,
  source: 100,
  /** The alert summary (from the summary or description annotation); the contract's bound. */
  summary: 4000,
  /** One label or annotation name. */
  keyChars: 256,
  /** One label or annotation value (a description, a stack trace, a generator URL...). */
  valueChars: 16_384,
  /** Labels, and annotations, per alert. */
  entries: 200,
  /**
   * All label and annotation names and values of one alert together: keeps one alert signal far below
   * Temporal's payload limits (64 Ki UTF-16 units are 192 KiB of UTF-8 at most).
   */
  textChars: 65_536,
} as const;

/** Annotations the ingress writes on an alert it changed. */
export const TRUNCATED_ANNOTATION = 'ingress.truncated';
export const IGNORED_ANNOTATION = 'ingress.ignored';
export const FOLDED_ANNOTATION = 'ingress.folded';

/** Label / annotation maps as the senders produce them: string values. Sizes are limited in toAlert, not here. */
export const stringMap = () => z.record(z.string(), z.string());

/** Prometheus-style labels that must name the alert (`alertname`), as Alertmanager and Grafana send them. */
export const alertLabels = () =>
  stringMap().superRefine((labels, ctx) => {
    const name = labels.alertname;
    if (name === undefined)
      ctx.addIssue({ code: 'custom', path: ['alertname'], message: 'required: the alert name label' });
    else if (name.trim().length === 0)
      ctx.addIssue({ code: 'custom', path: ['alertname'], message: 'must not be empty' });
  });

/**
 * A sender's time: any string. An RFC 3339 time (nanoseconds allowed) is used; Go's zero time
 * (`0001-01-01T00:00:00Z`) means "not set"; anything else is ignored and noted on the alert.
 */
export const senderTime = z.string();

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

export function normalizeTime(s: string | undefined): string | undefined {
  if (s === undefined || !RFC3339.test(s)) return undefined;
  const ms = Date.parse(s);
  // Anything before 1970 is Go's zero time or equally meaningless here.
  if (Number.isNaN(ms) || ms <= 0) return undefined;
  return new Date(ms).toISOString();
}

/** Trimmed, empty -> undefined, then cut to `max` with the truncation marker. */
export function clip(s: string | undefined, max: number): string | undefined {
  if (s === undefined) return undefined;
  const t = s.trim();
  if (t.length === 0) return undefined;
  return truncateText(t, max);
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
  /** Fields the sender gave that the ingress does not know (generic schema), noted on the alert. */
  unknownFields?: string[];
}

/** One value the ingress cut: `annotations.description`, `60000 -> 16384 chars`. */
export interface Truncation {
  field: string;
  detail: string;
}

/** A normalized alert and what normalizing changed; `alertToSignal` makes the alert that goes on. */
export interface NormalizedAlert {
  /** The contract's alert, without the ingress notes (routing reads it). */
  alert: Alert;
  truncated: Truncation[];
  /** Values the ingress could not use and left out (an unparseable time, unknown fields). */
  ignored: string[];
}

const shortField = (s: string) => ellipsize(s, 80);

/** Labels that route and dedup an alert, and the annotations a person reads first: kept before the rest. */
const LABELS_FIRST = ['alertname', 'severity', 'service', 'job'];
const ANNOTATIONS_FIRST = ['summary', 'description'];

function limitMap(
  part: 'labels' | 'annotations',
  input: Record<string, string>,
  first: readonly string[],
  budget: { left: number },
  out: Truncation[],
): Record<string, string> {
  const keys = [
    ...first.filter((k) => Object.prototype.hasOwnProperty.call(input, k)),
    ...Object.keys(input).filter((k) => !first.includes(k)),
  ];
  const entries: [string, string][] = [];
  let overCount = 0;
  let overBudget = 0;
  for (const k of keys) {
    if (entries.length >= ALERT_LIMITS.entries) {
      overCount += 1;
      continue;
    }
    const v = input[k] ?? '';
    const key = truncateText(k, ALERT_LIMITS.keyChars);
    const room = Math.min(ALERT_LIMITS.valueChars, budget.left - key.length);
    // Not even a marked head of the value fits in what is left of the alert's budget: leave it out.
    if (v.length > room && room < 64) {
      overBudget += 1;
      continue;
    }
    const value = truncateText(v, room);
    if (key !== k)
      out.push({ field: `${part}.${shortField(k)}`, detail: `name ${k.length} -> ${key.length} chars` });
    if (value !== v)
      out.push({ field: `${part}.${shortField(k)}`, detail: `${v.length} -> ${value.length} chars` });
    budget.left -= key.length + value.length;
    entries.push([key, value]);
  }
  if (overCount > 0)
    out.push({
      field: part,
      detail: `${keys.length} entries -> ${ALERT_LIMITS.entries} (${overCount} left out, at most ${ALERT_LIMITS.entries})`,
    });
  if (overBudget > 0)
    out.push({
      field: part,
      detail: `${overBudget} entries left out: the alert's labels and annotations are over ${ALERT_LIMITS.textChars} chars`,
    });
  // fromEntries defines plain data properties: no key can reach a prototype.
  return Object.fromEntries(entries);
}

function limitField(
  field: string,
  s: string | undefined,
  max: number,
  out: Truncation[],
): string | undefined {
  const v = clip(s, max);
  if (v !== undefined && s !== undefined && v !== s.trim())
    out.push({ field, detail: `${s.trim().length} -> ${v.length} chars` });
  return v;
}

function time(field: string, s: string | undefined, ignored: string[]): string | undefined {
  const t = normalizeTime(s);
  if (t === undefined && s !== undefined && !/^0001-01-01T/.test(s) && s.trim() !== '')
    ignored.push(`${field}: ${JSON.stringify(ellipsize(s, 64))} is not an RFC 3339 time`);
  return t;
}

/** Alertmanager and Grafana send the same Prometheus-shaped alert: the name is the `alertname` label. */
export function fromPrometheusAlert(
  a: Pick<RawAlert, 'status' | 'labels' | 'startsAt' | 'endsAt' | 'fingerprint'>,
  annotations: Record<string, string>,
  source: string,
): NormalizedAlert {
  return toAlert({
    name: a.labels.alertname ?? '',
    status: a.status,
    labels: a.labels,
    annotations,
    startsAt: a.startsAt,
    endsAt: a.endsAt,
    fingerprint: a.fingerprint,
    source,
  });
}

export function toAlert(raw: RawAlert): NormalizedAlert {
  const truncated: Truncation[] = [];
  const ignored: string[] = [];
  const name = limitField('name', raw.name, ALERT_LIMITS.name, truncated) ?? 'unnamed';
  const budget = { left: ALERT_LIMITS.textChars };
  const labels = limitMap('labels', raw.labels, LABELS_FIRST, budget, truncated);
  const annotations = limitMap('annotations', raw.annotations, ANNOTATIONS_FIRST, budget, truncated);
  const startsAt = time('startsAt', raw.startsAt, ignored);
  const endsAt = time('endsAt', raw.endsAt, ignored);
  if (raw.unknownFields && raw.unknownFields.length > 0)
    ignored.push(`unknown fields: ${raw.unknownFields.slice(0, 20).map(shortField).join(', ')}`);
  // The summary is derived (the whole text stays in its annotation): a long one is shortened, not "truncated".
  const summarySource = raw.summary ?? raw.annotations.summary ?? raw.annotations.description;
  const summary = summarySource?.trim() ? ellipsize(summarySource.trim(), ALERT_LIMITS.summary) : undefined;
  const alert: Alert = {
    fingerprint:
      limitField('fingerprint', raw.fingerprint, ALERT_LIMITS.fingerprint, truncated) ??
      fingerprintOf(name, labels),
    name,
    status: raw.status,
    severity: limitField('severity', raw.severity ?? labels.severity, ALERT_LIMITS.severity, truncated),
    summary,
    labels,
    annotations,
    startsAt,
    endsAt: raw.status === 'resolved' ? endsAt : undefined,
    source: limitField('source', raw.source, ALERT_LIMITS.source, truncated) ?? 'unknown',
  };
  return { alert: compact(alert), truncated, ignored };
}

const MAX_LISTED = 20;

function listed(items: readonly string[]): string {
  const shown = items.slice(0, MAX_LISTED).join('; ');
  return items.length > MAX_LISTED ? `${shown}; +${items.length - MAX_LISTED} more` : shown;
}

/**
 * The alert as it is signalled to its incident: what the ingress changed is written with it, in the
 * annotations (`ingress.truncated`, `ingress.ignored`, `ingress.folded`) and, for truncation and folding,
 * at the end of its summary, so the incident timeline (`Alert firing: <name>: <summary>`) says so.
 * `folded`: alerts of the same notification for the same incident left out over the per-request limit.
 */
export function alertToSignal(n: NormalizedAlert, folded = 0, limit = 0): Alert {
  if (n.truncated.length === 0 && n.ignored.length === 0 && folded === 0) return n.alert;
  const annotations: Record<string, string> = { ...n.alert.annotations };
  const notes: string[] = [];
  if (n.truncated.length > 0) {
    annotations[TRUNCATED_ANNOTATION] = listed(n.truncated.map((t) => `${t.field}: ${t.detail}`));
    const fields = [...new Set(n.truncated.map((t) => ellipsize(t.field, 40)))];
    notes.push(
      `truncated ${fields.slice(0, 3).join(', ')}${fields.length > 3 ? ` +${fields.length - 3} more` : ''}`,
    );
  }
  if (n.ignored.length > 0) annotations[IGNORED_ANNOTATION] = listed(n.ignored);
  if (folded > 0) {
    annotations[FOLDED_ANNOTATION] =
      `${folded} more alert(s) of the same notification for this incident were not signalled: ` +
      `over INGRESS_MAX_ALERTS_PER_REQUEST (${limit})`;
    notes.push(`${folded} more alert(s) of this notification folded in`);
  }
  let summary = n.alert.summary;
  if (notes.length > 0) {
    const note = `[ingress: ${notes.join('; ')}]`;
    summary = summary ? `${ellipsize(summary, ALERT_LIMITS.summary - note.length - 1)} ${note}` : note;
  }
  return compact({ ...n.alert, summary, annotations });
}

/** Drops undefined members so the payload stays small and JSON-equal after a round trip. */
export function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
