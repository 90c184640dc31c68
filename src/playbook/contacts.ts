// 2.1 Primary contacts: who a role means at a given instant, and whether that is within their hours.
// Pure and deterministic (no clock, no I/O): the paging activity passes the send time in (DESIGN
// "who a role means (rotation, contact) is resolved by the paging activity at send time").
import { z } from 'zod';
import { ROLE_IDS, ROLES, type RoleId } from './roles';
import { COT_OFFSET_MS, DAY_MS, formatCot, toCot } from './time';

const WEEK_MS = 7 * DAY_MS;

const WEEKDAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'] as const;

/** 0 = Sunday ... 6 = Saturday, or the English day name ("monday"). */
const weekdaySchema = z.union([
  z.number().int().min(0).max(6),
  z.enum(WEEKDAY_NAMES).transform((name) => WEEKDAY_NAMES.indexOf(name)),
]);

/**
 * 2.1 "Hours" column. `{start, end}` are COT hours (end exclusive) on `days` (default Monday-Friday: the
 * playbook says "9-18 COT" without days; we read it as business hours, like the business days of 1.1 P3).
 */
export const hoursSchema = z.union([
  z.literal('24/7'),
  z.literal('emergency-only'),
  z
    .object({
      start: z.number().int().min(0).max(23),
      end: z.number().int().min(1).max(24),
      days: z.array(z.number().int().min(0).max(6)).min(1).default([1, 2, 3, 4, 5]),
    })
    .refine((h) => h.start < h.end, { message: 'hours.start must be before hours.end (COT, same day)' }),
]);
export type Hours = z.output<typeof hoursSchema>;

export const personSchema = z.object({
  name: z.string().min(1),
  phone: z.string().min(1).optional(),
  email: z.string().min(1).optional(),
  /** Slack handle ("@ana"), user id ("U024BE7LH") or user-group id ("S0614TZR7"). */
  slack: z.string().min(1).optional(),
  /** Who this person is on Slack and PagerDuty: their clicks and acks are verified as them. */
  slackUserId: z.string().min(1).optional(),
  pagerdutyUserId: z.string().min(1).optional(),
  /** Where the person lives (IANA, e.g. America/New_York): times shown to them also in that zone. */
  timeZone: z.string().min(1).refine(isTimeZone, 'an IANA time zone such as America/New_York').optional(),
});
export type Person = z.output<typeof personSchema>;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * An instant for a person: COT (the desk's time, no daylight saving), and the person's own zone beside it
 * when they have one ("2026-03-08 09:00 COT (10:00 EDT America/New_York)"); stored and sent as UTC.
 */
export function formatForPerson(epochMs: number, timeZone?: string): string {
  const cot = formatCot(epochMs);
  if (!timeZone) return cot;
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(new Date(epochMs));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const day = `${get('year')}-${get('month')}-${get('day')}`;
  const local = `${get('hour')}:${get('minute')} ${get('timeZoneName')} ${timeZone}`;
  return `${cot} (${day === cot.slice(0, 10) ? '' : `${day} `}${local})`;
}

export const roleContactSchema = z.object({
  name: z.string().min(1),
  phone: z.string().min(1),
  email: z.string().min(1),
  slack: z.string().min(1),
  hours: hoursSchema,
  slackUserId: z.string().min(1).optional(),
  pagerdutyUserId: z.string().min(1).optional(),
});
export type RoleContact = z.output<typeof roleContactSchema>;

const cotDateSchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a COT calendar date YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), 'not a valid date');

/**
 * A weekly rotation. The person at index 0 holds the shift that begins at `startDate` `handoffHour` COT;
 * each later handoff (every `handoffWeekday` at `handoffHour` COT) passes the pager to the next person,
 * wrapping around. Before `startDate` the rotation is extrapolated backwards, so every instant has someone.
 */
export const rotationSchema = z.object({
  people: z.array(personSchema).min(1),
  startDate: cotDateSchema,
  handoffWeekday: weekdaySchema.default(1),
  handoffHour: z.number().int().min(0).max(23).default(9),
});
export type Rotation = z.output<typeof rotationSchema>;

/** A temporary swap (vacation, sick day): `person` holds the role from `from` (inclusive) to `to` (exclusive). */
export const overrideSchema = z
  .object({
    role: z.enum(ROLE_IDS),
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    person: personSchema,
  })
  .refine((o) => Date.parse(o.from) < Date.parse(o.to), {
    message: 'override.from must be before override.to',
  });
export type Override = z.output<typeof overrideSchema>;

const ROTATING_ROLES = ['oncall-primary', 'oncall-secondary'] as const;
export type RotatingRole = (typeof ROTATING_ROLES)[number];

/** The deployment config's `contacts` section. Every key is optional: absent ones take the 2.1 defaults. */
export const contactConfigSchema = z.object({
  roles: z.partialRecord(z.enum(ROLE_IDS), roleContactSchema.partial()).default({}),
  rotations: z.partialRecord(z.enum(ROTATING_ROLES), rotationSchema).default({}),
  overrides: z.array(overrideSchema).default([]),
  /**
   * true (the default): an action from a Slack or PagerDuty user in no contact above is refused, and the
   * person is told why. Anyone in a Slack workspace can click a button; only the people of 2.1 act on an
   * incident. false records them as `slack:<user id>` / `pagerduty:<user id>` ("not in contacts").
   */
  requireKnownUsers: z.boolean().default(true),
});
export type ContactConfig = z.output<typeof contactConfigSchema>;

export interface KnownUser {
  name: string;
  /** The role the contact holds in the config (a role contact, a rotation's role, an override's role). */
  role?: RoleId;
}

/**
 * The contact a Slack or PagerDuty user id belongs to: role contacts first, then rotations, then overrides;
 * null for a user in none of them.
 */
export function findContactByPlatformId(
  config: ContactConfig,
  platform: 'slack' | 'pagerduty',
  userId: string,
): KnownUser | null {
  const key = platform === 'slack' ? 'slackUserId' : 'pagerdutyUserId';
  for (const [role, c] of Object.entries(config.roles) as [RoleId, Partial<RoleContact>][])
    if (c?.[key] === userId) return { name: c.name ?? DEFAULT_CONTACTS[role].name, role };
  for (const [role, r] of Object.entries(config.rotations) as [RoleId, Rotation][])
    for (const p of r?.people ?? []) if (p[key] === userId) return { name: p.name, role };
  for (const o of config.overrides)
    if (o.person[key] === userId) return { name: o.person.name, role: o.role };
  return null;
}
export type ContactConfigInput = z.input<typeof contactConfigSchema>;

/** 2.1 "Hours" text -> structured hours. */
function defaultHours(role: RoleId): Hours {
  const text = ROLES[role].hours;
  if (text === '24/7') return '24/7';
  if (text === 'Emergency Only') return 'emergency-only';
  const m = /^(\d{1,2})-(\d{1,2}) COT$/.exec(text);
  if (!m) throw new Error(`2.1 hours for ${role} not understood: ${text}`);
  return { start: Number(m[1]), end: Number(m[2]), days: [1, 2, 3, 4, 5] };
}

// 2.1 table as defaults. Names and phones are placeholders in the playbook; the deployment config fills them.
export const DEFAULT_CONTACTS: Record<RoleId, RoleContact> = Object.fromEntries(
  ROLE_IDS.map((role) => [
    role,
    {
      name: ROLES[role].name,
      phone: '+57-XXX-XXX-XXXX',
      email: ROLES[role].email,
      slack: ROLES[role].slack,
      hours: defaultHours(role),
    },
  ]),
) as Record<RoleId, RoleContact>;

/** Parse the contacts section; throws a ZodError naming the bad key. */
export function parseContactConfig(input: unknown): ContactConfig {
  return contactConfigSchema.parse(input ?? {});
}

export const EMPTY_CONTACT_CONFIG: ContactConfig = parseContactConfig({});

export interface ResolvedContact {
  role: RoleId;
  /** 2.1 role name ("Engineering Lead"). */
  roleName: string;
  /** The person: from an override, the rotation, or the role's contact row. */
  name: string;
  phone: string;
  email: string;
  slack: string;
  hours: Hours;
  /** Inside the role's hours at that instant (COT). Always true for 24/7, always false for emergency-only. */
  withinHours: boolean;
  /** 'emergency-only' roles (2.1 CTO) are paged only when the escalation matrix says so. */
  availability: 'always' | 'working-hours' | 'off-hours' | 'emergency-only';
  source: 'override' | 'rotation' | 'contact';
  /** For rotations: the current shift [start, end) in epoch ms, and the index into `people`. */
  shift?: { index: number; startMs: number; endMs: number };
}

/** Is `atEpochMs` within `hours` (COT, UTC-5, no DST)? */
export function isWithinHours(hours: Hours, atEpochMs: number): boolean {
  if (hours === '24/7') return true;
  if (hours === 'emergency-only') return false;
  const c = toCot(atEpochMs);
  const minuteOfDay = c.hour * 60 + c.minute;
  return hours.days.includes(c.weekday) && minuteOfDay >= hours.start * 60 && minuteOfDay < hours.end * 60;
}

/** The rotation shift containing `atEpochMs`. */
export function rotationShift(
  rotation: Rotation,
  atEpochMs: number,
): { index: number; startMs: number; endMs: number } {
  const [y, m, d] = rotation.startDate.split('-').map(Number) as [number, number, number];
  const startMs = Date.UTC(y, m - 1, d, rotation.handoffHour) - COT_OFFSET_MS;
  // First handoff strictly after the start: the next handoffWeekday at handoffHour (7 days if same weekday).
  const startWeekday = toCot(startMs).weekday;
  const daysToFirst = (rotation.handoffWeekday - startWeekday + 7) % 7 || 7;
  const firstHandoffMs = startMs + daysToFirst * DAY_MS;
  // k = number of handoffs in (startMs, atEpochMs]; negative before the start (extrapolated backwards).
  const k = Math.floor((atEpochMs - firstHandoffMs) / WEEK_MS) + 1;
  const n = rotation.people.length;
  const index = ((k % n) + n) % n;
  const shiftStart = k === 0 ? startMs : firstHandoffMs + (k - 1) * WEEK_MS;
  const shiftEnd = firstHandoffMs + k * WEEK_MS;
  return { index, startMs: shiftStart, endMs: shiftEnd };
}

/** Who `role` is at `atEpochMs`, with their contact details and whether that instant is in their hours. */
export function resolveContact(
  role: RoleId,
  atEpochMs: number,
  config: ContactConfig = EMPTY_CONTACT_CONFIG,
): ResolvedContact {
  const base: RoleContact = { ...DEFAULT_CONTACTS[role], ...definedOnly(config.roles[role] ?? {}) };
  let person: Person | undefined;
  let source: ResolvedContact['source'] = 'contact';
  let shift: ResolvedContact['shift'];

  const override = config.overrides.find(
    (o) => o.role === role && Date.parse(o.from) <= atEpochMs && atEpochMs < Date.parse(o.to),
  );
  const rotation = (ROTATING_ROLES as readonly string[]).includes(role)
    ? config.rotations[role as RotatingRole]
    : undefined;
  if (override) {
    person = override.person;
    source = 'override';
  } else if (rotation) {
    shift = rotationShift(rotation, atEpochMs);
    person = rotation.people[shift.index];
    source = 'rotation';
  }

  const withinHours = isWithinHours(base.hours, atEpochMs);
  const availability: ResolvedContact['availability'] =
    base.hours === '24/7'
      ? 'always'
      : base.hours === 'emergency-only'
        ? 'emergency-only'
        : withinHours
          ? 'working-hours'
          : 'off-hours';

  return {
    role,
    roleName: ROLES[role].name,
    // A person without a given detail falls back to the role's shared one (the role alias still reaches them).
    name: person?.name ?? base.name,
    phone: person?.phone ?? base.phone,
    email: person?.email ?? base.email,
    slack: person?.slack ?? base.slack,
    hours: base.hours,
    withinHours,
    availability,
    source,
    ...(shift ? { shift } : {}),
  };
}

function definedOnly<T extends object>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}
