import { classifySeverity, type Assessment } from '../../src/playbook/decision-tree';

// Every path of our reading of 1.3 (see the comment on classifySeverity and the README).
const cases: [Assessment, string][] = [
  [{ tradingStoppedOrLosingMoney: true }, 'P0'],
  [{ tradingStoppedOrLosingMoney: true, majorFeatureBroken: false, affectsProductionTrading: false }, 'P0'],
  [{ tradingStoppedOrLosingMoney: false, majorFeatureBroken: true }, 'P1'],
  [{ tradingStoppedOrLosingMoney: false, majorFeatureBroken: false, affectsProductionTrading: false }, 'P3'],
  [
    {
      tradingStoppedOrLosingMoney: false,
      majorFeatureBroken: false,
      affectsProductionTrading: false,
      workaroundAvailable: false,
    },
    'P3',
  ],
  [
    {
      tradingStoppedOrLosingMoney: false,
      majorFeatureBroken: false,
      affectsProductionTrading: true,
      workaroundAvailable: true,
    },
    'P2',
  ],
  [
    {
      tradingStoppedOrLosingMoney: false,
      majorFeatureBroken: false,
      affectsProductionTrading: true,
      workaroundAvailable: false,
    },
    'P1',
  ],
];

test.each(cases)('%j -> %s', (assessment, expected) => {
  expect(classifySeverity(assessment).severity).toBe(expected);
});

test('unanswered questions are taken the severe way and marked assumed', () => {
  const c = classifySeverity({});
  expect(c.severity).toBe('P0');
  expect(c.path).toEqual([{ question: 'tradingStoppedOrLosingMoney', answer: true, assumed: true }]);

  const noWorkaroundAnswer = classifySeverity({
    tradingStoppedOrLosingMoney: false,
    majorFeatureBroken: false,
    affectsProductionTrading: true,
  });
  expect(noWorkaroundAnswer.severity).toBe('P1');
  expect(noWorkaroundAnswer.path.at(-1)).toEqual({
    question: 'workaroundAvailable',
    answer: false,
    assumed: true,
  });

  const noTradingAnswer = classifySeverity({ tradingStoppedOrLosingMoney: false, majorFeatureBroken: false });
  expect(noTradingAnswer.severity).toBe('P1');
  expect(noTradingAnswer.path.map((p) => p.question)).toEqual([
    'tradingStoppedOrLosingMoney',
    'majorFeatureBroken',
    'affectsProductionTrading',
    'workaroundAvailable',
  ]);
});

test('the production-trading question is asked before the workaround question', () => {
  const c = classifySeverity({
    tradingStoppedOrLosingMoney: false,
    majorFeatureBroken: false,
    affectsProductionTrading: false,
    workaroundAvailable: true,
  });
  expect(c.severity).toBe('P3');
  expect(c.path.map((p) => p.question)).not.toContain('workaroundAvailable');
});
