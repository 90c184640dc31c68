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
  console.log(`Temporal dev server on ${server.address}; Web UI ${server.uiUrl}`);
  const stop = () => void server.stop().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  server.process.on('exit', (code) => {
    console.error(`temporal dev server exited (${code}); see data/temporal-dev-server.log`);
    process.exit(1);
  });
}

main().catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
