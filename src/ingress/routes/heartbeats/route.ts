// POST /v1/heartbeats/{name}: a cron job's, an Airflow callback's or the trading loop's "I'm alive".
// GET /v1/heartbeats: every running monitor's status. Both behind the alert routes' auth (bearer or HMAC).
import { z } from 'zod';
import type { IngressRoutes } from '../context';
import type { HeartbeatIntake } from '../../heartbeats';
import type { IncidentStarter } from '../../starter';

export const HEARTBEAT_ROUTE = '/v1/heartbeats/:name';
export const HEARTBEATS_ROUTE = '/v1/heartbeats';

/** What sent the beat: a label for the monitor's timeline (never an identity). */
const beatBodySchema = z
  .object({ source: z.string().trim().min(1).max(200).optional() })
  .strict()
  .optional();

export function registerHeartbeatRoutes(
  routes: IngressRoutes,
  deps: { intake: HeartbeatIntake; starter: IncidentStarter },
): void {
  routes.post(
    HEARTBEAT_ROUTE,
    { schema: { params: z.object({ name: z.string().max(200) }), body: beatBodySchema }, bodyLimit: 4096 },
    async (req, reply) => {
      const answer = await deps.intake.beat(req.params.name, req.body?.source ?? 'http');
      return reply.status(202).send(answer);
    },
  );
  routes.get(HEARTBEATS_ROUTE, async () => ({ monitors: await deps.starter.listMonitors(200) }));
}
