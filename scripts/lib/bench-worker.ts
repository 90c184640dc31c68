// A worker process of its own for a benchmark (npm run bench:heartbeats): the engine's worker (createWorker)
// on INCIDENT_TASK_QUEUE with WORKFLOW_BUNDLE_PATH and OUTBOX_FILE from the environment and no ledger, so
// /proc/<pid> holds its CPU time and RSS alone. The parent reads "[bench-worker] running" before it measures;
// SIGTERM stops it gracefully (the SDK runtime turns the signal into a shutdown).
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createWorker } from '../../src/worker';

async function main(): Promise<void> {
  // Warnings and errors only (a workflow's log.warn too): the parent keeps them and reports them.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const worker = await createWorker({ ledger: false });
  process.stdout.write(
    `[bench-worker] running pid ${process.pid} task queue ${worker.options.taskQueue} in namespace ${worker.options.namespace}\n`,
  );
  await worker.run();
  process.stdout.write('[bench-worker] stopped\n');
}

main().catch((err) => {
  console.error('[bench-worker]', err);
  process.exit(1);
});
