// `npm run cluster`: Temporal server 1.29.1 on the local PostgreSQL (SQL visibility) and its Web UI, in the
// foreground; Ctrl-C stops both. Builds what is missing first (minutes, once). `--setup-only` builds, creates
// and upgrades the databases, and exits. See README "Run in production".
import { Connection } from '@temporalio/client';
import path from 'node:path';
import { ensureTemporalReady } from '../src/temporal/readiness';
import {
  clusterOptions,
  ensureClusterBinaries,
  ensureSchema,
  servicePorts,
  spawnLogged,
  writeClusterInfo,
  writeServerConfig,
  writeUiConfig,
} from './lib/cluster';
import { portOpen, waitForPort } from './lib/net';

const log = (line: string) => console.log(`[cluster] ${line}`);

async function main(): Promise<void> {
  const setupOnly = process.argv.includes('--setup-only');
  const opts = clusterOptions();
  const ports = servicePorts(opts.port);
  const bins = await ensureClusterBinaries(log);
  log(`PostgreSQL ${opts.postgres.host}:${opts.postgres.port} as ${opts.postgres.user}`);
  await ensureSchema(opts, bins.sqlTool, log);
  if (setupOnly) {
    log('set up; `npm run cluster` runs it');
    return;
  }
  for (const [what, port] of [
    ['Temporal frontend', opts.port],
    ['Web UI', opts.uiPort],
  ] as const)
    if (await portOpen(opts.host, port))
      throw new Error(
        `${opts.host}:${port} (${what}) is already in use: is a cluster or a dev server running? Stop it, or set CLUSTER_PORT / CLUSTER_UI_PORT.`,
      );

  writeServerConfig(opts);
  const uiDir = writeUiConfig(opts);
  let stopping = false;
  const serverLog = path.join(opts.dir, 'server.log');
  const uiLog = path.join(opts.dir, 'ui-server.log');
  log(`starting Temporal server (log ${path.relative(process.cwd(), serverLog)})`);
  // The dynamic-config path in the config is relative to the working directory: run it in the cluster dir.
  const server = spawnLogged(
    bins.server,
    ['--root', opts.dir, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start'],
    opts.dir,
    serverLog,
  );
  const children = [server];
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null) return resolve();
            const t = setTimeout(() => c.kill('SIGKILL'), 15_000);
            c.on('exit', () => {
              clearTimeout(t);
              resolve();
            });
          }),
      ),
    );
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  server.on('exit', (code) => {
    if (!stopping) {
      console.error(`[cluster] the Temporal server exited (${code}); see ${serverLog}`);
      void stop(1);
    }
  });

  await waitForPort(opts.host, opts.port, server, 'the Temporal frontend', 120_000, log);
  const address = `${opts.host}:${opts.port}`;
  // The frontend listens before the namespace registry is loaded: retry the first calls for a while.
  const connection = await Connection.connect({ address });
  for (let attempt = 1; ; attempt++) {
    try {
      const report = await ensureTemporalReady(connection, opts.namespace, log);
      log(
        `namespace ${opts.namespace} ready${report.namespaceCreated ? ' (created)' : ''}; search attributes ${report.registered.length ? `registered: ${report.registered.join(', ')}` : 'in place'}`,
      );
      break;
    } catch (err) {
      if (attempt >= 60) throw err;
      if (attempt % 10 === 0)
        log(`the server is not answering yet (${(err as Error).message.split('\n')[0]})`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
  await connection.close();

  log(`starting the Web UI server (log ${path.relative(process.cwd(), uiLog)})`);
  const ui = spawnLogged(
    bins.ui,
    ['--root', uiDir, '--config', 'config', '--env', 'cluster', 'start'],
    uiDir,
    uiLog,
  );
  children.push(ui);
  ui.on('exit', (code) => {
    if (!stopping) {
      console.error(`[cluster] the Web UI server exited (${code}); see ${uiLog}`);
      void stop(1);
    }
  });
  await waitForPort(opts.host, opts.uiPort, ui, 'the Web UI server', 60_000, log);
  const uiUrl = `http://${opts.host}:${opts.uiPort}`;
  writeClusterInfo({ address, uiUrl, pid: process.pid, startedAt: new Date().toISOString() }, opts.dir);
  console.log(
    [
      '',
      'Temporal cluster is running (server 1.29.1 on PostgreSQL, SQL visibility).',
      `  Address:   ${address}  (namespace ${opts.namespace}; history ${ports.history.grpc}, matching ${ports.matching.grpc}, worker ${ports.worker.grpc})`,
      `  Web UI:    ${uiUrl}/namespaces/${opts.namespace}/workflows`,
      `  Data:      PostgreSQL databases ${opts.databases.main} and ${opts.databases.visibility} (kept across restarts)`,
      `  Logs:      ${path.relative(process.cwd(), opts.dir)}/server.log, ui-server.log`,
      '',
      'Run the engine against it (another terminal):',
      `  TEMPORAL_ADDRESS=${address} npm start`,
      '',
      'Ctrl-C stops the server and the UI.',
    ].join('\n'),
  );
}

main().catch((err: Error) => {
  console.error(`[cluster] ${err.message}`);
  process.exit(1);
});
