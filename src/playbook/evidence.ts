// DESIGN "Evidence rule", written once: every check result is `ok`, `failed` (positive evidence of the
// fault) or `unknown` (error, timeout, unreachable, unparseable body, missing endpoint). A mutating
// remediation is requested only when positive evidence matches a row of the procedure's playbook table;
// `unknown` becomes a finding and an explicit human step, never a row. A pre-approved action runs only on
// positive evidence; on anything less it is at most an ordinary approval request, here not even that.
//
// Every procedure (3.1-3.4) builds a Justification for each remediation it wants, and the approval gate
// (src/workflows/procedures/approval-gate.ts) asks `admit` before it requests or pre-approves anything.

export type Evidence = 'ok' | 'failed' | 'unknown';

/** One reading a decision rests on: which check, what it showed, and when. */
export interface Reading {
  /** Check id, e.g. `health:trading-api`, `data-freshness`, `database`. */
  check: string;
  evidence: Evidence;
  /** What was read, in plain words ("SELECT 1 answered in 82 ms", "freshness query failed: ..."). */
  text: string;
  /** When it was read (ISO), where known. */
  at?: string;
}

/** A reading the row needs, and the evidence it must show (`failed`: the fault; `ok`: a precondition). */
export interface Requirement {
  reading: Reading;
  expect: 'ok' | 'failed';
}

/** Why a remediation would be right: the playbook row and the readings that must hold for it. */
export interface Justification {
  /** The playbook row, in its words: "3.3 > 60 minutes: Activate kill switch, notify team". */
  row: string;
  requires: Requirement[];
  /** Readings that speak against the row (shown to the approver beside the ones that decided it). */
  against?: Reading[];
}

export type Admission =
  | { admitted: true; preApproved: boolean; because: string[]; against: string[] }
  | { admitted: false; humanStep: string; unverified: Reading[]; contradicted: Reading[] };

/** "[data-freshness, 2026-12-01T10:00:00.000Z] latest bar 75.0 minutes old". */
export function describeReading(r: Reading): string {
  return `[${r.check}${r.at ? `, ${r.at}` : ''}] ${r.text}`;
}

/**
 * The rule. Admitted only when the row names at least one reading and every reading shows the evidence the
 * row needs; pre-approved only when admitted and the policy lists `preApprovalKey`.
 */
export function admit(
  j: Justification,
  preApproval?: { key: string | undefined; preApproved: readonly string[] },
): Admission {
  const unverified = j.requires.filter((q) => q.reading.evidence === 'unknown').map((q) => q.reading);
  const contradicted = j.requires
    .filter((q) => q.reading.evidence !== 'unknown' && q.reading.evidence !== q.expect)
    .map((q) => q.reading);
  if (j.requires.length === 0 || unverified.length > 0 || contradicted.length > 0) {
    const parts = [
      ...unverified.map((r) => `could not verify ${r.check}: ${r.text}`),
      ...contradicted.map((r) => `${r.check} does not show it: ${r.text}`),
    ];
    return {
      admitted: false,
      humanStep: `${j.row}: not requested, the evidence is incomplete (${parts.join('; ') || 'no reading supports it'})`,
      unverified,
      contradicted,
    };
  }
  const key = preApproval?.key;
  return {
    admitted: true,
    preApproved: key !== undefined && (preApproval?.preApproved ?? []).includes(key),
    because: j.requires.map((q) => describeReading(q.reading)),
    against: (j.against ?? []).map(describeReading),
  };
}

/** "could not verify <check>: <text>": the human step for a reading that did not answer. */
export function unverifiedStep(r: Reading, what: string): string {
  return `could not verify ${what} (${r.check}): ${r.text}`;
}
