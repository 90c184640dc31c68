import fc from 'fast-check';
import { ESCALATION_MATRIX, nextEscalation, planEscalation } from '../../src/playbook/escalation';
import { ROLE_IDS } from '../../src/playbook/roles';
import { SEVERITIES } from '../../src/playbook/severity';
import type { RoleId } from '../../src/playbook/roles';
import type { Severity } from '../../src/playbook/severity';

const MIN = 60_000;
const opened = Date.UTC(2026, 10, 27, 14, 0);
const plan = (severity: Severity, minutes: number, engaged: RoleId[] = [], timeScale = 1) =>
  planEscalation({
    matrix: ESCALATION_MATRIX,
    severity,
    openedAt: opened,
    now: opened + (minutes * MIN) / timeScale,
    timeScale,
    engaged,
  });

// 2.3, column by column.
test.each([
  [
    'P0',
    [
      [0, ['oncall-primary']],
      [15, ['eng-lead']],
      [30, ['cto']],
    ],
  ],
  [
    'P1',
    [
      [0, ['oncall-primary']],
      [15, ['oncall-secondary']],
      [30, ['eng-lead']],
      [60, ['trading-lead']],
    ],
  ],
  [
    'P2',
    [
      [0, ['oncall-primary']],
      [60, ['oncall-secondary']],
      [120, ['eng-lead']],
    ],
  ],
  ['P3', [[0, ['team-lead']]]],
] as [Severity, [number, RoleId[]][]][])('%s matrix', (severity, expected) => {
  expect(ESCALATION_MATRIX[severity].map((s) => [s.afterMinutes, s.roles])).toEqual(expected);
});

test('steps fire when due, not a millisecond earlier', () => {
  expect(plan('P0', 0).due.map((d) => d.roles)).toEqual([['oncall-primary']]);
  expect(plan('P0', 0).next).toMatchObject({
    afterMinutes: 15,
    roles: ['eng-lead'],
    dueAt: opened + 15 * MIN,
  });
  expect(plan('P0', 14.99, ['oncall-primary']).due).toEqual([]);
  expect(plan('P0', 15, ['oncall-primary']).due.map((d) => d.stepId)).toEqual(['escalate-P0-15m']);
  expect(plan('P0', 45, ['oncall-primary', 'eng-lead', 'cto'])).toEqual({ due: [], next: null });
});

test('timeScale divides playbook minutes', () => {
  const p = plan('P1', 0, ['oncall-primary'], 60);
  expect(p.next?.dueAt).toBe(opened + 15 * 1000);
  expect(plan('P1', 30, ['oncall-primary'], 60).due.map((d) => d.roles)).toEqual([
    ['oncall-secondary'],
    ['eng-lead'],
  ]);
});

test('re-planning after a severity change fires overdue steps at once and skips engaged roles', () => {
  // P2 at 20 min, raised to P0: eng-lead (15 min) is overdue, CTO due at 30.
  const p = plan('P0', 20, ['oncall-primary']);
  expect(p.due.map((d) => d.roles)).toEqual([['eng-lead']]);
  expect(p.next?.roles).toEqual(['cto']);
  // P0 at 20 min lowered to P2: primary and eng-lead engaged; only the secondary at 60 remains.
  const down = plan('P2', 20, ['oncall-primary', 'eng-lead']);
  expect(down.due).toEqual([]);
  expect(down.next).toMatchObject({ afterMinutes: 60, roles: ['oncall-secondary'] });
  expect(plan('P2', 130, ['oncall-primary', 'eng-lead', 'oncall-secondary'])).toEqual({
    due: [],
    next: null,
  });
});

test('manual escalation takes the next step of the current matrix, then nobody (no CTO for P2/P3)', () => {
  expect(nextEscalation(ESCALATION_MATRIX, 'P1', ['oncall-primary'])).toEqual({
    kind: 'step',
    stepId: 'escalate-P1-15m',
    roles: ['oncall-secondary'],
  });
  expect(nextEscalation(ESCALATION_MATRIX, 'P3', ['team-lead'])).toEqual({
    kind: 'exhausted',
    severity: 'P3',
  });
  expect(nextEscalation(ESCALATION_MATRIX, 'P2', ['oncall-primary', 'oncall-secondary', 'eng-lead'])).toEqual(
    { kind: 'exhausted', severity: 'P2' },
  );
  expect(nextEscalation(ESCALATION_MATRIX, 'P0', ['oncall-primary', 'eng-lead', 'cto'])).toEqual({
    kind: 'exhausted',
    severity: 'P0',
  });
  // A policy may name roles past the matrix's end.
  expect(nextEscalation(ESCALATION_MATRIX, 'P3', ['team-lead'], ['trading-lead'])).toEqual({
    kind: 'step',
    stepId: 'escalate-P3-beyond',
    roles: ['trading-lead'],
  });
});

test('property: escalating any number of times from any engaged set never leaves the matrix', () => {
  fc.assert(
    fc.property(
      fc.constantFrom(...SEVERITIES),
      fc.subarray([...ROLE_IDS]),
      fc.integer({ min: 1, max: 10 }),
      (severity, initial, times) => {
        const matrixRoles = new Set(ESCALATION_MATRIX[severity].flatMap((st) => st.roles));
        const engaged = initial.filter((r) => matrixRoles.has(r));
        for (let i = 0; i < times; i++) {
          const t = nextEscalation(ESCALATION_MATRIX, severity, engaged);
          if (t.kind === 'exhausted') {
            expect([...matrixRoles].every((r) => engaged.includes(r))).toBe(true);
            break;
          }
          for (const r of t.roles) {
            expect(matrixRoles.has(r)).toBe(true);
            expect(engaged.includes(r)).toBe(false);
            engaged.push(r);
          }
        }
        if (severity !== 'P0') expect(engaged).not.toContain('cto');
      },
    ),
  );
});
