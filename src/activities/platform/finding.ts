// What a platform check answers, and the names of what it reaches: shared by the context every backend is
// built from and by the backends themselves (http, commands, database), which therefore need not import the
// context that imports them.
import type { PlatformPaths } from '../../platform/config';

/**
 * How a check went: `answered` (a measurement; src/playbook/readings.ts judges what it shows), `unknown` (no
 * answer: error, timeout, unreachable, unparseable) or `unavailable` (not on this deployment). Activities
 * observe; they never say ok or failed (DESIGN "Evidence rule").
 */
export type FindingOutcome = 'answered' | 'unavailable' | 'unknown';

/** What a check observed; `data` carries the raw measurement the judges and decision tables read. */
export interface CheckFinding<D> {
  check: string;
  outcome: FindingOutcome;
  text: string;
  data: D;
}

export type Service = 'trading' | 'inference';
export type PathKey = keyof PlatformPaths;
