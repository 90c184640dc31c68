import type { RoleId } from './roles';
import type { Severity } from './severity';
import { MINUTE_MS } from './time';

export interface EscalationStep {
  /** Playbook minutes after the incident opened. */
  afterMinutes: number;
  /** Roles this step adds (2.3 "+ Eng Lead"). */
  roles: RoleId[];
}

export type EscalationMatrix = Record<Severity, EscalationStep[]>;

// 2.3 Escalation matrix: time since the incident opened; each column adds roles to those already engaged.
export const ESCALATION_MATRIX: EscalationMatrix = {
  P0: [
    { afterMinutes: 0, roles: ['oncall-primary'] },
    { afterMinutes: 15, roles: ['eng-lead'] },
    { afterMinutes: 30, roles: ['cto'] },
  ],
  P1: [
    { afterMinutes: 0, roles: ['oncall-primary'] },
    { afterMinutes: 15, roles: ['oncall-secondary'] },
    { afterMinutes: 30, roles: ['eng-lead'] },
    { afterMinutes: 60, roles: ['trading-lead'] },
  ],
  P2: [
    { afterMinutes: 0, roles: ['oncall-primary'] },
    { afterMinutes: 60, roles: ['oncall-secondary'] },
    { afterMinutes: 120, roles: ['eng-lead'] },
  ],
  P3: [{ afterMinutes: 0, roles: ['team-lead'] }],
};

/** Step id used in idempotency keys and the timeline: "escalate-P0-15m". */
export function stepId(severity: Severity, step: EscalationStep): string {
  return `escalate-${severity}-${step.afterMinutes}m`;
}

export interface PlannedStep {
  stepId: string;
  /** Real (scaled) epoch ms when the step is due. */
  dueAt: number;
  afterMinutes: number;
  /** Roles of the step that are not engaged yet. */
  roles: RoleId[];
}

export interface EscalationPlan {
  /** Steps due at or before `now` with roles still to engage: fire these now, in order. */
  due: PlannedStep[];
  /** The next step in the future that still has roles to engage. */
  next: PlannedStep | null;
}

/**
 * Re-plans the escalation from the opening time (DESIGN lifecycle: setSeverity re-plans; steps already due
 * fire at once; roles already engaged are not paged again). Pure: `now` and `openedAt` are epoch ms of
 * real time, playbook minutes are divided by `timeScale`.
 */
export function planEscalation(args: {
  matrix: EscalationMatrix;
  severity: Severity;
  openedAt: number;
  now: number;
  timeScale: number;
  engaged: readonly RoleId[];
}): EscalationPlan {
  const engaged = new Set(args.engaged);
  const due: PlannedStep[] = [];
  let next: PlannedStep | null = null;
  for (const step of args.matrix[args.severity]) {
    const roles = step.roles.filter((r) => !engaged.has(r));
    if (roles.length === 0) continue;
    const planned: PlannedStep = {
      stepId: stepId(args.severity, step),
      dueAt: args.openedAt + (step.afterMinutes * MINUTE_MS) / args.timeScale,
      afterMinutes: step.afterMinutes,
      roles,
    };
    if (planned.dueAt <= args.now) {
      due.push(planned);
      roles.forEach((r) => engaged.add(r));
    } else if (next === null) {
      next = planned;
    }
  }
  return { due, next };
}

/** Where an escalation beyond the planned steps goes: the next matrix role, or nobody. */
export type EscalationTarget =
  | { kind: 'step'; stepId: string; roles: RoleId[] }
  /** Every role of the matrix (and of the policy's extra roles) is engaged: a human must raise the severity. */
  | { kind: 'exhausted'; severity: Severity };

/**
 * Manual `escalate`, an unanswered approval and a procedure re-escalation all take the next matrix step of
 * the incident's *current* severity that still has roles to engage, fired early (DESIGN "Escalation never
 * leaves the matrix"). Past its last role come only the roles the policy names for that severity
 * (`beyond`), then nobody: 2.3 never takes a P2 or P3 to the CTO, and 2.1 keeps the CTO "Emergency Only"
 * (reached by the P0 matrix or a loss over $1000, never by running out of roles).
 */
export function nextEscalation(
  matrix: EscalationMatrix,
  severity: Severity,
  engaged: readonly RoleId[],
  beyond: readonly RoleId[] = [],
): EscalationTarget {
  for (const step of matrix[severity]) {
    const roles = step.roles.filter((r) => !engaged.includes(r));
    if (roles.length > 0) return { kind: 'step', stepId: stepId(severity, step), roles };
  }
  const extra = beyond.filter((r) => !engaged.includes(r));
  if (extra.length > 0) return { kind: 'step', stepId: `escalate-${severity}-beyond`, roles: extra };
  return { kind: 'exhausted', severity };
}

/** What the engaged roles are told when nobody is left to escalate to. */
export function exhaustedNotice(severity: Severity, why: string): string {
  return (
    `:warning: Escalation requested (${why}) but every role of the ${severity} escalation matrix (2.3) is ` +
    `already engaged: nobody is left to page. Raising the severity (setSeverity) is the way up.`
  );
}
