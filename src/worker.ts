// The worker: one Worker on task queue `incident-response` running the workflows bundle and the
// activities built by createActivities(deps). Connection from the standard TEMPORAL_* variables.
import { Worker, type WorkerOptions } from '@temporalio/worker';
import { WORKFLOW_PRELOAD_MODULES } from './temporal/bundle';
import type { NotificationChannel } from './activities/notify/port';
import { createActivities } from './activities';
import { resolvePlatformConfig, type PlatformConfig } from './platform/config';
import { OutboxChannel } from './activities/notify/outbox';
import {
  BestEffortKeyValueStore,
  createChannelDispatcher,
  InMemoryKeyValueStore,
} from './activities/notify/http';
import type { Pool } from 'pg';
import { createLedgerPool, DEFAULT_LEDGER_DATABASE_URL, migrateLedger, redactUrl } from './ledger/db';
import { PgKeyValueStore, type KeyValueStore } from './ledger/kv';
import { PagerDutyChannel } from './activities/notify/pagerduty';
import { SlackChannel } from './activities/notify/slack';
import {
  ConfigError,
  deploymentPolicy,
  loadDeploymentConfig,
  loadEnv,
  type DeploymentConfig,
} from './config';
import { Connection } from '@temporalio/client';
import { connectClient, connectWorkerConnection, temporalSettings } from './temporal/connection';
import { syncHeartbeats } from './temporal/heartbeats';
import { ensureOncallRoster } from './temporal/oncall';
import { LiveContacts } from './activities/oncall';
import { EMPTY_CONTACT_CONFIG } from './playbook/contacts';
import { ensureTemporalReady, TemporalNotReadyError } from './temporal/readiness';
import { installWorkerTelemetry, TelemetryConfigError, workerMetricsAddress } from './temporal/telemetry';

export interface CreateWorkerOptions {
  /** Replace or add notification channels (the outbox is built from config unless given here). */
  channels?: Record<string, NotificationChannel>;
  overrides?: Partial<WorkerOptions>;
  /** The incident ledger: a pool already migrated, or false for none. Default: LEDGER_DATABASE_URL, migrated here. */
  ledger?: Pool | false;
  /** Told what the worker will use (channels, ledger, platform) before it polls: `npm run worker` prints it. */
  onSetup?: (lines: string[]) => void;
}

export async function createWorker({
  channels = {},
  overrides = {},
  ledger: ledgerOption,
  onSetup,
}: CreateWorkerOptions = {}): Promise<Worker> {
  const env = loadEnv();
  const deployment = loadDeploymentConfig(env.INCIDENT_CONFIG);
  const outbox = new OutboxChannel(deployment.outbox?.file ?? env.OUTBOX_FILE);
  const ledger =
    ledgerOption === undefined ? await openLedger(env.LEDGER_DATABASE_URL) : ledgerOption || null;
  // Slack/PagerDuty idempotency keys and message ts in the ledger, so every worker and a restart see them.
  // Who a role is, with the on-call roster's runtime overrides: the paging activity and Slack's mentions.
  const live = new LiveContacts(deployment.contacts ?? EMPTY_CONTACT_CONFIG);
  const configured = configuredChannels(
    deployment,
    live,
    ledger ? new BestEffortKeyValueStore(new PgKeyValueStore(ledger)) : new InMemoryKeyValueStore(),
  );
  const platform = resolvePlatformConfig(deployment.platform ?? {});
  onSetup?.(
    setupSummary({
      channels: {
        outbox: `file ${outbox.file}`,
        ...describeChannels(deployment),
        ...describeExtra(channels),
      },
      ledger: ledger ? (env.LEDGER_DATABASE_URL ?? DEFAULT_LEDGER_DATABASE_URL) : null,
      platform,
      platformConfigured: deployment.platform !== undefined,
      env: process.env,
    }),
  );
  const { connection, namespace } = await connectWorkerConnection();
  // Never poll into a wedge: the namespace and the incident search attributes first (registered if allowed).
  await checkTemporalReady(namespace);
  const workflowSource = env.WORKFLOW_BUNDLE_PATH
    ? { workflowBundle: { codePath: env.WORKFLOW_BUNDLE_PATH } }
    : {
        workflowsPath: require.resolve('./workflows'),
        bundlerOptions: { preloadModules: WORKFLOW_PRELOAD_MODULES },
      };
  return Worker.create({
    connection,
    namespace,
    taskQueue: env.INCIDENT_TASK_QUEUE,
    ...workflowSource,
    activities: createActivities({
      channels: { outbox, ...configured, ...channels },
      ledger,
      contacts: deployment.contacts,
      liveContacts: live,
      // 3.1-3.4 procedures: the platform profile from config (default: the playbook's).
      platform,
      // Every configured channel is used unless the policy names its own list.
      policyOverrides: deploymentPolicy(deployment),
    }),
    // A worker that dies holds its incidents' sticky queue; give up on it after 2 s (default 10 s) so the
    // next escalation timer is handled by another worker on time.
    stickyQueueScheduleToStartTimeout: '2 seconds',
    ...(env.WORKER_MAX_CACHED_WORKFLOWS !== undefined
      ? { maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS }
      : {}),
    ...overrides,
  });
}

const describeChannels = (d: DeploymentConfig): Record<string, string> => ({
  ...(d.slack
    ? {
        [d.slack.name]:
          d.slack.mode === 'web-api' ? `Web API, ${d.slack.channel ?? '?'}` : 'incoming webhook',
      }
    : {}),
  ...(d.pagerduty ? { [d.pagerduty.name]: 'Events API v2' } : {}),
});
const describeExtra = (c: Record<string, NotificationChannel>): Record<string, string> =>
  Object.fromEntries(Object.keys(c).map((name) => [name, 'given by the caller']));

/**
 * What this worker will use, said before it polls: the channels it pages on, the ledger, and the trading
 * platform, with a warning where the platform is only the playbook's defaults (hostnames such as
 * trading-api:8000 that a real deployment rarely has) or a secret's variable is missing. No secret is shown.
 */
export function setupSummary(s: {
  channels: Record<string, string>;
  ledger: string | null;
  platform: PlatformConfig;
  platformConfigured: boolean;
  env: NodeJS.ProcessEnv;
}): string[] {
  const p = s.platform;
  const lines = [
    `channels: ${Object.entries(s.channels)
      .map(([name, what]) => `${name} (${what})`)
      .join(', ')}`,
    `ledger: ${s.ledger ? redactUrl(s.ledger) : 'none (incidents page and escalate; MTTD/MTTA/MTTR are not recorded)'}`,
    `platform: profile ${p.profile}, trading ${p.services.trading.baseUrl}, inference ${p.services.inference.baseUrl}, database ${redactUrl(p.database.url)}, ${Object.keys(p.commands).length} allow-listed commands`,
  ];
  if (!s.platformConfigured)
    lines.push(
      'WARNING: no `platform` section in INCIDENT_CONFIG: the procedures probe the playbook profile\'s default hosts above; until it names the real ones, their checks answer unknown and nothing is remediated (docs/procedures.md "Platform config")',
    );
  const missing = [
    ...Object.entries(p.services).flatMap(([name, svc]) =>
      svc.auth?.secretEnv && !s.env[svc.auth.secretEnv]
        ? [`services.${name}.auth.secretEnv ${svc.auth.secretEnv}`]
        : [],
    ),
    ...(p.database.passwordEnv && !s.env[p.database.passwordEnv]
      ? [`database.passwordEnv ${p.database.passwordEnv}`]
      : []),
    ...(p.redis.passwordEnv && !s.env[p.redis.passwordEnv]
      ? [`redis.passwordEnv ${p.redis.passwordEnv}`]
      : []),
  ];
  if (missing.length)
    lines.push(
      `WARNING: these variables are not set, so those checks will answer unknown: ${missing.join(', ')}`,
    );
  return lines;
}

async function checkTemporalReady(namespace: string): Promise<void> {
  const { connectionOptions } = temporalSettings();
  const connection = await Connection.connect(connectionOptions);
  try {
    await ensureTemporalReady(connection, namespace, (line) => console.log(`[worker] ${line}`));
  } finally {
    await connection.close();
  }
}

/** Slack and PagerDuty from the deployment config; who a role is comes from `contacts` at send time. */
function configuredChannels(
  deployment: DeploymentConfig,
  live: LiveContacts,
  store: KeyValueStore,
): Record<string, NotificationChannel> {
  const out: Record<string, NotificationChannel> = {};
  if (deployment.slack) {
    const slack = new SlackChannel(deployment.slack, {
      dispatcher: createChannelDispatcher(deployment.slack.timeouts),
      store,
      contacts: () => live.current(),
    });
    out[slack.name] = slack;
  }
  if (deployment.pagerduty) {
    const pd = new PagerDutyChannel(deployment.pagerduty, {
      dispatcher: createChannelDispatcher(deployment.pagerduty.timeouts),
      store,
    });
    out[pd.name] = pd;
  }
  return out;
}

/**
 * The ledger database, created if absent and migrated to the current schema before the worker polls.
 * A ledger named in LEDGER_DATABASE_URL must work; the default one on this machine is optional: without
 * it incidents still page and escalate, and the ledger activities skip their writes with a warning.
 */
async function openLedger(configured: string | undefined): Promise<Pool | null> {
  const url = configured ?? DEFAULT_LEDGER_DATABASE_URL;
  if (!configured) {
    try {
      return await openLedgerAt(url);
    } catch (err) {
      console.warn(
        `[worker] no incident ledger at ${redactUrl(url)} (${(err as Error).message}); running without it. Set LEDGER_DATABASE_URL to require one.`,
      );
      return null;
    }
  }
  return openLedgerAt(url);
}

async function openLedgerAt(url: string): Promise<Pool> {
  const { created, applied } = await migrateLedger(url);
  if (created || applied.length)
    console.log(
      `[worker] ledger ${redactUrl(url)}: ${created ? 'created, ' : ''}migrations applied: ${applied.join(', ') || 'none'}`,
    );
  return createLedgerPool(url);
}

/**
 * The deployment's heartbeat monitors and outbound ping, in Temporal as the config says now (see
 * src/temporal/heartbeats.ts). A failure is said and does not stop the worker: incidents come first.
 */
export async function startDeploymentHeartbeats(log: (line: string) => void): Promise<void> {
  const env = loadEnv();
  const deployment = loadDeploymentConfig(env.INCIDENT_CONFIG);
  let client;
  try {
    client = await connectClient();
    await ensureOncallRoster(client, env.INCIDENT_TASK_QUEUE);
    const r = await syncHeartbeats(client, deployment.heartbeats, { taskQueue: env.INCIDENT_TASK_QUEUE });
    if (r.monitors.length > 0 || r.retired.length > 0 || r.outbound !== 'off')
      log(
        `heartbeats: ${r.monitors.length} declared monitor(s) running${r.monitors.length ? ` (${r.monitors.join(', ')})` : ''}${r.retired.length ? `; ended, no longer declared: ${r.retired.join(', ')}` : ''}; outbound ping ${r.outbound}`,
      );
  } catch (err) {
    log(
      `WARNING: on-call roster or heartbeat monitors not synced with INCIDENT_CONFIG: ${(err as Error).message}`,
    );
  } finally {
    await client?.connection.close();
  }
}

async function main(): Promise<void> {
  const metricsUrl = installWorkerTelemetry(workerMetricsAddress(process.env.WORKER_METRICS_ADDRESS));
  const worker = await createWorker({
    onSetup: (lines) =>
      lines.forEach((l) => (l.startsWith('WARNING') ? console.warn : console.log)(`[worker] ${l}`)),
  });
  await startDeploymentHeartbeats((l) =>
    (l.startsWith('WARNING') ? console.warn : console.log)(`[worker] ${l}`),
  );
  console.log(
    `[worker] polling task queue ${worker.options.taskQueue} in namespace ${worker.options.namespace}${metricsUrl ? `; metrics at ${metricsUrl}` : ''}`,
  );
  // The SDK runtime turns SIGINT/SIGTERM into a graceful shutdown: in-flight tasks finish, then run() returns.
  await worker.run();
  console.log('[worker] stopped');
}

if (require.main === module) {
  main().catch((err) => {
    console.error(
      err instanceof ConfigError ||
        err instanceof TemporalNotReadyError ||
        err instanceof TelemetryConfigError
        ? `[worker] ${err.message}`
        : err,
    );
    process.exit(1);
  });
}
