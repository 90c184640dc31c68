// Starts the Temporal dev server (CLI `server start-dev`) for `npm start` and for the tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { SEARCH_ATTRIBUTES } from '../../src/workflows/definitions';
import { waitForPort } from './net';
import { runCliSync } from './temporal-cli';

export interface DevServerOptions {
  cli: string;
  ip?: string;
  port?: number;
  /** Web UI port; null runs headless. */
  uiPort?: number | null;
  /** SQLite file; absent keeps everything in memory. */
  dbFile?: string;
  namespace?: string;
  /** Namespace retention, e.g. "720h" (30 days) so closed incidents stay browsable. */
  retention?: string;
  /** Server log file (stdout+stderr); absent discards. */
  logFile?: string;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  process: ChildProcess;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** `n` distinct free ports (all held open while choosing, so no two are the same). */
export async function freePorts(n: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      srv.unref();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.on('error', reject);
        srv.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((s) => (s.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port ?? (await freePort());
  const namespace = opts.namespace ?? 'default';
  const log = opts.log ?? (() => undefined);
  const args = [
    'server',
    'start-dev',
    '--ip',
    ip,
    '--port',
    String(port),
    '--log-level',
    'warn',
    '--namespace',
    namespace,
  ];
  if (opts.uiPort === null || opts.uiPort === undefined) args.push('--headless');
  else args.push('--ui-port', String(opts.uiPort), '--ui-ip', ip);
  if (opts.dbFile) {
    mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    // The default SQLite file mode manages about one workflow a second (DESIGN "Toolchain decisions").
    args.push(
      '--db-filename',
      opts.dbFile,
      '--sqlite-pragma',
      'journal_mode=WAL',
      '--sqlite-pragma',
      'synchronous=NORMAL',
    );
  }
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES))
    args.push('--search-attribute', `${name}=${type}`);
  let stdio: ['ignore', number | 'ignore', number | 'ignore'] = ['ignore', 'ignore', 'ignore'];
  if (opts.logFile) {
    mkdirSync(path.dirname(opts.logFile), { recursive: true });
    const fd = openSync(opts.logFile, 'a');
    stdio = ['ignore', fd, fd];
  }
  log(`[dev-server] ${opts.cli} ${args.join(' ')}`);
  const child = spawn(opts.cli, args, { stdio });
  const address = `${ip}:${port}`;
  await waitForPort(ip, port, child, 'temporal dev server', 60_000);
  await ensureNamespaceSetup(opts.cli, address, namespace, opts.retention, log);
  const uiUrl = opts.uiPort ? `http://${ip}:${opts.uiPort}/namespaces/${namespace}/workflows` : null;
  return {
    address,
    uiUrl,
    process: child,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
      }),
  };
}

/**
 * `--search-attribute` registers the attributes on a fresh database; an existing SQLite file from an older
 * version may lack them, so each is created again (an "already exists" answer is fine). Retention is raised
 * so closed incidents stay browsable in the Web UI.
 */
async function ensureNamespaceSetup(
  cli: string,
  address: string,
  namespace: string,
  retention: string | undefined,
  log: (l: string) => void,
) {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = runCliSync(cli, [
      'operator',
      'search-attribute',
      'list',
      '--address',
      address,
      '--namespace',
      namespace,
      '-o',
      'json',
    ]);
    if (r.status === 0) {
      const missing = Object.keys(SEARCH_ATTRIBUTES).filter((name) => !r.stdout.includes(`"${name}"`));
      for (const name of missing) {
        const c = runCliSync(cli, [
          'operator',
          'search-attribute',
          'create',
          '--address',
          address,
          '--namespace',
          namespace,
          '--name',
          name,
          '--type',
          'Keyword',
        ]);
        if (c.status !== 0 && !/already exists/i.test(c.stderr))
          throw new Error(`cannot register search attribute ${name}: ${c.stderr.trim()}`);
        log(`[dev-server] registered search attribute ${name}`);
      }
      break;
    }
    if (Date.now() > deadline)
      throw new Error(`temporal dev server at ${address} is not answering: ${r.stderr.trim()}`);
    await new Promise((res) => setTimeout(res, 300));
  }
  if (retention) {
    const u = runCliSync(cli, [
      'operator',
      'namespace',
      'update',
      '--address',
      address,
      '--namespace',
      namespace,
      '--retention',
      retention,
    ]);
    if (u.status !== 0) log(`[dev-server] could not set retention ${retention}: ${u.stderr.trim()}`);
    else log(`[dev-server] namespace ${namespace} retention ${retention}`);
  }
}
