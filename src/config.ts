// Environment and deployment config, validated once at start-up with a clear error on a bad value.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { pagerDutyConfigSchema } from './activities/notify/pagerduty';
import { slackConfigSchema } from './activities/notify/slack';
import { contactConfigSchema } from './playbook/contacts';
import { policyOverridesSchema, type PolicyOverrides } from './playbook/policy';
import { heartbeatsConfigSchema } from './playbook/contract/heartbeat';
import { PlatformConfigError, platformSectionSchema, resolvePlatformConfig } from './platform/config';
import { TASK_QUEUE } from './workflows/definitions';

const ROOT = path.resolve(__dirname, '..');

const envSchema = z.object({
  INCIDENT_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE),
  /** Deployment config (YAML); absent keeps the playbook defaults. */
  INCIDENT_CONFIG: z.string().min(1).optional(),
  OUTBOX_FILE: z
    .string()
    .min(1)
    .default(path.join(ROOT, 'data', 'outbox.jsonl')),
  /** Prebuilt workflow bundle (npm run build); absent bundles src/workflows at start. */
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
  /**
   * Incidents kept in the worker's workflow cache (absent: the SDK's default, from the heap size). A cached
   * incident costs about 2.6 MB of worker memory (npm run bench:scale, 1,000 incidents: 3 GB); past the
   * bound an incident's next task replays its history first, which costs CPU (a bound of 200 made the
   * same run slower and still peaked at 1.5 GB: see docs/alerting.md).
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).optional(),
  /** The incident ledger (PostgreSQL); absent: the local default, created on first start. */
  LEDGER_DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
});
export type Env = z.infer<typeof envSchema>;

export const deploymentConfigSchema = z
  .object({
    /** Overrides of the playbook policy (matrix, targets, cadences, channels, pre-approvals). */
    policy: policyOverridesSchema.optional(),
    outbox: z
      .object({ file: z.string().min(1) })
      .strict()
      .optional(),
    /** Slack channel; secrets (webhookUrl, botToken) may come from SLACK_WEBHOOK_URL / SLACK_BOT_TOKEN. */
    slack: slackConfigSchema.optional(),
    /** PagerDuty Events API v2; the routing key may come from PAGERDUTY_ROUTING_KEY. */
    pagerduty: pagerDutyConfigSchema.optional(),
    /** Heartbeat monitors (dead-man's switches) and the engine's own outbound ping: docs/alerting.md "Heartbeats". */
    heartbeats: heartbeatsConfigSchema.optional(),
    /** 2.1 contacts, working hours (COT) and the on-call rotation. */
    contacts: contactConfigSchema.optional(),
    /** 3.1-3.4: the trading platform the procedures check; a profile (playbook | deployed) plus overrides. */
    platform: platformSectionSchema
      .superRefine((section, ctx) => {
        try {
          resolvePlatformConfig(section);
        } catch (err) {
          if (!(err instanceof PlatformConfigError)) throw err;
          for (const i of err.issues)
            ctx.addIssue({
              code: 'custom',
              path: ['overrides', ...i.path.split('.').filter(Boolean)],
              message: i.message,
            });
        }
      })
      .optional(),
  })
  .strict();
export type DeploymentConfig = z.infer<typeof deploymentConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
}

export function loadEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const r = envSchema.safeParse(env);
  if (!r.success) throw new ConfigError(`invalid environment:\n${describe(r.error)}`);
  return r.data;
}

/**
 * Secrets stay out of the config file: SLACK_WEBHOOK_URL, SLACK_BOT_TOKEN and PAGERDUTY_ROUTING_KEY fill
 * the matching fields (and enable the channel when the file does not mention it).
 */
function withSecretsFromEnv(raw: unknown, env: NodeJS.ProcessEnv): unknown {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return raw;
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  const section = (key: string): Record<string, unknown> =>
    typeof out[key] === 'object' && out[key] !== null ? { ...(out[key] as Record<string, unknown>) } : {};
  if (env.SLACK_WEBHOOK_URL || env.SLACK_BOT_TOKEN) {
    const slack = section('slack');
    if (env.SLACK_BOT_TOKEN) slack.botToken ??= env.SLACK_BOT_TOKEN;
    if (env.SLACK_WEBHOOK_URL) slack.webhookUrl ??= env.SLACK_WEBHOOK_URL;
    slack.mode ??= slack.botToken ? 'web-api' : 'webhook';
    if (slack.mode === 'web-api') slack.channel ??= env.SLACK_CHANNEL ?? '#trading-incidents';
    out.slack = slack;
  }
  if (env.PAGERDUTY_ROUTING_KEY) {
    const pd = section('pagerduty');
    pd.routingKey ??= env.PAGERDUTY_ROUTING_KEY;
    out.pagerduty = pd;
  }
  return out;
}

/**
 * The deployment's policy overrides as every incident snapshots them: every configured channel is used
 * unless the policy names its own list. The worker and the ingress both read it (the ingress sends it in the
 * start input, so the first page goes out in the incident's first workflow task).
 */
export function deploymentPolicy(d: DeploymentConfig): PolicyOverrides {
  const channels = ['outbox', ...(d.slack ? [d.slack.name] : []), ...(d.pagerduty ? [d.pagerduty.name] : [])];
  // 4.1 "Updates: This thread / #trading-incidents" names the Slack channel the deployment posts to.
  const slackChannel = d.slack?.mode === 'web-api' ? d.slack.channel : undefined;
  return { channels, ...(slackChannel ? { updatesChannel: slackChannel } : {}), ...d.policy };
}

export function loadDeploymentConfig(
  file: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): DeploymentConfig {
  if (!file && !env.SLACK_WEBHOOK_URL && !env.SLACK_BOT_TOKEN && !env.PAGERDUTY_ROUTING_KEY) return {};
  if (!file) {
    const r = deploymentConfigSchema.safeParse(withSecretsFromEnv({}, env));
    if (!r.success)
      throw new ConfigError(`invalid channel settings in the environment:\n${describe(r.error)}`);
    return r.data;
  }
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read deployment config ${file}: ${(err as Error).message}`);
  }
  const r = deploymentConfigSchema.safeParse(withSecretsFromEnv(raw ?? {}, env));
  if (!r.success) throw new ConfigError(`invalid deployment config ${file}:\n${describe(r.error)}`);
  return r.data;
}
