// GET /v1/oncall, POST /v1/oncall/overrides and DELETE /v1/oncall/overrides/{id} with the FakeStarter (the
// roster's own rules behind it): the answer's shape, what a bad body gets (the field named, nothing recorded),
// `via: http` whatever the body says, and the codes of a refused cancel.
import { buildIngress } from '../../src/ingress/server';
import { parseContactConfig } from '../../src/playbook/contacts';
import { ROLE_IDS } from '../../src/playbook/roles';
import { closeAllApps, defaultRules, FakeStarter, httpClient, testConfig } from './helpers';
import type { IngressConfigInput } from '../../src/ingress/config';

// Tuesday 2026-12-08 10:00 COT: the rotation (handoff Mondays 09:00 COT, from Monday 2026-11-30) is Luis's week.
const NOW = Date.parse('2026-12-08T15:00:00Z');
const contacts = parseContactConfig({
  rotations: {
    'oncall-primary': {
      startDate: '2026-11-30',
      people: [
        { name: 'Ana Gómez', slackUserId: 'U0ANA' },
        { name: 'Luis Pérez', slackUserId: 'U0LUIS', timeZone: 'Europe/Madrid' },
      ],
    },
  },
  roles: { 'eng-lead': { name: 'Marta Ríos', slackUserId: 'U0MARTA' } },
});

function app(config: Partial<IngressConfigInput> = {}) {
  const starter = new FakeStarter();
  let now = NOW;
  starter.oncallNow = () => now;
  const http = httpClient(
    buildIngress(testConfig(config), { starter, rules: defaultRules(), contacts, now: () => now }),
  );
  return { http, starter, setNow: (t: number) => (now = t) };
}

const cover = {
  role: 'oncall-primary',
  person: { name: 'Bea Castro', phone: '+57-300-000-0000', timeZone: 'America/New_York' },
  from: '2026-12-08T15:00:00Z',
  to: '2026-12-09T15:00:00Z',
  by: 'Luis Pérez',
  reason: 'Luis is sick',
};

afterAll(closeAllApps);

describe('GET /v1/oncall', () => {
  it('names each 2.1 role: who now (and from where), until when and who next, times in COT and the person’s zone', async () => {
    const { http } = app();
    const res = await http.inject({ method: 'GET', url: '/v1/oncall' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.at).toBe('2026-12-08T15:00:00.000Z');
    // No roster runs yet: no overrides, the config alone.
    expect(body.overrides).toEqual([]);
    expect(body.roles.map((r: { role: string }) => r.role)).toEqual([...ROLE_IDS]);
    expect(body.roles[0]).toEqual({
      role: 'oncall-primary',
      roleName: 'On-Call Primary',
      now: { name: 'Luis Pérez', source: 'rotation' },
      until: '2026-12-14T14:00:00.000Z',
      // Luis lives in Madrid: his own time beside COT.
      untilText: '2026-12-14 09:00 COT (15:00 GMT+1 Europe/Madrid)',
      next: {
        name: 'Ana Gómez',
        source: 'rotation',
        from: '2026-12-14T14:00:00.000Z',
        fromText: '2026-12-14 09:00 COT',
      },
    });
    // A role without a rotation: its contact, nothing scheduled.
    expect(body.roles.find((r: { role: string }) => r.role === 'eng-lead')).toEqual({
      role: 'eng-lead',
      roleName: expect.any(String),
      now: { name: 'Marta Ríos', source: 'contact' },
      until: null,
      untilText: null,
      next: null,
    });
  });

  it('answers 401 without the alert routes’ credentials and 503 when Temporal is away', async () => {
    const secured = app({ bearerTokens: 'tok-0123456789abcdef0123' });
    expect((await secured.http.inject({ method: 'GET', url: '/v1/oncall' })).statusCode).toBe(401);
    const ok = await secured.http.inject({
      method: 'GET',
      url: '/v1/oncall',
      headers: { authorization: 'Bearer tok-0123456789abcdef0123' },
    });
    expect(ok.statusCode).toBe(200);
    const down = app();
    down.starter.down = true;
    expect((await down.http.inject({ method: 'GET', url: '/v1/oncall' })).statusCode).toBe(503);
  });
});

describe('POST /v1/oncall/overrides', () => {
  it('adds the override as via http whatever the body said (201), and GET then names the cover', async () => {
    const { http, starter } = app();
    const res = await http.inject({
      method: 'POST',
      url: '/v1/oncall/overrides',
      payload: { ...cover, via: 'slack' },
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().override).toMatchObject({
      id: 'ovr-1',
      role: 'oncall-primary',
      person: { name: 'Bea Castro', timeZone: 'America/New_York' },
      from: '2026-12-08T15:00:00.000Z',
      to: '2026-12-09T15:00:00.000Z',
      by: 'Luis Pérez',
      via: 'http',
      reason: 'Luis is sick',
    });
    expect(res.json().message).toContain('Bea Castro covers oncall-primary');
    expect(starter.oncallCalls).toEqual([
      { update: 'addOverride', input: expect.objectContaining({ via: 'http', by: 'Luis Pérez' }) },
    ]);
    const view = (await http.inject({ method: 'GET', url: '/v1/oncall' })).json();
    expect(view.roles[0]).toEqual({
      role: 'oncall-primary',
      roleName: 'On-Call Primary',
      now: { name: 'Bea Castro', source: 'override' },
      until: '2026-12-09T15:00:00.000Z',
      untilText: '2026-12-09 10:00 COT (10:00 EST America/New_York)',
      next: {
        name: 'Luis Pérez',
        source: 'rotation',
        from: '2026-12-09T15:00:00.000Z',
        fromText: '2026-12-09 10:00 COT (16:00 GMT+1 Europe/Madrid)',
      },
    });
    expect(view.overrides).toEqual([expect.objectContaining({ id: 'ovr-1', via: 'http' })]);
  });

  it('refuses a bad body with 400 naming the field, and records nothing', async () => {
    const { http, starter } = app();
    const cases: [Record<string, unknown>, string][] = [
      [{ ...cover, role: 'janitor' }, 'role'],
      [{ ...cover, role: undefined }, 'role'],
      [{ ...cover, person: {} }, 'person.name'],
      [{ ...cover, person: { name: 'Bea', timeZone: 'Mars/Olympus' } }, 'person.timeZone'],
      [{ ...cover, from: 'tomorrow' }, 'from'],
      [{ ...cover, to: '2026-12-08T14:00:00Z' }, 'to'],
      [{ ...cover, by: '' }, 'by'],
      [{ ...cover, by: undefined }, 'by'],
    ];
    for (const [payload, field] of cases) {
      const res = await http.inject({ method: 'POST', url: '/v1/oncall/overrides', payload });
      expect({ field, status: res.statusCode }).toEqual({ field, status: 400 });
      expect(res.json().error.field).toBe(field);
    }
    const notJson = await http.inject({
      method: 'POST',
      url: '/v1/oncall/overrides',
      headers: { 'content-type': 'application/json' },
      payload: 'x',
    });
    expect(notJson.statusCode).toBe(400);
    expect(starter.oncallCalls).toEqual([]);
    expect(starter.roster).toBeNull();
  });

  it('an override the roster refuses (over before now) is 422 with the reason, and changes nothing', async () => {
    const { http, starter } = app();
    const res = await http.inject({
      method: 'POST',
      url: '/v1/oncall/overrides',
      payload: { ...cover, from: '2026-12-01T15:00:00Z', to: '2026-12-02T15:00:00Z' },
    });
    expect(res.statusCode).toBe(422);
    expect(res.json().error).toMatchObject({ code: 'refused', field: 'to' });
    expect(res.json().error.message).toContain('before now');
    expect(await starter.oncallOverrides()).toEqual([]);
  });
});

describe('DELETE /v1/oncall/overrides/{id}', () => {
  it('cancels (200) with `by` from the query or the body; 404 unknown, 409 already cancelled or over, 400 without by', async () => {
    const { http, starter, setNow } = app();
    await http.inject({ method: 'POST', url: '/v1/oncall/overrides', payload: cover });
    await http.inject({
      method: 'POST',
      url: '/v1/oncall/overrides',
      payload: { ...cover, from: '2026-12-10T15:00:00Z', to: '2026-12-11T15:00:00Z' },
    });

    const noBy = await http.inject({ method: 'DELETE', url: '/v1/oncall/overrides/ovr-1' });
    expect(noBy.statusCode).toBe(400);
    expect(noBy.json().error).toMatchObject({ field: 'by' });

    const unknown = await http.inject({ method: 'DELETE', url: '/v1/oncall/overrides/ovr-9?by=Ana' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.message).toBe('no override ovr-9');

    const ok = await http.inject({
      method: 'DELETE',
      url: '/v1/oncall/overrides/ovr-1?by=Ana%20G%C3%B3mez&reason=Luis%20is%20back',
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().override).toMatchObject({
      id: 'ovr-1',
      cancelled: { by: 'Ana Gómez', via: 'http', reason: 'Luis is back', at: '2026-12-08T15:00:00.000Z' },
    });
    const again = await http.inject({ method: 'DELETE', url: '/v1/oncall/overrides/ovr-1?by=Ana' });
    expect(again.statusCode).toBe(409);
    expect(again.json().error).toMatchObject({
      code: 'conflict',
      message: expect.stringContaining('already cancelled'),
    });

    // By the body; and once it is over, 409 too.
    setNow(Date.parse('2026-12-12T00:00:00Z'));
    const over = await http.inject({
      method: 'DELETE',
      url: '/v1/oncall/overrides/ovr-2',
      payload: { by: 'Ana Gómez' },
    });
    expect(over.statusCode).toBe(409);
    expect(over.json().error.message).toBe('override ovr-2 is already over');
    expect(starter.oncallCalls.filter((c) => c.update === 'cancelOverride').map((c) => c.input)).toEqual([
      { id: 'ovr-9', by: 'Ana', via: 'http' },
      { id: 'ovr-1', by: 'Ana Gómez', reason: 'Luis is back', via: 'http' },
      { id: 'ovr-1', by: 'Ana', via: 'http' },
      { id: 'ovr-2', by: 'Ana Gómez', via: 'http' },
    ]);
  });
});
