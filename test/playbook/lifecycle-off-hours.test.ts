// 2.1 "Hours": a role paged outside its working hours is paged all the same (2.3 names who and when), and
// the page and the timeline say so; the 24/7 on-call and the emergency-only CTO are never flagged.
import { MINUTE_MS } from '../../src/playbook/time';
import { notifications, opened, runAll } from './lifecycle-helpers';

const NIGHT = Date.parse('2026-12-01T07:00:00Z'); // Tuesday 02:00 COT
const SATURDAY = Date.parse('2026-12-05T15:00:00Z'); // Saturday 10:00 COT
const DAY = Date.parse('2026-12-01T15:00:00Z'); // Tuesday 10:00 COT

function p0At(at: number) {
  const open = opened({ severity: 'P0' }, undefined, at);
  return runAll(open.state, [
    { input: { type: 'tick' }, at: at + 15 * MINUTE_MS },
    { input: { type: 'tick' }, at: at + 30 * MINUTE_MS },
  ]);
}

test.each([
  ['at night', NIGHT],
  ['on a Saturday', SATURDAY],
])('%s the Eng Lead is paged anyway, and the page and the timeline say so', (_when, at) => {
  const { state, effects } = p0At(at);
  expect(state.engagements.map((e) => e.role)).toEqual(['oncall-primary', 'eng-lead', 'cto']);
  const engLeadPage = notifications(effects).find((n) => n.kind === 'page' && n.target === 'eng-lead')!;
  expect(engLeadPage.text).toContain(
    'off hours for eng-lead (9-18 COT): paged anyway, as 2.3 says; they may take longer to answer',
  );
  const engaged = state.timeline.filter((e) => e.type === 'escalation');
  expect(engaged.map((e) => e.data?.offHours ?? null)).toEqual([null, ['eng-lead'], null]);
  // The CTO is "Emergency Only": being engaged is the emergency.
  expect(notifications(effects).find((n) => n.target === 'cto')!.text).not.toContain('off hours');
});

test('within hours nothing is added', () => {
  const { effects, state } = p0At(DAY);
  expect(notifications(effects).some((n) => n.text.includes('off hours'))).toBe(false);
  expect(state.timeline.some((e) => e.data?.offHours)).toBe(false);
});
