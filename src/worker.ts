// The worker: one Worker on task queue `incident-response` running the workflows bundle and the
// activities built by createActivities(deps). Connection from the standard TEMPORAL_* variables.
import { Worker, type WorkerOptions } from '@temporalio/worker';
import type { NotificationChannel } from './activities/notify/port';
import { createActivities } from './activities';
import { OutboxChannel } from './activities/notify/outbox';
import { createChannelDispatcher, InMemoryKeyValueStore } from './activities/notify/http';
import { PagerDutyChannel } from './activities/notify/pagerduty';
import { SlackChannel } from './activities/notify/slack';
import { ConfigError, loadDeploymentConfig, loadEnv, type DeploymentConfig } from './config';
import { connectWorkerConnection } from './temporal/connection';

export interface CreateWorkerOptions {
  /** Replace or add notification channels (the outbox is built from config unless given here). */
  channels?: Record<string, NotificationChannel>;
  overrides?: Partial<WorkerOptions>;
}

export async function createWorker({ channels = {}, overrides = {} }: CreateWorkerOptions = {}): Promise<Worker> {
  const env = loadEnv();
  const deployment = loadDeploymentConfig(env.INCIDENT_CONFIG);
  const outbox = new OutboxChannel(deployment.outbox?.file ?? env.OUTBOX_FILE);
  const configured = configuredChannels(deployment);
  const { connection, namespace } = await connectWorkerConnection();
  const workflowSource = env.WORKFLOW_BUNDLE_PATH
    ? { workflowBundle: { codePath: env.WORKFLOW_BUNDLE_PATH } }
    : { workflowsPath: require.resolve('./workflows') };
  return Worker.create({
    connection,
    namespace,
    taskQueue: env.INCIDENT_TASK_QUEUE,
    ...workflowSource,
    activities: createActivities({
      channels: { outbox, ...configured, ...channels },
      // Every configured channel is used unless the policy names its own list.
      policyOverrides: { channels: ['outbox', ...Object.keys(configured)], ...deployment.policy },
    }),
    // A worker that dies holds its incidents' sticky queue; give up on it after 2 s (default 10 s) so the
    // next escalation timer is handled by another worker on time.
    stickyQueueScheduleToStartTimeout: '2 seconds',
    ...overrides,
  });
}

/** Slack and PagerDuty from the deployment config; who a role is comes from `contacts` at send time. */
function configuredChannels(deployment: DeploymentConfig): Record<string, NotificationChannel> {
  const out: Record<string, NotificationChannel> = {};
  // Idempotency keys and Slack message ts: in memory unless a persistent store is wired (ledger).
  const store = new InMemoryKeyValueStore();
  if (deployment.slack) {
    const slack = new SlackChannel(deployment.slack, { dispatcher: createChannelDispatcher(deployment.slack.timeouts), store, contacts: deployment.contacts });
    out[slack.name] = slack;
  }
  if (deployment.pagerduty) {
    const pd = new PagerDutyChannel(deployment.pagerduty, { dispatcher: createChannelDispatcher(deployment.pagerduty.timeouts), store });
    out[pd.name] = pd;
  }
  return out;
}

async function main(): Promise<void> {
  const worker = await createWorker();
  console.log(`[worker] polling task queue ${worker.options.taskQueue} in namespace ${worker.options.namespace}`);
  // The SDK runtime turns SIGINT/SIGTERM into a graceful shutdown: in-flight tasks finish, then run() returns.
  await worker.run();
  console.log('[worker] stopped');
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof ConfigError ? `[worker] ${err.message}` : err);
    process.exit(1);
  });
}
