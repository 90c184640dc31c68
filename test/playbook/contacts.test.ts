import { ZodError } from 'zod';
import {
  DEFAULT_CONTACTS,
  isWithinHours,
  parseContactConfig,
  resolveContact,
  rotationShift,
} from '../../src/playbook/contacts';
import { ROLE_IDS } from '../../src/playbook/roles';

/** Epoch ms of a COT wall-clock time (COT = UTC-5, no DST). */
const cot = (isoLocal: string): number => Date.parse(`${isoLocal}-05:00`);

const people = [
  { name: 'Ana', slack: 'U0ANA', phone: '+57-300-000-0001' },
  { name: 'Bruno', slack: 'U0BRUNO' },
  { name: 'Carla', slack: 'U0CARLA' },
];

describe('2.1 defaults', () => {
  it('has a contact row for every role id, faithful to the 2.1 table', () => {
    for (const role of ROLE_IDS) expect(DEFAULT_CONTACTS[role]).toBeDefined();
    expect(DEFAULT_CONTACTS['oncall-primary']).toMatchObject({
      email: 'oncall-primary@company.com',
      slack: '@oncall-primary',
      hours: '24/7',
    });
    expect(DEFAULT_CONTACTS['oncall-secondary'].hours).toBe('24/7');
    expect(DEFAULT_CONTACTS['eng-lead'].hours).toEqual({ start: 9, end: 18, days: [1, 2, 3, 4, 5] });
    expect(DEFAULT_CONTACTS['trading-lead'].hours).toEqual({ start: 8, end: 17, days: [1, 2, 3, 4, 5] });
    expect(DEFAULT_CONTACTS['ml-lead'].hours).toEqual({ start: 9, end: 18, days: [1, 2, 3, 4, 5] });
    expect(DEFAULT_CONTACTS.cto).toMatchObject({
      hours: 'emergency-only',
      slack: '@cto',
      email: 'cto@company.com',
    });
  });

  it('resolves a role with an empty config to the 2.1 row', () => {
    const c = resolveContact('eng-lead', cot('2026-11-04T10:00:00'));
    expect(c).toMatchObject({
      role: 'eng-lead',
      roleName: 'Engineering Lead',
      slack: '@eng-lead',
      source: 'contact',
      withinHours: true,
    });
  });
});

describe('weekly rotation (on-call primary/secondary)', () => {
  // 2026-11-02 is a Monday; handoff Mondays 09:00 COT.
  const config = parseContactConfig({
    rotations: {
      'oncall-primary': { people, startDate: '2026-11-02', handoffWeekday: 'monday', handoffHour: 9 },
    },
  });

  it('hands off exactly at the handoff instant in COT', () => {
    expect(resolveContact('oncall-primary', cot('2026-11-02T09:00:00'), config).name).toBe('Ana');
    expect(resolveContact('oncall-primary', cot('2026-11-09T08:59:59'), config).name).toBe('Ana');
    expect(resolveContact('oncall-primary', cot('2026-11-09T09:00:00'), config).name).toBe('Bruno');
    expect(resolveContact('oncall-primary', cot('2026-11-16T09:00:00'), config).name).toBe('Carla');
    // wraps around after the last person
    expect(resolveContact('oncall-primary', cot('2026-11-23T09:00:00'), config).name).toBe('Ana');
  });

  it('uses COT, not UTC: 13:59Z is 08:59 COT, still the previous shift', () => {
    expect(resolveContact('oncall-primary', Date.parse('2026-11-09T13:59:00Z'), config).name).toBe('Ana');
    expect(resolveContact('oncall-primary', Date.parse('2026-11-09T14:00:00Z'), config).name).toBe('Bruno');
  });

  it('reports the shift bounds and takes missing details from the role row', () => {
    const c = resolveContact('oncall-primary', cot('2026-11-12T03:00:00'), config);
    expect(c).toMatchObject({
      name: 'Bruno',
      slack: 'U0BRUNO',
      email: 'oncall-primary@company.com',
      source: 'rotation',
      withinHours: true,
      availability: 'always',
    });
    expect(c.shift).toEqual({
      index: 1,
      startMs: cot('2026-11-09T09:00:00'),
      endMs: cot('2026-11-16T09:00:00'),
    });
    expect(resolveContact('oncall-primary', cot('2026-11-03T00:00:00'), config).phone).toBe(
      '+57-300-000-0001',
    );
  });

  it('extrapolates backwards before the start date', () => {
    expect(resolveContact('oncall-primary', cot('2026-11-02T08:59:00'), config).name).toBe('Carla');
    expect(resolveContact('oncall-primary', cot('2026-10-26T09:00:00'), config).name).toBe('Carla');
    expect(resolveContact('oncall-primary', cot('2026-10-26T08:59:00'), config).name).toBe('Bruno');
  });

  it('a start date off the handoff weekday gives person 0 a short first shift', () => {
    // 2026-11-04 is a Wednesday; first handoff is Monday 2026-11-09 09:00 COT.
    const r = parseContactConfig({
      rotations: {
        'oncall-secondary': { people, startDate: '2026-11-04', handoffWeekday: 1, handoffHour: 9 },
      },
    });
    const rotation = r.rotations['oncall-secondary']!;
    expect(rotationShift(rotation, cot('2026-11-05T12:00:00'))).toEqual({
      index: 0,
      startMs: cot('2026-11-04T09:00:00'),
      endMs: cot('2026-11-09T09:00:00'),
    });
    expect(resolveContact('oncall-secondary', cot('2026-11-09T09:00:00'), r).name).toBe('Bruno');
    // the primary has no rotation configured: the 2.1 row
    expect(resolveContact('oncall-primary', cot('2026-11-09T09:00:00'), r)).toMatchObject({
      name: 'On-Call Primary',
      source: 'contact',
    });
  });

  it('an override wins over the rotation inside its window only', () => {
    const c = parseContactConfig({
      rotations: { 'oncall-primary': { people, startDate: '2026-11-02' } },
      overrides: [
        {
          role: 'oncall-primary',
          from: '2026-11-10T00:00:00-05:00',
          to: '2026-11-11T00:00:00-05:00',
          person: { name: 'Diego', slack: 'U0DIEGO' },
        },
      ],
    });
    expect(resolveContact('oncall-primary', cot('2026-11-09T23:59:00'), c).name).toBe('Bruno');
    expect(resolveContact('oncall-primary', cot('2026-11-10T12:00:00'), c)).toMatchObject({
      name: 'Diego',
      source: 'override',
    });
    expect(resolveContact('oncall-primary', cot('2026-11-11T00:00:00'), c).name).toBe('Bruno');
  });
});

describe('working hours in COT', () => {
  it('9-18 COT on weekdays for the engineering lead (end exclusive)', () => {
    const at = (t: string) => resolveContact('eng-lead', cot(t));
    expect(at('2026-11-04T08:59:00')).toMatchObject({ withinHours: false, availability: 'off-hours' });
    expect(at('2026-11-04T09:00:00')).toMatchObject({ withinHours: true, availability: 'working-hours' });
    expect(at('2026-11-04T17:59:00').withinHours).toBe(true);
    expect(at('2026-11-04T18:00:00').withinHours).toBe(false);
    // Saturday
    expect(at('2026-11-07T10:00:00').withinHours).toBe(false);
  });

  it('8-17 COT for the trading lead; 14:00Z is 09:00 COT', () => {
    expect(resolveContact('trading-lead', Date.parse('2026-11-04T12:59:00Z')).withinHours).toBe(false);
    expect(resolveContact('trading-lead', Date.parse('2026-11-04T13:00:00Z')).withinHours).toBe(true);
    expect(resolveContact('trading-lead', Date.parse('2026-11-04T22:00:00Z')).withinHours).toBe(false);
  });

  it('24/7 is always within hours; CTO is emergency-only', () => {
    expect(resolveContact('oncall-secondary', cot('2026-11-08T03:00:00')).withinHours).toBe(true);
    expect(resolveContact('cto', cot('2026-11-04T10:00:00'))).toMatchObject({
      withinHours: false,
      availability: 'emergency-only',
    });
  });

  it('config can change hours and days', () => {
    const c = parseContactConfig({
      roles: { 'ml-lead': { name: 'Marta', slack: 'U0MARTA', hours: { start: 10, end: 20, days: [6] } } },
    });
    expect(resolveContact('ml-lead', cot('2026-11-07T19:30:00'), c)).toMatchObject({
      name: 'Marta',
      slack: 'U0MARTA',
      email: 'ml-lead@company.com',
      withinHours: true,
    });
    expect(resolveContact('ml-lead', cot('2026-11-04T12:00:00'), c).withinHours).toBe(false);
    expect(
      isWithinHours({ start: 0, end: 24, days: [0, 1, 2, 3, 4, 5, 6] }, cot('2026-11-04T23:59:00')),
    ).toBe(true);
  });
});

describe('config validation', () => {
  it('refuses unknown Slack and PagerDuty users unless the config says otherwise (secure by default)', () => {
    expect(parseContactConfig({}).requireKnownUsers).toBe(true);
    expect(parseContactConfig(undefined).requireKnownUsers).toBe(true);
    expect(parseContactConfig({ requireKnownUsers: false }).requireKnownUsers).toBe(false);
  });

  it('rejects bad hours, an empty rotation, an unknown role and a bad date with a ZodError', () => {
    expect(() => parseContactConfig({ roles: { 'eng-lead': { hours: { start: 18, end: 9 } } } })).toThrow(
      ZodError,
    );
    expect(() =>
      parseContactConfig({ rotations: { 'oncall-primary': { people: [], startDate: '2026-11-02' } } }),
    ).toThrow(ZodError);
    expect(() => parseContactConfig({ roles: { janitor: { name: 'x' } } })).toThrow(ZodError);
    expect(() =>
      parseContactConfig({ rotations: { 'oncall-primary': { people, startDate: '2026-13-40' } } }),
    ).toThrow(ZodError);
    expect(() =>
      parseContactConfig({ rotations: { 'eng-lead': { people, startDate: '2026-11-02' } } }),
    ).toThrow(ZodError);
  });

  it('is deterministic: same inputs, same answer', () => {
    const c = parseContactConfig({ rotations: { 'oncall-primary': { people, startDate: '2026-11-02' } } });
    const t = cot('2027-03-01T09:00:00');
    expect(resolveContact('oncall-primary', t, c)).toEqual(resolveContact('oncall-primary', t, c));
  });
});
