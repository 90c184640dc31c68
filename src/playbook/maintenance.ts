// Maintenance windows' pure rules: whether an alert (its labels, and the incident fields its route gives it)
// matches a window's matchers, Alertmanager's silence semantics, and where a window stands in time.
import type { Matcher, WindowInput } from './contract/maintenance';

/** What a window's matchers are tested against: the alert's labels plus the routed incident's fields. */
export interface MatchSubject {
  alertname: string;
  labels: Readonly<Record<string, string>>;
  /** The playbook severity the alert routes to. */
  severity: string;
  /** The incident kind the alert routes to. */
  kind: string;
}

/**
 * The value a matcher reads: `alertname`, `severity` and `kind` from the routed alert (they win over labels of
 * the same name), any other name from the labels; an absent label is the empty string (so `team=""` matches
 * alerts without one, as in Alertmanager).
 */
export function valueOf(subject: MatchSubject, name: string): string {
  if (name === 'alertname') return subject.alertname;
  if (name === 'severity') return subject.severity;
  if (name === 'kind') return subject.kind;
  return Object.prototype.hasOwnProperty.call(subject.labels, name) ? (subject.labels[name] ?? '') : '';
}

/** A compiled matcher list: every matcher must hold (AND), regular expressions anchored at both ends. */
export function compileMatchers(matchers: readonly Matcher[]): (subject: MatchSubject) => boolean {
  const tests = matchers.map((m) => {
    const re = m.op === '=~' || m.op === '!~' ? new RegExp(`^(?:${m.value})$`) : null;
    return (s: MatchSubject): boolean => {
      const v = valueOf(s, m.name);
      switch (m.op) {
        case '=':
          return v === m.value;
        case '!=':
          return v !== m.value;
        case '=~':
          return re!.test(v);
        case '!~':
          return !re!.test(v);
      }
    };
  });
  return (s) => tests.every((t) => t(s));
}

export type WindowPhase = 'scheduled' | 'active' | 'ended';

/** Where a window stands at `now`: before its start, in force, or over (on time or ended early). */
export function windowPhase(
  w: Pick<WindowInput, 'startsAt' | 'endsAt'>,
  createdAt: number,
  now: number,
  endedAt: number | null = null,
): WindowPhase {
  const start = w.startsAt ? Date.parse(w.startsAt) : createdAt;
  const end = Math.min(Date.parse(w.endsAt), endedAt ?? Infinity);
  if (now >= end) return 'ended';
  return now < start ? 'scheduled' : 'active';
}

/** `service=trading-api, alertname=~"Trading.*"`: matchers as operators write them in Alertmanager. */
export function matchersText(matchers: readonly Matcher[]): string {
  return matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`).join(', ');
}
