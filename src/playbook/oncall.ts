// The on-call roster's pure rules: runtime overrides (add, cancel, what is in force), and "who is on call now,
// until when, and who next" for each 2.1 role, over the config's rotations and overrides. No clock, no I/O:
// the workflow passes its time in; the paging activity resolves a role at send time with these overrides.
import { resolveContact, type ContactConfig, type Override } from './contacts';
import type { OncallChange, OncallResult, OnCallEntry, RuntimeOverride, RosterView } from './contract/oncall';
import type { addOverrideSchema, cancelOverrideSchema } from './contract/oncall';
import type { z } from 'zod';
import { ROLE_IDS, ROLES, type RoleId } from './roles';
import { DAY_MS, formatCot, isoOf } from './time';

type AddOverride = z.output<typeof addOverrideSchema>;
type CancelOverride = z.output<typeof cancelOverrideSchema>;

/** Overrides over for longer than this leave the roster (the audit of their changes stays in history). */
const KEEP_ENDED_MS = 30 * DAY_MS;
const MAX_CHANGES = 200;
/** How far ahead "next" is looked for. */
const HORIZON_MS = 60 * DAY_MS;

export interface RosterCore {
  overrides: RuntimeOverride[];
  changes: OncallChange[];
  seq: number;
}

export const emptyRoster = (): RosterCore => ({ overrides: [], changes: [], seq: 0 });

/** When an override actually ends: its `to`, or when it was cancelled if earlier. */
export function effectiveEnd(o: RuntimeOverride): number {
  const to = Date.parse(o.to);
  return o.cancelled ? Math.min(to, Date.parse(o.cancelled.at)) : to;
}

const describe = (o: RuntimeOverride) =>
  `${o.person.name} covers ${o.role} from ${formatCot(Date.parse(o.from))} to ${formatCot(Date.parse(o.to))}`;

function log(core: RosterCore, change: OncallChange): void {
  core.changes.push(change);
  if (core.changes.length > MAX_CHANGES) core.changes.splice(0, core.changes.length - MAX_CHANGES);
}

export function addOverride(core: RosterCore, input: AddOverride, now: number): OncallResult {
  if (Date.parse(input.to) <= now)
    return {
      accepted: false,
      message: `the override ends (${input.to}) before now: nothing to cover`,
      refusal: 'past',
    };
  core.seq += 1;
  const override: RuntimeOverride = {
    id: `ovr-${core.seq}`,
    role: input.role,
    person: input.person,
    from: isoOf(Date.parse(input.from)),
    to: isoOf(Date.parse(input.to)),
    by: input.by,
    via: input.via,
    createdAt: isoOf(now),
    ...(input.reason ? { reason: input.reason } : {}),
  };
  core.overrides.push(override);
  const text = `${describe(override)} (override ${override.id}, by ${input.by} via ${input.via}${input.reason ? `: ${input.reason}` : ''})`;
  log(core, { at: isoOf(now), by: input.by, via: input.via, action: 'add', overrideId: override.id, text });
  return { accepted: true, override, message: text };
}

export function cancelOverride(core: RosterCore, input: CancelOverride, now: number): OncallResult {
  const o = core.overrides.find((x) => x.id === input.id);
  if (!o) return { accepted: false, message: `no override ${input.id}`, refusal: 'unknown' };
  if (o.cancelled)
    return {
      accepted: false,
      message: `override ${o.id} was already cancelled by ${o.cancelled.by}`,
      refusal: 'cancelled',
    };
  if (effectiveEnd(o) <= now)
    return { accepted: false, message: `override ${o.id} is already over`, refusal: 'over' };
  o.cancelled = {
    by: input.by,
    via: input.via,
    at: isoOf(now),
    ...(input.reason ? { reason: input.reason } : {}),
  };
  const text = `Cancelled: ${describe(o)} (override ${o.id}, by ${input.by} via ${input.via}${input.reason ? `: ${input.reason}` : ''})`;
  log(core, { at: isoOf(now), by: input.by, via: input.via, action: 'cancel', overrideId: o.id, text });
  return { accepted: true, override: o, message: text };
}

/** Drops overrides over for more than 30 days. */
export function prune(core: RosterCore, now: number): void {
  core.overrides = core.overrides.filter((o) => effectiveEnd(o) > now - KEEP_ENDED_MS);
}

/** The `overrides` query: what is in force or to come, by start. */
export function rosterView(core: RosterCore, now: number): RosterView {
  return {
    overrides: core.overrides
      .filter((o) => !o.cancelled || Date.parse(o.cancelled.at) > Date.parse(o.from))
      .filter((o) => effectiveEnd(o) > now)
      .sort((a, b) => Date.parse(a.from) - Date.parse(b.from)),
    changes: core.changes,
  };
}

/** As the contacts' overrides, for resolveContact: each runtime override's effective window. */
export function asContactOverrides(list: readonly RuntimeOverride[]): Override[] {
  return list
    .map((o) => ({ role: o.role, person: o.person, from: o.from, to: isoOf(effectiveEnd(o)) }))
    .filter((o) => Date.parse(o.from) < Date.parse(o.to));
}

/**
 * The contacts with the runtime overrides in front: the newest runtime override of a role wins over older ones
 * and over the config's own overrides, then the rotation.
 */
export function withRuntimeOverrides(config: ContactConfig, list: readonly RuntimeOverride[]): ContactConfig {
  const runtime = asContactOverrides([...list].sort((a, b) => b.createdAt.localeCompare(a.createdAt)));
  return { ...config, overrides: [...runtime, ...config.overrides] };
}

/** Instants after `at` (within the horizon) at which `role`'s holder may change. */
function boundaries(config: ContactConfig, role: RoleId, at: number): number[] {
  const out = new Set<number>();
  for (const o of config.overrides)
    if (o.role === role)
      for (const t of [Date.parse(o.from), Date.parse(o.to)]) if (t > at && t <= at + HORIZON_MS) out.add(t);
  const first = resolveContact(role, at, { ...config, overrides: [] });
  if (first.shift) {
    // Rotation handoffs: every shift end within the horizon.
    let t = first.shift.endMs;
    while (t <= at + HORIZON_MS) {
      out.add(t);
      const next = resolveContact(role, t, { ...config, overrides: [] }).shift;
      if (!next || next.endMs <= t) break;
      t = next.endMs;
    }
  }
  return [...out].sort((a, b) => a - b);
}

const who = (r: ReturnType<typeof resolveContact>) => `${r.source}:${r.name}`;

/** Who holds each 2.1 role at `at`, until when, and who next. */
export function onCallAt(
  config: ContactConfig,
  at: number,
  roles: readonly RoleId[] = ROLE_IDS,
): OnCallEntry[] {
  return roles.map((role) => {
    const now = resolveContact(role, at, config);
    let until: number | null = null;
    let next: OnCallEntry['next'] = null;
    for (const t of boundaries(config, role, at)) {
      const r = resolveContact(role, t, config);
      if (who(r) !== who(now)) {
        until = t;
        next = { name: r.name, source: r.source, from: isoOf(t) };
        break;
      }
    }
    return {
      role,
      roleName: ROLES[role].name,
      now: { name: now.name, source: now.source },
      until: until === null ? null : isoOf(until),
      next,
    };
  });
}

/** The next handover after `at` (the earliest role whose holder changes, and every role changing then). */
export function nextHandover(
  config: ContactConfig,
  at: number,
): { at: number; changes: { role: RoleId; from: string; to: string }[] } | null {
  const entries = onCallAt(config, at).filter((e) => e.until !== null && e.next !== null);
  if (entries.length === 0) return null;
  const first = Math.min(...entries.map((e) => Date.parse(e.until!)));
  return {
    at: first,
    changes: entries
      .filter((e) => Date.parse(e.until!) === first)
      .map((e) => ({ role: e.role, from: e.now.name, to: e.next!.name })),
  };
}

/** The channel's shift-change notice. */
export function handoverText(at: number, changes: { role: RoleId; from: string; to: string }[]): string {
  return [
    `Shift change at ${formatCot(at)}:`,
    ...changes.map((c) => `- ${ROLES[c.role].name} (${c.role}): ${c.from} hands over to ${c.to}`),
  ].join('\n');
}
