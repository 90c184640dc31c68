// The on-call roster's rules, pure (src/playbook/oncall.ts): runtime overrides in front of the rotation,
// cancelling restores it, "now, until, next" per role, the next handover and its notice, and times shown in a
// contact's own zone across a daylight-saving change.
import { formatForPerson, parseContactConfig, resolveContact } from '../../src/playbook/contacts';
import { addOverrideSchema, cancelOverrideSchema } from '../../src/playbook/contract/oncall';
import {
  addOverride,
  cancelOverride,
  emptyRoster,
  handoverText,
  nextHandover,
  onCallAt,
  prune,
  rosterView,
  withRuntimeOverrides,
} from '../../src/playbook/oncall';

/** Epoch ms of a COT wall-clock time (COT = UTC-5, no DST). */
const cot = (isoLocal: string): number => Date.parse(`${isoLocal}-05:00`);
const people = [
  { name: 'Ana', slack: 'U0ANA', timeZone: 'America/New_York' },
  { name: 'Bruno', slack: 'U0BRUNO' },
];
// Weekly hand-off Mondays 09:00 COT from Monday 2026-11-02 (Ana first).
const contacts = parseContactConfig({
  rotations: { 'oncall-primary': { people, startDate: '2026-11-02' } },
});
const add = (input: Record<string, unknown>) => addOverrideSchema.parse({ by: 'lead', ...input });

describe('runtime overrides', () => {
  it('an override for oncall-primary names the covering person; cancelling it restores the rotation', () => {
    const core = emptyRoster();
    const now = cot('2026-12-08T10:00:00');
    expect(resolveContact('oncall-primary', now, contacts).name).toBe('Bruno');
    const r = addOverride(
      core,
      add({
        role: 'oncall-primary',
        person: { name: 'Carla', slack: 'U0CARLA' },
        from: new Date(now - 3600_000).toISOString(),
        to: new Date(now + 86_400_000).toISOString(),
        reason: 'Bruno is sick',
        via: 'slack',
      }),
      now,
    );
    expect(r).toMatchObject({ accepted: true, override: { id: 'ovr-1', role: 'oncall-primary' } });
    const live = withRuntimeOverrides(contacts, core.overrides);
    expect(resolveContact('oncall-primary', now, live)).toMatchObject({ name: 'Carla', source: 'override' });
    expect(core.changes.at(-1)).toMatchObject({ by: 'lead', via: 'slack', action: 'add' });

    const c = cancelOverride(core, cancelOverrideSchema.parse({ id: 'ovr-1', by: 'carla' }), now + 60_000);
    expect(c.accepted).toBe(true);
    const after = withRuntimeOverrides(contacts, core.overrides);
    expect(resolveContact('oncall-primary', now + 120_000, after).name).toBe('Bruno');
    // Before the cancel, the record still says Carla held it.
    expect(resolveContact('oncall-primary', now + 30_000, after).name).toBe('Carla');
    expect(cancelOverride(core, cancelOverrideSchema.parse({ id: 'ovr-1', by: 'x' }), now).accepted).toBe(
      false,
    );
    expect(cancelOverride(core, cancelOverrideSchema.parse({ id: 'ovr-9', by: 'x' }), now).accepted).toBe(
      false,
    );
  });

  it('refuses an override that is over, or whose end is before its start', () => {
    const core = emptyRoster();
    const now = cot('2026-12-08T10:00:00');
    const past = addOverride(
      core,
      add({ role: 'cto', person: { name: 'Zed' }, from: '2026-12-01T00:00:00Z', to: '2026-12-02T00:00:00Z' }),
      now,
    );
    expect(past).toMatchObject({ accepted: false, message: expect.stringContaining('before now') });
    expect(
      addOverrideSchema.safeParse({
        role: 'cto',
        person: { name: 'Zed' },
        from: '2026-12-09T00:00:00Z',
        to: '2026-12-08T00:00:00Z',
        by: 'x',
      }).success,
    ).toBe(false);
    expect(core.overrides).toEqual([]);
  });

  it('the newest runtime override of a role wins; the view lists what is in force or to come; old ones are pruned', () => {
    const core = emptyRoster();
    const now = cot('2026-12-08T10:00:00');
    const day = 86_400_000;
    addOverride(
      core,
      add({
        role: 'eng-lead',
        person: { name: 'Old' },
        from: new Date(now).toISOString(),
        to: new Date(now + 2 * day).toISOString(),
      }),
      now,
    );
    addOverride(
      core,
      add({
        role: 'eng-lead',
        person: { name: 'New' },
        from: new Date(now).toISOString(),
        to: new Date(now + day).toISOString(),
      }),
      now + 1000,
    );
    const live = withRuntimeOverrides(contacts, core.overrides);
    expect(resolveContact('eng-lead', now + 2000, live).name).toBe('New');
    expect(resolveContact('eng-lead', now + day + 1000, live).name).toBe('Old');
    expect(rosterView(core, now).overrides.map((o) => o.person.name)).toEqual(['Old', 'New']);
    prune(core, now + 40 * day);
    expect(core.overrides).toEqual([]);
    expect(core.changes).toHaveLength(2);
  });
});

describe('who is on call now, until when, and next', () => {
  it('follows the rotation hand-off and an override inside it', () => {
    const at = cot('2026-12-08T10:00:00'); // Tuesday: Bruno's week (2026-12-07 to 12-14)
    const core = emptyRoster();
    addOverride(
      core,
      add({
        role: 'oncall-primary',
        person: { name: 'Carla' },
        from: '2026-12-10T14:00:00Z',
        to: '2026-12-11T14:00:00Z',
      }),
      at,
    );
    const live = withRuntimeOverrides(contacts, core.overrides);
    const primary = onCallAt(live, at).find((e) => e.role === 'oncall-primary')!;
    expect(primary).toMatchObject({
      now: { name: 'Bruno', source: 'rotation' },
      until: '2026-12-10T14:00:00.000Z',
      next: { name: 'Carla', source: 'override' },
    });
    const cto = onCallAt(live, at).find((e) => e.role === 'cto')!;
    expect(cto).toMatchObject({ now: { source: 'contact' }, until: null, next: null });
    const h = nextHandover(live, at)!;
    expect(h.at).toBe(Date.parse('2026-12-10T14:00:00Z'));
    expect(h.changes).toEqual([{ role: 'oncall-primary', from: 'Bruno', to: 'Carla' }]);
    // After the override, Bruno again, then Ana at Monday 09:00 COT.
    const later = nextHandover(live, Date.parse('2026-12-11T14:00:00Z'))!;
    expect(later).toMatchObject({ at: cot('2026-12-14T09:00:00'), changes: [{ from: 'Bruno', to: 'Ana' }] });
    expect(handoverText(later.at, later.changes)).toBe(
      'Shift change at 2026-12-14 09:00 COT:\n- On-Call Primary (oncall-primary): Bruno hands over to Ana',
    );
  });
});

describe("times in a contact's own zone", () => {
  it('shows the same COT hand-off an hour apart in New York across the March daylight-saving change', () => {
    // Monday 09:00 COT = 14:00 UTC, both weeks; New York moves from EST (UTC-5) to EDT (UTC-4) on 2026-03-08.
    const before = cot('2026-03-02T09:00:00');
    const after = cot('2026-03-09T09:00:00');
    expect(after - before).toBe(7 * 86_400_000);
    expect(formatForPerson(before, 'America/New_York')).toBe(
      '2026-03-02 09:00 COT (09:00 EST America/New_York)',
    );
    expect(formatForPerson(after, 'America/New_York')).toBe(
      '2026-03-09 09:00 COT (10:00 EDT America/New_York)',
    );
    expect(formatForPerson(after)).toBe('2026-03-09 09:00 COT');
    // The rotation itself is in COT: the hand-off instant does not move with New York's clocks.
    const c = parseContactConfig({ rotations: { 'oncall-primary': { people, startDate: '2026-03-02' } } });
    expect(nextHandover(c, before + 1000)!.at).toBe(after);
    expect(() =>
      parseContactConfig({
        rotations: {
          'oncall-primary': { people: [{ name: 'X', timeZone: 'Mars/Olympus' }], startDate: '2026-03-02' },
        },
      }),
    ).toThrow(/IANA/);
  });
});
