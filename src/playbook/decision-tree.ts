import type { Severity } from './severity';

/**
 * Answers to the 1.3 severity decision tree. Every answer is optional: a question nobody answered is
 * taken the severe way (over-paging is cheaper than missing an outage), and the result says which.
 */
export interface Assessment {
  /** "Is trading stopped or losing money unexpectedly?" */
  tradingStoppedOrLosingMoney?: boolean;
  /** "Is a major feature broken or severely degraded?" */
  majorFeatureBroken?: boolean;
  /** "Does it affect production trading?" */
  affectsProductionTrading?: boolean;
  /** "Is there a workaround available?" */
  workaroundAvailable?: boolean;
}

export interface Classification {
  severity: Severity;
  /** The questions asked, in order, with the answer used. */
  path: { question: keyof Assessment; answer: boolean; assumed: boolean }[];
  reason: string;
}

/**
 * 1.3 Severity decision tree.
 *
 * As drawn, the tree is ambiguous: "Is there a workaround available?" answers both ways (P2 / P1), so
 * "Does it affect production trading?" below it can never be reached, and P3 could never be chosen.
 * Our reading, which matches the 1.1 criteria (P2 "workaround exists", P3 "no trading impact"):
 *
 *   1. Trading stopped or losing money unexpectedly?     yes -> P0
 *   2. Major feature broken or severely degraded?         yes -> P1
 *   3. Does it affect production trading?                 no  -> P3
 *   4. Is there a workaround available?                   yes -> P2, no -> P1
 *
 * i.e. the production-trading question is asked before the workaround question, because a workaround
 * only matters for something that affects trading.
 */
export function classifySeverity(a: Assessment): Classification {
  const path: Classification['path'] = [];
  const ask = (question: keyof Assessment, severeAnswer: boolean): boolean => {
    const given = a[question];
    const answer = given ?? severeAnswer;
    path.push({ question, answer, assumed: given === undefined });
    return answer;
  };
  const done = (severity: Severity, reason: string): Classification => ({ severity, path, reason });

  if (ask('tradingStoppedOrLosingMoney', true))
    return done('P0', 'trading stopped or losing money unexpectedly');
  if (ask('majorFeatureBroken', true)) return done('P1', 'major feature broken or severely degraded');
  if (!ask('affectsProductionTrading', true)) return done('P3', 'no production trading impact');
  if (ask('workaroundAvailable', false))
    return done('P2', 'affects production trading, workaround available');
  return done('P1', 'affects production trading, no workaround');
}
