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

/**
 * `escalate` signal: the next matrix step that still has roles to engage, fired early; when the matrix is
 * exhausted, the CTO (the top of 2.1); null when everyone is already engaged.
 */
export function manualEscalationTarget(
  matrix: EscalationMatrix,
  severity: Severity,
  engaged: readonly RoleId[],
): { stepId: string; roles: RoleId[] } | null {
  for (const step of matrix[severity]) {
    const roles = step.roles.filter((r) => !engaged.includes(r));
    if (roles.length > 0) return { stepId: stepId(severity, step), roles };
  }
  if (!engaged.includes('cto')) return { stepId: 'escalate-manual-cto', roles: ['cto'] };
  return null;
}
