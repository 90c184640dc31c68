// The ingress's shared pieces for its route modules: the typed Fastify scope routes are declared on, and what
// the two-way channel routes (Slack, PagerDuty) are given by buildIngress.
import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ContactConfig } from '../../playbook/contacts';
import type { IngressConfig } from '../config';
import type { IngressMetrics } from '../metrics';
import type { ReplayGuard } from '../shared';
import type { IncidentStarter } from '../starter';

/** The scope routes are declared on (zod schemas for bodies). */
export type IngressRoutes = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface ChannelRouteContext {
  config: IngressConfig;
  starter: IncidentStarter;
  contacts: ContactConfig;
  metrics: IngressMetrics;
  log: FastifyBaseLogger;
  now: () => number;
  /** PagerDuty event ids already accepted (no timestamp is signed). */
  pagerDutyEvents: ReplayGuard;
}
