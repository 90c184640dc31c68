// `npm run cluster`: the production-shaped local Temporal (DESIGN "Production topology"): Temporal server
// 1.29.1 on the local PostgreSQL with SQL visibility, and the Web UI server 2.42.1 pointed at it. Everything is
// built from Go modules (nothing downloaded as a binary) into .temporal/cluster-bin; configuration and logs
// are in .temporal/cluster; the data is in PostgreSQL (databases `temporal` and `temporal_visibility` by
// default), so it survives a restart.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { goInstall, isExecutable, PROJECT_ROOT } from './temporal-cli';

export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server/cmd/server@v1.29.1';
export const TEMPORAL_SQL_TOOL_MODULE = 'go.temporal.io/server/cmd/tools/sql@v1.29.1';
export const UI_SERVER_MODULE = 'github.com/temporalio/ui-server/v2/cmd/server@v2.42.1';
const BIN_DIR = path.join(PROJECT_ROOT, '.temporal', 'cluster-bin');
export const CLUSTER_DIR = path.join(PROJECT_ROOT, '.temporal', 'cluster');
/** Where the running cluster says where it is (read by `npm start` for the banner's UI link). */
const INFO_NAME = 'cluster.json';
const INFO_FILE = path.join(CLUSTER_DIR, INFO_NAME);

export interface ClusterOptions {
  /** Config, logs and cluster.json: CLUSTER_DIR (default .temporal/cluster; the chaos test uses its own). */
  dir: string;
  host: string;
  /** Frontend gRPC port; the other services' ports follow it (see servicePorts). */
  port: number;
  uiPort: number;
  namespace: string;
  postgres: { host: string; port: number; user: string; password: string };
  databases: { main: string; visibility: string };
}

const int = (env: NodeJS.ProcessEnv, name: string, def: number) => {
  const raw = env[name];
  if (raw === undefined || raw === '') return def;
  const v = Number(raw);
  if (!Number.isInteger(v) || v <= 0 || v > 65535) throw new Error(`${name}=${raw} is not a port number`);
  return v;
};

/** Options from the environment: CLUSTER_PORT (7233), CLUSTER_UI_PORT (8088; the ingress has 8080), CLUSTER_PG_* and databases. */
export function clusterOptions(env: NodeJS.ProcessEnv = process.env): ClusterOptions {
  return {
    dir: env.CLUSTER_DIR ? path.resolve(env.CLUSTER_DIR) : CLUSTER_DIR,
    host: '127.0.0.1',
    port: int(env, 'CLUSTER_PORT', 7233),
    uiPort: int(env, 'CLUSTER_UI_PORT', 8088),
    namespace: env.TEMPORAL_NAMESPACE ?? 'default',
    postgres: {
      host: env.CLUSTER_PG_HOST ?? '127.0.0.1',
      port: int(env, 'CLUSTER_PG_PORT', 5432),
      user: env.CLUSTER_PG_USER ?? 'postgres',
      password: env.CLUSTER_PG_PASSWORD ?? '',
    },
    databases: {
      main: env.CLUSTER_DB ?? 'temporal',
      visibility: env.CLUSTER_VISIBILITY_DB ?? 'temporal_visibility',
    },
  };
}

/**
 * Each service's gRPC and membership port, from the frontend's (the upstream development layout at 7233).
 * Membership ports are stored as smallint by the server: they must stay below 32768.
 */
export function servicePorts(port: number) {
  const ports = {
    frontend: { grpc: port, membership: port - 300, http: port + 10 },
    history: { grpc: port + 1, membership: port - 299 },
    matching: { grpc: port + 2, membership: port - 298 },
    worker: { grpc: port + 6, membership: port - 294 },
  };
  for (const [name, p] of Object.entries(ports))
    if (p.membership <= 0 || p.membership >= 32768)
      throw new Error(
        `CLUSTER_PORT=${port} puts the ${name} membership port at ${p.membership}: it must be 1-32767 (choose CLUSTER_PORT between 301 and 32000)`,
      );
  return ports;
}

export interface ClusterBinaries {
  server: string;
  sqlTool: string;
  ui: string;
}

/** The three binaries, built once (each into its own folder: all three are named `server` or `sql`). */
export async function ensureClusterBinaries(log: (line: string) => void): Promise<ClusterBinaries> {
  const want = [
    {
      key: 'server',
      module: TEMPORAL_SERVER_MODULE,
      dir: 'server-1.29.1',
      bin: 'server',
      label: 'temporal-server',
    },
    {
      key: 'sqlTool',
      module: TEMPORAL_SQL_TOOL_MODULE,
      dir: 'sql-tool-1.29.1',
      bin: 'sql',
      label: 'temporal-sql-tool',
    },
    { key: 'ui', module: UI_SERVER_MODULE, dir: 'ui-server-2.42.1', bin: 'server', label: 'ui-server' },
  ] as const;
  const out: Partial<ClusterBinaries> = {};
  for (const w of want) {
    const dir = path.join(BIN_DIR, w.dir);
    const file = path.join(dir, w.bin);
    if (!isExecutable(file)) await goInstall(w.module, dir, w.label, log);
    out[w.key] = file;
  }
  return out as ClusterBinaries;
}

async function pg<T>(opts: ClusterOptions, database: string, fn: (c: PgClient) => Promise<T>): Promise<T> {
  const c = new PgClient({ ...opts.postgres, database, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** Both databases exist and their schemas are at the version this server needs (set up or upgraded). */
export async function ensureSchema(
  opts: ClusterOptions,
  sqlTool: string,
  log: (line: string) => void,
): Promise<void> {
  const { host, port, user, password } = opts.postgres;
  for (const [db, schema] of [
    [opts.databases.main, 'postgresql/v12/temporal'],
    [opts.databases.visibility, 'postgresql/v12/visibility'],
  ] as const) {
    const exists = await pg(opts, 'postgres', async (c) => {
      const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
      if (r.rowCount) return true;
      // An identifier, not a value: checked to be a plain name first.
      if (!/^[a-z_][a-z0-9_]*$/.test(db))
        throw new Error(`database name ${db} must be lower-case letters, digits and _`);
      await c.query(`CREATE DATABASE ${db}`);
      return false;
    });
    if (!exists) log(`created database ${db}`);
    const versioned = await pg(opts, db, async (c) => {
      const r = await c.query("SELECT to_regclass('schema_version') AS t");
      return r.rows[0]?.t !== null;
    });
    const base = [
      '--plugin',
      'postgres12',
      '--endpoint',
      host,
      '--port',
      String(port),
      '--user',
      user,
      '--database',
      db,
    ];
    if (password) base.push('--password', password);
    const run = (args: string[]) => {
      const r = spawnSync(sqlTool, [...base, ...args], { encoding: 'utf8' });
      if (r.status !== 0)
        throw new Error(
          `temporal-sql-tool ${args.join(' ')} on ${db} failed (${r.status}):\n${r.stderr || r.stdout}`,
        );
    };
    if (!versioned) {
      log(`setting up the schema of ${db}`);
      run(['setup-schema', '-v', '0.0']);
    }
    run(['update-schema', '--schema-name', schema]);
    const version = await pg(opts, db, async (c) => {
      const r = await c.query('SELECT curr_version FROM schema_version LIMIT 1');
      return String(r.rows[0]?.curr_version ?? '?');
    });
    log(`schema of ${db}: version ${version} (${schema})`);
  }
}

const yamlString = (s: string) => JSON.stringify(s);

/** The server's config (`<CLUSTER_DIR>/config/cluster.yaml`) and its dynamic config (path relative to cwd). */
export function writeServerConfig(opts: ClusterOptions): void {
  const p = servicePorts(opts.port);
  const store = (db: string, maxConns: number) => `      sql:
        pluginName: "postgres12"
        databaseName: ${yamlString(db)}
        connectAddr: ${yamlString(`${opts.postgres.host}:${opts.postgres.port}`)}
        connectProtocol: "tcp"
        user: ${yamlString(opts.postgres.user)}
        password: ${yamlString(opts.postgres.password)}
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: "1h"`;
  const service = (s: { grpc: number; membership: number; http?: number }) => `    rpc:
      grpcPort: ${s.grpc}
      membershipPort: ${s.membership}
      bindOnIP: ${yamlString(opts.host)}${s.http ? `\n      httpPort: ${s.http}` : ''}`;
  const config = `# Written by npm run cluster (scripts/lib/cluster.ts); rewritten at every start.
log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
${store(opts.databases.main, 20)}
    postgres-visibility:
${store(opts.databases.visibility, 4)}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: ${yamlString(opts.host)}
services:
  frontend:
${service(p.frontend)}
  history:
${service(p.history)}
  matching:
${service(p.matching)}
  worker:
${service(p.worker)}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: "active"
  currentClusterName: "active"
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: "frontend"
      rpcAddress: ${yamlString(`${opts.host}:${opts.port}`)}
      httpAddress: ${yamlString(`${opts.host}:${p.frontend.http}`)}
dcRedirectionPolicy:
  policy: "noop"
archival:
  history:
    state: "disabled"
  visibility:
    state: "disabled"
namespaceDefaults:
  archival:
    history:
      state: "disabled"
    visibility:
      state: "disabled"
dynamicConfigClient:
  filepath: "config/dynamicconfig/cluster.yaml"
  pollInterval: "10s"
`;
  mkdirSync(path.join(opts.dir, 'config', 'dynamicconfig'), { recursive: true });
  writeFileSync(path.join(opts.dir, 'config', 'cluster.yaml'), config);
  // Nothing tuned: the upstream defaults (a single-node cluster of 4 history shards is the production shape).
  writeFileSync(
    path.join(opts.dir, 'config', 'dynamicconfig', 'cluster.yaml'),
    '# Dynamic config of the npm run cluster server; empty: the server defaults.\n',
  );
}

export function writeUiConfig(opts: ClusterOptions): string {
  const dir = path.join(opts.dir, 'ui');
  mkdirSync(path.join(dir, 'config'), { recursive: true });
  writeFileSync(
    path.join(dir, 'config', 'cluster.yaml'),
    `# Written by npm run cluster (scripts/lib/cluster.ts).
temporalGrpcAddress: ${yamlString(`${opts.host}:${opts.port}`)}
host: ${yamlString(opts.host)}
port: ${opts.uiPort}
enableUi: true
defaultNamespace: ${yamlString(opts.namespace)}
refreshInterval: 1m
notifyOnNewVersion: false
cors:
  cookieInsecure: true
auth:
  enabled: false
`,
  );
  return dir;
}

/** Spawns a process with stdout and stderr appended to a log file. */
export function spawnLogged(file: string, args: string[], cwd: string, logFile: string): ChildProcess {
  const out = createWriteStream(logFile, { flags: 'a' });
  out.write(`\n--- ${new Date().toISOString()} ${file} ${args.join(' ')}\n`);
  const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  return child;
}

export interface ClusterInfo {
  address: string;
  uiUrl: string;
  pid: number;
  startedAt: string;
}

export function writeClusterInfo(info: ClusterInfo, dir: string = CLUSTER_DIR): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, INFO_NAME), `${JSON.stringify(info, null, 2)}\n`);
}

/** The running `npm run cluster`'s address and UI, if one runs (its pid is alive). */
export function readClusterInfo(): ClusterInfo | null {
  if (!existsSync(INFO_FILE)) return null;
  try {
    const info = JSON.parse(readFileSync(INFO_FILE, 'utf8')) as ClusterInfo;
    process.kill(info.pid, 0);
    return info;
  } catch {
    return null;
  }
}
