// A real worker process for the procedure crash test (run with tsx). With CRASH_AFTER_ACTIVITY set, that
// activity performs its side effect and then the process kills itself with SIGKILL before reporting the
// result: the crash window between a mutating platform call and its acknowledgement.
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../../src/activities';
import { OutboxChannel } from '../../src/activities/notify/outbox';
import { platformConfigSchema } from '../../src/platform/config';

async function main() {
  const platform = platformConfigSchema.parse(JSON.parse(process.env.PLATFORM_JSON ?? '{}'));
  const activities = createActivities({
    channels: { outbox: new OutboxChannel(process.env.OUTBOX_FILE ?? '/tmp/outbox.jsonl', () => undefined) },
    policyOverrides: {},
    platform,
  }) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const crashAfter = process.env.CRASH_AFTER_ACTIVITY;
  if (crashAfter && activities[crashAfter]) {
    const original = activities[crashAfter]!;
    activities[crashAfter] = async (...args: unknown[]) => {
      const result = await original(...args);
      process.stdout.write(`[worker-process] crashing after ${crashAfter}: ${JSON.stringify(result)}\n`);
      process.kill(process.pid, 'SIGKILL');
      return result;
    };
  }
  const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: process.env.INCIDENT_TASK_QUEUE!,
    workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! },
    activities,
    stickyQueueScheduleToStartTimeout: '2 seconds',
  });
  process.stdout.write('[worker-process] running\n');
  await worker.run();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
