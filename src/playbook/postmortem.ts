import type { Severity } from './severity';
import { HOUR_MS, DAY_MS } from './time';

export interface PostmortemRule {
  /** 6.1 "Post-Mortem Required": mandatory, recommended (optional) or none. */
  requirement: 'mandatory' | 'recommended' | 'none';
  /** 6.1 "Timeline" as a playbook duration after resolution; null when none is required. */
  dueAfterMs: number | null;
  label: string;
}

// 6.1 Post-mortem requirements.
export const POSTMORTEM_RULES: Record<Severity, PostmortemRule> = {
  P0: { requirement: 'mandatory', dueAfterMs: 48 * HOUR_MS, label: 'Within 48 hours' },
  P1: { requirement: 'mandatory', dueAfterMs: 7 * DAY_MS, label: 'Within 1 week' },
  P2: { requirement: 'recommended', dueAfterMs: 14 * DAY_MS, label: 'Within 2 weeks' },
  P3: { requirement: 'none', dueAfterMs: null, label: '-' },
};

/** Real epoch ms of the post-mortem deadline, or null (P3). */
export function postmortemDueAt(severity: Severity, resolvedAt: number, timeScale: number): number | null {
  const rule = POSTMORTEM_RULES[severity];
  return rule.dueAfterMs === null ? null : resolvedAt + rule.dueAfterMs / timeScale;
}
