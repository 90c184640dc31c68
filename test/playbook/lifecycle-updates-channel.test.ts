// 4.1 "Updates: This thread / #trading-incidents": the channel the deployment's policy names, in the start
// message, every page and the severity-change notice; the playbook's channel when it names none.
import { action, min, notifications, opened, runAll } from './lifecycle-helpers';

const updatesLines = (texts: string[]) =>
  texts.flatMap((t) => t.split('\n').filter((l) => l.startsWith('**Updates**')));

test('the configured channel, not a hard-coded #trading-incidents', () => {
  const open = opened({ severity: 'P1', policy: { updatesChannel: '#desk-incidents' } });
  const later = runAll(open.state, [
    { input: action('setSeverity', { by: 'ana', severity: 'P0', reason: 'losing money' }), at: min(2) },
  ]);
  const texts = [
    ...notifications(open.effects.map((effect) => ({ effect }))),
    ...notifications(later.effects),
  ].map((n) => n.text);
  const lines = updatesLines(texts);
  expect(lines.length).toBeGreaterThanOrEqual(3); // start message, first page, severity change
  expect(new Set(lines)).toEqual(new Set(['**Updates**: This thread / #desk-incidents']));
});

test("without one, the playbook's #trading-incidents", () => {
  const open = opened();
  expect(
    new Set(updatesLines(notifications(open.effects.map((effect) => ({ effect }))).map((n) => n.text))),
  ).toEqual(new Set(['**Updates**: This thread / #trading-incidents']));
});
