// POST /v1/slack/interactions and /v1/slack/commands: verified Slack requests (the
// signature is checked on the raw body in server.ts, before it is parsed) -> the incident's Updates, answered
// within Slack's 3 seconds. What each one asks: slack.ts.
import { z } from 'zod';
import type { ActionName } from '../../../playbook/contract/incident';
import {
  confirmModal,
  decideSlackInteraction,
  decideSlashCommand,
  heartbeatsText,
  openModal,
  replyEphemeral,
  resolveModal,
  responseUrlAllowed,
} from '../../slack';
import { IngressError } from '../../errors';
import { otherIncidentText } from '../../incident-ref';
import { oncallText, oncallView } from '../../oncall';
import type { OncallResult } from '../../../playbook/contract/oncall';
import { TemporalUnavailableError } from '../../starter';
import type { ChannelRouteContext, IngressRoutes } from '../context';

/** Monitors `/incident heartbeats` lists (a Slack reply is read, not scrolled). */
const SLACK_MONITORS = 50;

export function registerSlackRoutes(routes: IngressRoutes, ctx: ChannelRouteContext): void {
  const { config, starter, contacts, metrics, log, now } = ctx;
  // Slack: answered within its 3 seconds; an Update that takes longer replies through response_url.
  const slackReply = (responseUrl: string | undefined, text: string) => {
    if (!responseUrl) return;
    if (!responseUrlAllowed(responseUrl, config.slackResponseUrlHosts)) {
      // Not Slack's: nothing is sent (the ingress would otherwise POST wherever a payload points).
      let host = '(unparseable)';
      try {
        host = new URL(responseUrl).host;
      } catch {
        // keep the placeholder
      }
      log.warn(
        { host, allowed: config.slackResponseUrlHosts },
        'Slack response_url refused: its host is not in SLACK_RESPONSE_URL_HOSTS; no reply sent',
      );
      metrics.slackResponseUrlRefused.inc();
      return;
    }
    replyEphemeral(responseUrl, text).catch((err: unknown) =>
      log.warn({ err: { message: (err as Error).message } }, 'Slack response_url reply failed'),
    );
  };
  /** The action, counted, on the incident named (when one is named); any refusal as text for the person. */
  const runOnIncident = async (
    workflowId: string,
    incidentId: string | null,
    name: ActionName,
    payload: Record<string, unknown>,
  ): Promise<{ ok: true; text: string } | { ok: false; problem: string }> => {
    const r = await starter.runAction(workflowId, name, payload, { incidentId });
    metrics.channelActions.inc({ channel: 'slack', action: name, outcome: r.outcome });
    switch (r.outcome) {
      case 'accepted':
        return { ok: true, text: `Done: ${r.result.message} (${workflowId} is ${r.result.status})` };
      case 'rejected':
        return { ok: false, problem: r.reason };
      case 'other-incident':
        log.info(
          { workflowId, incidentId, runningIncidentId: r.runningIncidentId, action: name },
          'Slack action refused: it names another incident than the one running under its workflow id',
        );
        return { ok: false, problem: otherIncidentText(incidentId ?? workflowId, r.runningIncidentId) };
      case 'no-incident':
        return {
          ok: false,
          problem: incidentId
            ? `incident ${incidentId} is over (no incident runs under ${workflowId})`
            : `no incident ${workflowId} is running`,
        };
    }
  };
  const runSlackAction = async (
    workflowId: string,
    incidentId: string | null,
    name: ActionName,
    payload: Record<string, unknown>,
  ): Promise<string> => {
    try {
      const r = await runOnIncident(workflowId, incidentId, name, payload);
      return r.ok ? r.text : `Not done: ${r.problem}`;
    } catch (err) {
      return `Not done: Temporal did not answer (${err instanceof TemporalUnavailableError ? 'unavailable' : (err as Error).message}); try again`;
    }
  };
  const within = <T>(p: Promise<T>, ms: number): Promise<{ done: T } | null> =>
    Promise.race([
      p.then((done) => ({ done })),
      new Promise<null>((r) => setTimeout(() => r(null), ms).unref()),
    ]);

  routes.post(
    '/v1/slack/interactions',
    {
      schema: { body: z.object({ payload: z.string().min(2).max(200_000) }) },
      bodyLimit: config.slackBodyLimitBytes,
    },
    async (req, reply) => {
      let raw: unknown;
      try {
        raw = JSON.parse(req.body.payload);
      } catch {
        throw new IngressError(400, 'invalid_body', 'payload is not JSON', 'payload');
      }
      const d = decideSlackInteraction(raw, contacts);
      metrics.slackInteractions.inc({ kind: d.kind });
      switch (d.kind) {
        case 'action':
          // Acknowledged to Slack at once; the Update's answer follows as an ephemeral reply.
          void runSlackAction(d.workflowId, d.incidentId, d.name, d.payload).then((text) =>
            slackReply(d.responseUrl, text),
          );
          return reply.status(200).send();
        case 'open-resolve':
        case 'open-confirm': {
          const view =
            d.kind === 'open-resolve' ? resolveModal(d.incidentId) : confirmModal(d.incidentId, d.actionId);
          if (!config.slackBotToken) {
            slackReply(
              d.responseUrl,
              `This dialog needs SLACK_BOT_TOKEN on the ingress; meanwhile use the ${d.kind === 'open-resolve' ? 'resolve' : 'approve'} Update (README "Open, acknowledge and resolve")`,
            );
            return reply.status(200).send();
          }
          await openModal(config.slackApiBaseUrl, config.slackBotToken, d.triggerId, view).catch(
            (err: unknown) =>
              slackReply(d.responseUrl, `Could not open the dialog: ${(err as Error).message}`),
          );
          return reply.status(200).send();
        }
        case 'submit': {
          // A dialog closes only on success; anything else is shown under its input.
          const r = await within(runOnIncident(d.workflowId, d.incidentId, d.name, d.payload), 2500).catch(
            (err: unknown) => ({ failed: (err as Error).message }),
          );
          const problem =
            r === null
              ? 'Temporal did not answer in time: check the incident (/incident status) before trying again'
              : 'failed' in r
                ? 'Temporal is unreachable: try again in a moment'
                : r.done.ok
                  ? null
                  : r.done.problem;
          if (problem)
            return reply.status(200).send({ response_action: 'errors', errors: { [d.block]: problem } });
          return reply.status(200).send();
        }
        case 'refused':
          if (d.block)
            return reply.status(200).send({ response_action: 'errors', errors: { [d.block]: d.reason } });
          slackReply(d.responseUrl, `Not done: ${d.reason}`);
          return reply.status(200).send();
        case 'ignored':
          return reply.status(200).send();
      }
    },
  );

  routes.post(
    '/v1/slack/commands',
    { schema: { body: z.record(z.string(), z.string().max(4000)) }, bodyLimit: config.slackBodyLimitBytes },
    async (req, reply) => {
      const form = req.body;
      const c = decideSlashCommand(form, contacts, now());
      metrics.slackCommands.inc({ kind: c.kind });
      const ephemeral = (text: string) => reply.status(200).send({ response_type: 'ephemeral', text });
      if (c.kind === 'help') return ephemeral(c.text);
      if (c.kind === 'refused') return ephemeral(`Not done: ${c.reason}`);
      if (c.kind === 'heartbeats') {
        const r = await within(starter.listMonitors(SLACK_MONITORS), 2500).catch(() => null);
        if (!r) return ephemeral('Temporal did not answer in time; try again');
        return ephemeral(heartbeatsText(r.done, SLACK_MONITORS));
      }
      if (c.kind === 'oncall') {
        const r = await within(starter.oncallOverrides(), 2500).catch(() => null);
        if (!r) return ephemeral('Temporal did not answer in time; try again');
        return ephemeral(oncallText(oncallView(contacts, r.done ?? [], now()), r.done !== null));
      }
      if (c.kind === 'override' || c.kind === 'override-cancel') {
        const running = (
          c.kind === 'override' ? starter.addOverride(c.input) : starter.cancelOverride(c.input)
        ).then(
          (r: OncallResult) => (r.accepted ? `Done: ${r.message}` : `Not done: ${r.message}`),
          (err: unknown) =>
            `Not done: Temporal did not answer (${err instanceof TemporalUnavailableError ? 'unavailable' : (err as Error).message}); try again`,
        );
        const r = await within(running, 2500);
        if (r) return ephemeral(r.done);
        void running.then((text) => slackReply(form.response_url, text));
        return ephemeral(
          c.kind === 'override'
            ? `Working on it: override of ${c.input.role}`
            : `Working on it: cancel ${c.input.id}`,
        );
      }
      if (c.kind === 'status') {
        const r = await within(starter.queryStatus(c.workflowId), 2500).catch(() => null);
        if (!r) return ephemeral('Temporal did not answer in time; try again');
        const st = r.done;
        if (!st) return ephemeral(`No incident ${c.workflowId} is running`);
        if (c.incidentId && st.incidentId !== c.incidentId)
          return ephemeral(
            `Incident ${c.incidentId} is over; ${st.incidentId} is running under ${c.workflowId}`,
          );
        return ephemeral(
          [
            `*${st.severity} ${st.title}* (${c.workflowId}): ${st.status}`,
            st.acknowledgedBy ? `Acknowledged by ${st.acknowledgedBy}` : 'Not acknowledged',
            `Engaged: ${st.engagedRoles.join(', ') || 'nobody yet'}`,
          ].join('\n'),
        );
      }
      const running = runSlackAction(c.workflowId, c.incidentId, c.name, c.payload);
      const r = await within(running, 2500);
      if (r) return ephemeral(r.done);
      void running.then((text) => slackReply(form.response_url, text));
      return ephemeral(`Working on it: ${c.name} ${c.workflowId}`);
    },
  );
}
