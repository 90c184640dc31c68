// "Who is on call now, until when, and who next" as the ingress answers it (GET /v1/oncall, `/incident oncall`),
// and what `/incident override` needs to read a person and a time. Pure: the caller passes the contacts, the
// roster's overrides and the time in.
import {
  DEFAULT_CONTACTS,
  findContactByPlatformId,
  formatForPerson,
  type ContactConfig,
  type Person,
} from '../playbook/contacts';
import type { OnCallEntry, RuntimeOverride } from '../playbook/contract/oncall';
import { onCallAt, withRuntimeOverrides } from '../playbook/oncall';
import { ROLE_IDS, type RoleId } from '../playbook/roles';
import { COT_OFFSET_MS, formatCot, isoOf } from '../playbook/time';

export interface OncallRoleView {
  role: RoleId;
  roleName: string;
  now: OnCallEntry['now'];
  until: string | null;
  /** `until` for the person now on call: COT, and their own zone when the contacts give one. */
  untilText: string | null;
  next: (NonNullable<OnCallEntry['next']> & { fromText: string }) | null;
}

export interface OncallView {
  at: string;
  roles: OncallRoleView[];
  /** The roster's overrides in force or to come (cancelled ones left out), by start. */
  overrides: RuntimeOverride[];
}

/**
 * Every person the contacts name (role contacts, rotations, overrides; the runtime overrides first when they
 * are merged in), by name: the first one found.
 */
export function contactPeople(config: ContactConfig): Map<string, Person> {
  const out = new Map<string, Person>();
  const add = (p: Person) => {
    if (!out.has(p.name)) out.set(p.name, p);
  };
  for (const o of config.overrides) add(asPerson(o.person));
  for (const r of Object.values(config.rotations)) for (const p of r?.people ?? []) add(asPerson(p));
  for (const [role, c] of Object.entries(config.roles) as [RoleId, Partial<Person>][])
    if (c) add(asPerson({ ...definedOnly(c), name: c.name ?? DEFAULT_CONTACTS[role].name }));
  return out;
}

/** The time zone the contacts give `name` (the first entry that has one), if any. */
export function timeZoneOf(config: ContactConfig, name: string): string | undefined {
  for (const o of config.overrides) if (o.person.name === name && o.person.timeZone) return o.person.timeZone;
  for (const r of Object.values(config.rotations))
    for (const p of r?.people ?? []) if (p.name === name && p.timeZone) return p.timeZone;
  return undefined;
}

/** The on-call view at `at`: the contacts with the roster's overrides in front. */
export function oncallView(
  contacts: ContactConfig,
  overrides: readonly RuntimeOverride[],
  at: number,
): OncallView {
  const merged = withRuntimeOverrides(contacts, overrides);
  const roles = onCallAt(merged, at).map((e) => ({
    role: e.role,
    roleName: e.roleName,
    now: e.now,
    until: e.until,
    untilText: e.until === null ? null : formatForPerson(Date.parse(e.until), timeZoneOf(merged, e.now.name)),
    next: e.next
      ? {
          ...e.next,
          fromText: formatForPerson(Date.parse(e.next.from), timeZoneOf(merged, e.next.name)),
        }
      : null,
  }));
  return { at: isoOf(at), roles, overrides: [...overrides] };
}

/** The `/incident oncall` answer: one line per role, then the overrides with their ids (to cancel one). */
export function oncallText(view: OncallView, rosterRunning: boolean): string {
  const lines = view.roles.map((r) => {
    const until = r.untilText ? ` until ${r.untilText}` : '';
    const next = r.next ? `; next: ${r.next.name} (${r.next.source})` : '';
    return `*${r.roleName}* (${r.role}): ${r.now.name} (${r.now.source})${until}${next}`;
  });
  const overrides = view.overrides.map(
    (o) =>
      `- ${o.id}: ${o.person.name} covers ${o.role} from ${formatCot(Date.parse(o.from))} to ${formatCot(Date.parse(o.to))} (by ${o.by}${o.reason ? `: ${o.reason}` : ''})`,
  );
  return [
    `On call at ${formatCot(Date.parse(view.at))}:`,
    ...lines,
    ...(overrides.length > 0
      ? ['Overrides (`/incident override cancel <id>` ends one):', ...overrides]
      : [rosterRunning ? 'No overrides' : 'No overrides (the on-call roster is not running)']),
  ].join('\n');
}

/**
 * A time typed in Slack: ISO with a zone (`2026-12-08T14:00:00Z`, `...-05:00`), `YYYY-MM-DDTHH:MM[:SS]` read as
 * COT, or `now`. Null when it is none of these.
 */
export function parseOverrideTime(value: string, now: number): string | null {
  if (value.toLowerCase() === 'now') return isoOf(now);
  const local = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(value);
  if (local) {
    const [y, mo, d, h, mi, s] = local.slice(1).map((x) => Number(x ?? 0)) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const wall = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
    // 2026-02-30 or 25:00 is no time (Date.UTC would roll it over).
    if (
      wall.getUTCMonth() !== mo - 1 ||
      wall.getUTCDate() !== d ||
      wall.getUTCHours() !== h ||
      mi > 59 ||
      s > 59
    )
      return null;
    // COT wall time -> the instant (COT_OFFSET_MS is COT's offset from UTC).
    const ms = wall.getTime() - COT_OFFSET_MS;
    return isoOf(ms);
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i.test(value)) {
    const ms = Date.parse(value);
    return Number.isNaN(ms) ? null : isoOf(ms);
  }
  return null;
}

/**
 * Who `/incident override` names as the cover, from the start of `text`: a Slack mention (`<@U123>` or
 * `<@U123|ana>`, mapped through the contacts' `slackUserId`; `@ana`, a contact's `slack` handle), a quoted
 * name (straight or curly quotes), or a contact's name (the longest that fits, case aside). Returns the person
 * as the contacts have them, and the rest of the text.
 */
export function readCover(
  text: string,
  contacts: ContactConfig,
): { person: Person; rest: string } | { problem: string } {
  const people = contactPeople(contacts);
  const byName = (name: string) =>
    [...people.values()].find((p) => p.name.toLowerCase() === name.trim().toLowerCase()) ?? null;
  const mention = /^<@([A-Z0-9]+)(?:\|[^>]*)?>(.*)$/is.exec(text);
  if (mention) {
    const known = findContactByPlatformId(contacts, 'slack', mention[1]!);
    const person = known ? byName(known.name) : null;
    return person
      ? { person, rest: mention[2]!.trim() }
      : { problem: `<@${mention[1]}> is not in contacts: only a known contact can cover a role` };
  }
  // Without escaping (the manifest's should_escape: false) Slack sends a mention as typed: `@ana`.
  const handle = /^(@[\w.-]+)(.*)$/s.exec(text);
  if (handle) {
    const h = handle[1]!.toLowerCase();
    const person = [...people.values()].find(
      (p) => p.slack !== undefined && [h, h.slice(1)].includes(p.slack.toLowerCase()),
    );
    if (person) return { person, rest: handle[2]!.trim() };
  }
  const quoted = /^["“]([^"“”]+)["”](.*)$/s.exec(text);
  if (quoted) {
    const person = byName(quoted[1]!);
    return person
      ? { person, rest: quoted[2]!.trim() }
      : {
          problem: `"${quoted[1]!.slice(0, 100)}" is not in contacts: only a known contact can cover a role`,
        };
  }
  const names = [...people.keys()].sort((a, b) => b.length - a.length);
  const lower = text.toLowerCase();
  for (const name of names) {
    const n = name.toLowerCase();
    if (lower === n || lower.startsWith(`${n} `))
      return { person: people.get(name)!, rest: text.slice(name.length).trim() };
  }
  const first = text.split(/\s+/)[0] ?? '';
  return {
    problem: `${first.slice(0, 100) || '(nobody)'} is not in contacts: only a known contact can cover a role`,
  };
}

export const isRole = (value: string): value is RoleId => (ROLE_IDS as readonly string[]).includes(value);

/** A person's fields only (a role contact's `hours` stays behind). */
function asPerson(p: Person): Person {
  return definedOnly({
    name: p.name,
    phone: p.phone,
    email: p.email,
    slack: p.slack,
    slackUserId: p.slackUserId,
    pagerdutyUserId: p.pagerdutyUserId,
    timeZone: p.timeZone,
  }) as Person;
}

function definedOnly<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
