// `npm run dev-server`: only the Temporal dev server (SQLite file, Web UI), in the foreground.
import path from 'node:path';
import { startDevServer } from './lib/dev-server';
import { ensureTemporalCli, PROJECT_ROOT } from './lib/temporal-cli';

async function main(): Promise<void> {
  const cli = await ensureTemporalCli();
  const server = await startDevServer({
    cli,
    port: Number(process.env.TEMPORAL_DEV_PORT ?? 7233),
    uiPort: Number(process.env.TEMPORAL_DEV_UI_PORT ?? 8233),
    dbFile: process.env.TEMPORAL_DB_FILE ?? path.join(PROJECT_ROOT, 'data', 'temporal.sqlite'),
    retention: process.env.TEMPORAL_RETENTION ?? '720h',
    logFile: path.join(PROJECT_ROOT, 'data', 'temporal-dev-server.log'),
    log: (l) => console.log(l),
  });
  console.log(`Temporal dev server on ${server.address}; Web UI ${server.uiUrl}; Ctrl-C stops it`);
  // Ctrl-C reaches the CLI too (same process group), so its exit is expected once a stop signal arrived,
  // and a clean exit (code 0, or ended by SIGINT/SIGTERM) is a stop, not a failure.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping the temporal dev server`);
    void server.stop().then(() => {
      console.log('temporal dev server stopped');
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  server.process.on('exit', (code, signal) => {
    if (stopping) return; // stop() reports it
    if (isCleanStop(code, signal)) {
      console.log(
        `temporal dev server stopped (${signal ?? `exit code ${code}`}, from outside this process)`,
      );
      process.exit(0);
    }
    console.error(
      `temporal dev server failed (${signal ?? `exit code ${code}`}); see data/temporal-dev-server.log`,
    );
    process.exit(1);
  });
}

/** The dev server ends with code 0 on SIGINT/SIGTERM; killed by either signal before it could is clean too. */
function isCleanStop(code: number | null, signal: NodeJS.Signals | null): boolean {
  return code === 0 || signal === 'SIGINT' || signal === 'SIGTERM';
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
