// Real worker processes for crash tests (test/harness/worker-process.ts run with tsx): started on a task
// queue and an outbox file, their output kept, killed or stopped by the test.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { waitFor } from './temporal';

const ROOT = path.resolve(__dirname, '..', '..');

export interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<NodeJS.Signals | number | null>;
  /** Resolves once it polls: with no worker on the queue a query fails at once ("no poller seen"). */
  running: () => Promise<string>;
}

export function startWorkerProcess(opts: {
  taskQueue: string;
  outboxFile: string;
  env?: Record<string, string>;
}): WorkerProcess {
  let out = '';
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'test', 'harness', 'worker-process.ts')],
    {
      cwd: ROOT,
      env: { ...process.env, INCIDENT_TASK_QUEUE: opts.taskQueue, OUTBOX_FILE: opts.outboxFile, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
    child.on('exit', (code, signal) => resolve(signal ?? code)),
  );
  const output = () => out;
  const running = () =>
    waitFor(
      async () => out,
      (o) => o.includes('[worker-process] running'),
      { timeoutMs: 60_000, what: `worker process ${child.pid}` },
    );
  return { child, output, exited, running };
}

/** Ends what is still running (a stopped process too: SIGKILL ends it without it resuming). */
export function stopAll(workers: WorkerProcess[]): void {
  for (const w of workers)
    if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
}
