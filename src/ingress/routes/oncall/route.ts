// GET /v1/oncall: each 2.1 role's holder now (override, rotation or contact), until when, and who next, with the
// roster's overrides. POST /v1/oncall/overrides and DELETE /v1/oncall/overrides/{id}: the roster's addOverride
// and cancelOverride Updates, recorded as `via: http`. All behind the alert routes' auth (bearer or HMAC).
// Answers: 201 added; 200 cancelled; 400 a bad body (the field named, nothing changed); 404 no such override;
// 409 the override was already cancelled or is over; 422 the roster refused it (the reason said).
import { z } from 'zod';
import { personSchema, type ContactConfig } from '../../../playbook/contacts';
import { actor, isoTime, text } from '../../../playbook/contract/fields';
import type { OncallResult } from '../../../playbook/contract/oncall';
import { ROLE_IDS } from '../../../playbook/roles';
import { IngressError } from '../../errors';
import { oncallView } from '../../oncall';
import type { IncidentStarter } from '../../starter';
import type { IngressRoutes } from '../context';

export const ONCALL_ROUTE = '/v1/oncall';
export const ONCALL_OVERRIDES_ROUTE = '/v1/oncall/overrides';
export const ONCALL_OVERRIDE_ROUTE = '/v1/oncall/overrides/:id';

/** The addOverride input without `via` (the route says `http`, whatever the body says). */
const addBodySchema = z
  .object({
    role: z.enum(ROLE_IDS),
    person: personSchema.extend({ name: text(200) }),
    from: isoTime,
    to: isoTime,
    by: actor,
    reason: text(500).optional(),
    via: z.unknown().optional(),
  })
  .refine((o) => Date.parse(o.from) < Date.parse(o.to), { message: 'from must be before to', path: ['to'] });

const cancelFieldsSchema = z.object({ by: actor.optional(), reason: text(500).optional() });

/** A refusal as the HTTP status that says it. */
function refused(r: Extract<OncallResult, { accepted: false }>): IngressError {
  switch (r.refusal) {
    case 'unknown':
      return new IngressError(404, 'not_found', r.message, 'id');
    case 'cancelled':
    case 'over':
      return new IngressError(409, 'conflict', r.message, 'id');
    default:
      return new IngressError(422, 'refused', r.message, r.refusal === 'past' ? 'to' : 'body');
  }
}

export function registerOncallRoutes(
  routes: IngressRoutes,
  deps: { starter: IncidentStarter; contacts: ContactConfig; now: () => number },
): void {
  routes.get(ONCALL_ROUTE, async () => {
    const overrides = (await deps.starter.oncallOverrides()) ?? [];
    return oncallView(deps.contacts, overrides, deps.now());
  });

  routes.post(
    ONCALL_OVERRIDES_ROUTE,
    { schema: { body: addBodySchema }, bodyLimit: 16_384 },
    async (req, reply) => {
      const { via: _ignored, ...body } = req.body;
      const r = await deps.starter.addOverride({ ...body, via: 'http' });
      if (!r.accepted) throw refused(r);
      return reply.status(201).send({ override: r.override, message: r.message });
    },
  );

  routes.delete(
    ONCALL_OVERRIDE_ROUTE,
    {
      schema: {
        params: z.object({ id: text(100) }),
        querystring: cancelFieldsSchema,
        // No body at all arrives as null.
        body: cancelFieldsSchema.nullish(),
      },
      bodyLimit: 4096,
    },
    async (req) => {
      const by = req.body?.by ?? req.query.by;
      if (!by) throw new IngressError(400, 'invalid_body', 'by is required (in the body or the query)', 'by');
      const reason = req.body?.reason ?? req.query.reason;
      const r = await deps.starter.cancelOverride({
        id: req.params.id,
        by,
        ...(reason ? { reason } : {}),
        via: 'http',
      });
      if (!r.accepted) throw refused(r);
      return { override: r.override, message: r.message };
    },
  );
}
