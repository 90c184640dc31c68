// The contract of the on-call roster (DESIGN "On-call"): runtime overrides of the 2.1 roles, kept durably and
// audited by the `oncallRoster` workflow, and "who is on call now, and next" as every entry point answers it.
import { z } from 'zod';
import { personSchema } from '../contacts';
import { ROLE_IDS, type RoleId } from '../roles';
import { actor, isoTime, text } from './fields';

export const ONCALL_WORKFLOW_TYPE = 'oncallRoster';
export const ONCALL_WORKFLOW_ID = 'oncall-roster';

/** Where a change came from: the audit says it (a CLI or Web UI change is typed, not verified). */
export const ONCALL_VIAS = ['slack', 'http', 'cli'] as const;
export type OncallVia = (typeof ONCALL_VIAS)[number];

/** `addOverride`: `person` covers `role` from `from` (inclusive) to `to` (exclusive). */
export const addOverrideSchema = z
  .object({
    role: z.enum(ROLE_IDS),
    person: personSchema.extend({ name: text(200) }),
    from: isoTime,
    to: isoTime,
    by: actor,
    reason: text(500).optional(),
    via: z.enum(ONCALL_VIAS).default('cli'),
  })
  .refine((o) => Date.parse(o.from) < Date.parse(o.to), {
    message: 'from must be before to',
    path: ['to'],
  });
export type AddOverrideInput = z.input<typeof addOverrideSchema>;

/** `cancelOverride`: the override ends now (one not yet begun never begins). */
export const cancelOverrideSchema = z.object({
  id: text(100),
  by: actor,
  reason: text(500).optional(),
  via: z.enum(ONCALL_VIAS).default('cli'),
});
export type CancelOverrideInput = z.input<typeof cancelOverrideSchema>;

export interface RuntimeOverride {
  id: string;
  role: RoleId;
  person: z.output<typeof personSchema>;
  from: string;
  to: string;
  by: string;
  via: OncallVia;
  createdAt: string;
  reason?: string;
  cancelled?: { by: string; via: OncallVia; at: string; reason?: string };
}

/** One change, as the audit keeps it. */
export interface OncallChange {
  at: string;
  by: string;
  via: OncallVia;
  action: 'add' | 'cancel';
  overrideId: string;
  text: string;
}

/**
 * Why an Update was refused, for an answer that says it (HTTP 404 / 409 / 422): no such override, already
 * cancelled, already over, or an override that would end before now. Absent: the input itself was refused.
 */
export type OncallRefusal = 'unknown' | 'cancelled' | 'over' | 'past';

/** The answer of an Update: accepted with the override, or refused with the reason. */
export type OncallResult =
  | { accepted: true; override: RuntimeOverride; message: string }
  | { accepted: false; message: string; refusal?: OncallRefusal };

/** The roster workflow's `overrides` query. */
export interface RosterView {
  /** Overrides not yet over (in force or to come), cancelled ones left out, by start. */
  overrides: RuntimeOverride[];
  /** The last changes, newest last (bounded). */
  changes: OncallChange[];
}

/** "Who is on call now, and next" for one 2.1 role. */
export interface OnCallEntry {
  role: RoleId;
  roleName: string;
  now: { name: string; source: 'override' | 'rotation' | 'contact' };
  /** When `now` hands over (null: nothing scheduled changes this role). */
  until: string | null;
  next: { name: string; source: 'override' | 'rotation' | 'contact'; from: string } | null;
}
