// 6.1-6.3 timing as pure functions, and the completion payload rules (6.3: owner and due date).
import {
  actionItemDueAt,
  actionItemReminders,
  endOfCotDate,
  postmortemPlan,
  repeatEveryMs,
} from '../../src/playbook/postmortem-schedule';
import {
  actionItemDoneSchema,
  completePostmortemSchema,
  postmortemInputSchema,
} from '../../src/playbook/contract/postmortem';

const H = 3_600_000;
const resolvedAt = Date.parse('2026-11-03T15:00:00.000Z'); // 10:00 COT

test.each([
  ['P0', 'mandatory', 48 * H],
  ['P1', 'mandatory', 7 * 24 * H],
  ['P2', 'recommended', 14 * 24 * H],
] as const)(
  '6.1 %s: %s, due %d ms after resolution; reminders at the given fractions',
  (severity, requirement, window) => {
    const plan = postmortemPlan(severity, resolvedAt, 1, [0.9, 0.5, 0.5, 1, 0]);
    expect(plan.rule.requirement).toBe(requirement);
    expect(plan.dueAt).toBe(resolvedAt + window);
    expect(plan.reminders).toEqual([
      { step: 'postmortem-reminder-50', at: resolvedAt + window / 2 },
      { step: 'postmortem-reminder-90', at: resolvedAt + Math.round(window * 0.9) },
    ]);
    // timeScale divides every duration
    expect(postmortemPlan(severity, resolvedAt, 60, [0.5]).dueAt).toBe(resolvedAt + window / 60);
  },
);

test('6.1 P3: no post-mortem, no deadline, no reminders', () => {
  expect(postmortemPlan('P3', resolvedAt, 1, [0.5])).toMatchObject({
    dueAt: null,
    reminders: [],
    rule: { requirement: 'none' },
  });
});

test('an action item falls due at the end of its COT day, scaled from the resolution', () => {
  // 2026-11-20 ends at 2026-11-21 00:00 COT = 05:00 UTC.
  expect(endOfCotDate('2026-11-20')).toBe(Date.parse('2026-11-21T05:00:00.000Z'));
  expect(endOfCotDate('2026-12-31')).toBe(Date.parse('2027-01-01T05:00:00.000Z'));
  expect(() => endOfCotDate('20-11-2026')).toThrow();
  expect(actionItemDueAt('2026-11-20', resolvedAt, 1)).toBe(Date.parse('2026-11-21T05:00:00.000Z'));
  // 17 days 14 hours after the resolution, at 3600x: 17*24+14 = 422 s later.
  expect(actionItemDueAt('2026-11-20', resolvedAt, 3600)).toBe(resolvedAt + 422_000);
  // A date before the resolution is already due.
  expect(actionItemDueAt('2026-11-01', resolvedAt, 1)).toBeLessThan(resolvedAt);
});

test('action item reminders: N playbook hours before due, earliest first, scaled', () => {
  const due = Date.parse('2026-11-21T05:00:00.000Z');
  expect(actionItemReminders('AI-1', due, 1, [24, 168, 24, 0])).toEqual([
    { step: 'action-AI-1-reminder-168h', at: due - 168 * H },
    { step: 'action-AI-1-reminder-24h', at: due - 24 * H },
  ]);
  expect(actionItemReminders('AI-2', due, 24, [24])).toEqual([
    { step: 'action-AI-2-reminder-24h', at: due - H },
  ]);
  expect(repeatEveryMs(24, 24)).toBe(H);
  expect(repeatEveryMs(null, 24)).toBeNull();
});

describe('completion payload (6.3)', () => {
  const ok = {
    by: 'alice',
    documentUrl: 'https://wiki.example.com/pm/1',
    actionItems: [{ title: 'Add alert', owner: 'bob', dueDate: '2026-11-20' }],
  };
  const issues = (v: unknown) => {
    const r = completePostmortemSchema.safeParse(v);
    return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  test('a complete payload passes; no action items is allowed', () => {
    expect(issues(ok)).toEqual([]);
    expect(issues({ ...ok, actionItems: [] })).toEqual([]);
  });

  test.each([
    [
      'missing owner',
      { title: 'x', dueDate: '2026-11-20' },
      'actionItems.0.owner: 6.3: every action item must be assigned to a specific owner',
    ],
    [
      'blank owner',
      { title: 'x', owner: '  ', dueDate: '2026-11-20' },
      'actionItems.0.owner: 6.3: every action item must be assigned to a specific owner',
    ],
    [
      'missing due date',
      { title: 'x', owner: 'bob' },
      'actionItems.0.dueDate: 6.3: every action item must be given a due date (YYYY-MM-DD)',
    ],
    [
      'not a date',
      { title: 'x', owner: 'bob', dueDate: 'next week' },
      'actionItems.0.dueDate: 6.3: every action item must be given a due date (YYYY-MM-DD)',
    ],
    [
      'no such day',
      { title: 'x', owner: 'bob', dueDate: '2026-02-30' },
      'actionItems.0.dueDate: 6.3: every action item must be given a due date (YYYY-MM-DD)',
    ],
    [
      'a timestamp',
      { title: 'x', owner: 'bob', dueDate: '2026-11-20T10:00:00Z' },
      'actionItems.0.dueDate: 6.3: every action item must be given a due date (YYYY-MM-DD)',
    ],
  ])('%s is rejected with the field named', (_name, item, expected) => {
    expect(issues({ ...ok, actionItems: [item] })).toEqual([expected]);
  });

  test('the document link must be an http(s) URL', () => {
    expect(issues({ ...ok, documentUrl: 'file:///etc/passwd' })[0]).toMatch(/^documentUrl: /);
    expect(issues({ ...ok, documentUrl: undefined })[0]).toMatch(/^documentUrl: /);
  });

  test('actionItemDone takes exactly one of index or id', () => {
    expect(actionItemDoneSchema.safeParse({ by: 'bob', index: 0 }).success).toBe(true);
    expect(actionItemDoneSchema.safeParse({ by: 'bob', id: 'AI-1' }).success).toBe(true);
    expect(actionItemDoneSchema.safeParse({ by: 'bob' }).success).toBe(false);
    expect(actionItemDoneSchema.safeParse({ by: 'bob', index: 0, id: 'AI-1' }).success).toBe(false);
  });

  test('workflow input: severity and resolvedAt required, reminders strict', () => {
    const input = { incidentId: 'i', title: 't', severity: 'P0', resolvedAt: '2026-11-03T15:00:00.000Z' };
    expect(postmortemInputSchema.safeParse(input).success).toBe(true);
    expect(postmortemInputSchema.safeParse({ ...input, resolvedAt: 'yesterday' }).success).toBe(false);
    expect(postmortemInputSchema.safeParse({ ...input, reminders: { atFractions: [1.5] } }).success).toBe(
      false,
    );
    expect(postmortemInputSchema.safeParse({ ...input, reminders: { everyHour: true } }).success).toBe(false);
  });
});
