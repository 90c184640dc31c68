// POST /v1/pagerduty/webhooks: a verified v3 webhook (the signature is checked on the raw
// body in server.ts, before it is parsed) -> the incident's Update, once per event id. What it asks:
// pagerduty.ts.
import { IngressError } from '../../errors';
import { decidePagerDuty, occurredAtProblem, pagerDutyWebhookSchema } from '../../pagerduty';
import { otherIncidentText } from '../../incident-ref';
import type { ChannelRouteContext, IngressRoutes } from '../context';

export function registerPagerDutyRoute(routes: IngressRoutes, ctx: ChannelRouteContext): void {
  const { starter, contacts, metrics, now, pagerDutyEvents } = ctx;
  const { config } = ctx;
  routes.post(
    '/v1/pagerduty/webhooks',
    { schema: { body: pagerDutyWebhookSchema }, bodyLimit: config.pagerDutyBodyLimitBytes },
    async (req) => {
      const { event } = req.body;
      // The clock skew allowed is the signed requests' replay window, as for Slack's timestamps.
      const problem = occurredAtProblem(event.occurred_at, now(), config.replayWindowSeconds * 1000);
      if (problem)
        throw new IngressError(
          401,
          'unauthorized',
          `event ${event.id} is refused: ${problem}`,
          'event.occurred_at',
        );
      const key = `event:${event.id}`;
      if (!(await pagerDutyEvents.claim(key, now())))
        throw new IngressError(
          401,
          'unauthorized',
          `PagerDuty event ${event.id} was already accepted (replayed)`,
          'event.id',
        );
      req.ingress.pagerDutyKey = key;
      const decision = decidePagerDuty(req.body, contacts);
      metrics.pagerDutyEvents.inc({ type: event.event_type, outcome: decision.kind });
      if (decision.kind !== 'action')
        return {
          eventId: event.id,
          eventType: event.event_type,
          outcome: decision.kind,
          reason: decision.reason,
        };
      const { workflowId, incidentId, name, payload } = decision.action;
      const r = await starter.runAction(workflowId, name, payload, { incidentId });
      metrics.channelActions.inc({ channel: 'pagerduty', action: name, outcome: r.outcome });
      const answer = {
        eventId: event.id,
        eventType: event.event_type,
        workflowId,
        incidentId,
        action: name,
        by: payload.by,
        ...r,
      };
      if (r.outcome === 'other-incident') {
        // Answered 2xx all the same: PagerDuty retries anything else, and a retry cannot make it apply.
        req.log.warn(
          { eventId: event.id, workflowId, incidentId, runningIncidentId: r.runningIncidentId, action: name },
          'PagerDuty event refused: it names another incident than the one running under its workflow id',
        );
        return { ...answer, reason: otherIncidentText(incidentId, r.runningIncidentId) };
      }
      req.log.info(
        { eventId: event.id, workflowId, incidentId, action: name, outcome: r.outcome },
        'PagerDuty event applied',
      );
      return answer;
    },
  );
}
