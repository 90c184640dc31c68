// A real worker process for crash tests (run with tsx). With CRASH_AFTER_WRITE_STEP set, the outbox
// writes the record of that step and then the process kills itself with SIGKILL before the activity
// completes: the crash window between a side effect and its acknowledgement.
import { OutboxChannel } from '../../src/activities/notify/outbox';
import type { Notification } from '../../src/playbook/contract/notification';
import { installWorkerTelemetry, workerMetricsAddress } from '../../src/temporal/telemetry';
import { createWorker } from '../../src/worker';

class CrashingOutbox extends OutboxChannel {
  override async deliver(n: Notification) {
    const result = await super.deliver(n);
    if (
      process.env.CRASH_AFTER_WRITE_STEP &&
      n.step === process.env.CRASH_AFTER_WRITE_STEP &&
      result.outcome === 'delivered'
    ) {
      process.stdout.write(`[worker-process] crashing after writing ${n.idempotencyKey}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
    return result;
  }
}

async function main() {
  // /metrics only when the test asks for it (WORKER_METRICS_ADDRESS): two such processes must not share a port.
  installWorkerTelemetry(workerMetricsAddress(process.env.WORKER_METRICS_ADDRESS ?? 'off'));
  const outbox = new CrashingOutbox(process.env.OUTBOX_FILE ?? 'outbox.jsonl');
  const worker = await createWorker({ channels: { outbox } });
  process.stdout.write('[worker-process] running\n');
  await worker.run();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
