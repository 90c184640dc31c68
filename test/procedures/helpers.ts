// Procedure tests: the simulator on real PostgreSQL (one database per test file), a platform config pointing
// at it, a fake `docker` run through the allow-list, and in-process workers on the shared workflow bundle.
import type { Client, WorkflowHandle } from '@temporalio/client';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { resolvePlatformConfig, type PlatformConfig } from '../../src/platform/config';
import { startSimulator, type FaultPatch, type Profile, type Simulator } from '../../scripts/simulator';
import { procedureStateQuery, type ProcedureState } from '../../src/workflows/procedures/common';
import type { ProcedureInput, ProcedureResult } from '../../src/playbook/contract/procedure';
import { approvalDecisionSignal } from '../../src/workflows/definitions';
import { startTestWorker, testClient, tmpFile, waitFor, type TestWorker } from '../harness/temporal';

export const FAKE_DOCKER = path.resolve(__dirname, '..', 'fakes', 'fake-docker.cjs');

export function databaseUrl(name: string): string {
  const base = new URL(process.env.SIM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  base.pathname = `/${name}`;
  return base.toString();
}

export interface FakeDockerState {
  controlUrl?: string;
  failRestart?: boolean;
  containers: Record<string, { state: string; oomKilled?: boolean; startedAt: string; logs?: string[] }>;
  /** Fault patch the simulator receives when that container restarts (what the restart fixes). */
  onRestart?: Record<string, FaultPatch>;
  restarts?: string[];
  /** Backends (by application_name) terminated when that container restarts: its connection pool. */
  connectionsOnRestart?: Record<string, { databaseUrl: string; applicationName: string }>;
}

export class FakeDocker {
  readonly file = tmpFile('fake-docker.json');
  constructor(
    controlUrl: string,
    readonly names: string[],
  ) {
    this.reset(controlUrl);
  }
  reset(controlUrl: string): void {
    const startedAt = new Date(Date.now() - 2 * 3600_000).toISOString();
    this.write({
      controlUrl,
      containers: Object.fromEntries(this.names.map((n) => [n, { state: 'running', startedAt, logs: [] }])),
      onRestart: {},
      restarts: [],
    });
  }
  read(): FakeDockerState {
    return JSON.parse(readFileSync(this.file, 'utf8')) as FakeDockerState;
  }
  write(s: FakeDockerState): void {
    writeFileSync(this.file, JSON.stringify(s, null, 2));
  }
  update(fn: (s: FakeDockerState) => void): void {
    const s = this.read();
    fn(s);
    this.write(s);
  }
  argv(...args: string[]): string[] {
    return [process.execPath, FAKE_DOCKER, this.file, ...args];
  }
  /** container-status, inspect:, logs:, restart: for every container. */
  commands(): Record<string, string[]> {
    const out: Record<string, string[]> = { 'container-status': this.argv('ps') };
    for (const n of this.names) {
      out[`inspect:${n}`] = this.argv('inspect', n);
      out[`logs:${n}`] = this.argv('logs', n);
      out[`restart:${n}`] = this.argv('restart', n);
    }
    return out;
  }
}

export interface Platform {
  sim: Simulator;
  docker: FakeDocker;
  platform: PlatformConfig;
  dbName: string;
}

export async function startPlatform(
  profile: Profile,
  dbName: string,
  overrides: Record<string, unknown> = {},
): Promise<Platform> {
  const sim = await startSimulator({ profile, databaseUrl: databaseUrl(dbName) });
  // The profile's own container names (the deployed one uses Compose's usdcop-* names).
  const c = resolvePlatformConfig({ profile }).containers;
  const docker = new FakeDocker(sim.controlUrl, [
    c.apis.trading,
    c.apis.inference,
    c.database,
    c.redis,
    c.airflowScheduler,
  ]);
  const platform = platformConfig(profile, sim, docker, overrides);
  return { sim, docker, platform, dbName };
}

export function platformConfig(
  profile: Profile,
  sim: Simulator,
  docker: FakeDocker | null,
  overrides: Record<string, unknown> = {},
  redisUrl = sim.redisUrl,
): PlatformConfig {
  return resolvePlatformConfig({
    profile,
    overrides: deepAssign(
      {
        services: { trading: { baseUrl: sim.tradingUrl }, inference: { baseUrl: sim.inferenceUrl } },
        database: { url: sim.databaseUrl },
        redis: { url: redisUrl },
        http: { connectTimeoutMs: 1_000, headersTimeoutMs: 2_000, bodyTimeoutMs: 2_000 },
        commands: docker ? docker.commands() : {},
        commandTimeoutMs: 10_000,
      },
      overrides,
    ),
  });
}

function deepAssign(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
        ? deepAssign(cur as Record<string, unknown>, v as Record<string, unknown>)
        : v;
  }
  return out;
}

export type ProcedureWorker = TestWorker;

/** A worker on its own task queue with the platform config (the shared harness worker). */
export async function startProcedureWorker(
  taskQueue: string,
  platform: PlatformConfig,
): Promise<ProcedureWorker> {
  return startTestWorker({ taskQueue, deps: { platform } });
}

/**
 * A procedure started as a top-level workflow (the parent-side start is the lead's), its incidentId
 * pointing at a real incidentWorkflow so the child's signals to the parent have a running target.
 */
export async function startProcedure(
  client: Client,
  taskQueue: string,
  type: string,
  name: string,
  input: Partial<ProcedureInput> & Pick<ProcedureInput, 'kind'>,
): Promise<{ parent: WorkflowHandle; child: WorkflowHandle }> {
  const suffix = `${Date.now()}-${Math.random().toString(36).slice(2, 7)}`;
  const parent = await client.workflow.start('incidentWorkflow', {
    taskQueue,
    workflowId: `proc-parent-${name}-${suffix}`,
    // A severity with a slow matrix so the parent stays quiet; generic: the parent starts no procedure itself.
    args: [{ title: `parent of ${name}`, severity: 'P3', kind: 'generic', timeScale: 1 }],
  });
  const child = await client.workflow.start(type, {
    taskQueue,
    workflowId: `proc-${name}-${suffix}`,
    args: [
      {
        incidentId: `${parent.workflowId}@test`,
        incidentWorkflowId: parent.workflowId,
        severity: 'P1',
        timeScale: 60,
        preApprovedActions: [],
        approvalTimeoutMinutes: 10,
        ...input,
      } satisfies ProcedureInput,
    ],
  });
  return { parent, child };
}

export const procState = (h: WorkflowHandle) => h.query<ProcedureState>(procedureStateQuery);

export async function waitForApproval(
  h: WorkflowHandle,
  action: string,
  timeoutMs = 30_000,
): Promise<string> {
  const s = await waitFor(
    () => procState(h),
    (x) => x.pendingApproval?.action === action,
    { timeoutMs, what: `approval request for ${action}` },
  );
  return s.pendingApproval!.actionId;
}

export async function decide(
  h: WorkflowHandle,
  actionId: string,
  decision: 'approved' | 'rejected',
  by = 'alice',
  reason?: string,
  confirmationCode?: string,
): Promise<void> {
  await h.signal(approvalDecisionSignal, {
    actionId,
    decision,
    by,
    ...(reason ? { reason } : {}),
    ...(confirmationCode ? { confirmationCode } : {}),
  });
}

export async function resultOf(h: WorkflowHandle): Promise<ProcedureResult> {
  return (await h.result()) as ProcedureResult;
}

export async function sql<T extends Record<string, unknown>>(
  url: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const c = new PgClient({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, params)).rows;
  } finally {
    await c.end();
  }
}

export async function terminateParents(handles: WorkflowHandle[]): Promise<void> {
  await Promise.all(handles.map((h) => h.terminate('test done').catch(() => undefined)));
}

export interface ProcedureSuite {
  /** The platform of this file (set before the first test). */
  readonly p: Platform;
  /** Starts a procedure on `queue` under a parent incident; the parent is terminated after the file. */
  start(
    queue: string,
    type: string,
    name: string,
    input: Partial<ProcedureInput> & Pick<ProcedureInput, 'kind'>,
  ): Promise<WorkflowHandle>;
  /** The file's client. */
  client(): Client;
}

/**
 * The set-up the procedure test files share: the simulator on its own database, one worker per task queue
 * with its platform config, and a client; the simulator (and with `resetDocker` the fake docker) reset before
 * each test; parents terminated, workers and simulator stopped after the file.
 */
export function procedureSuite(opts: {
  database: string;
  workers: Record<string, (p: Platform) => PlatformConfig>;
  resetDocker?: boolean;
}): ProcedureSuite {
  let platform: Platform | undefined;
  let client: Client | undefined;
  let closeClient: (() => Promise<void>) | undefined;
  const workers: ProcedureWorker[] = [];
  const parents: WorkflowHandle[] = [];
  const p = (): Platform => {
    if (!platform) throw new Error('procedureSuite: the platform starts in beforeAll');
    return platform;
  };
  beforeAll(async () => {
    platform = await startPlatform('playbook', opts.database);
    for (const [queue, config] of Object.entries(opts.workers))
      workers.push(await startProcedureWorker(queue, config(platform)));
    ({ client, close: closeClient } = await testClient());
  });
  afterAll(async () => {
    await terminateParents(parents);
    await closeClient?.();
    for (const w of workers) await w.stop();
    await platform?.sim.stop();
  });
  beforeEach(async () => {
    await p().sim.reset();
    if (opts.resetDocker) p().docker.reset(p().sim.controlUrl);
  });
  return {
    get p() {
      return p();
    },
    client() {
      if (!client) throw new Error('procedureSuite: the client starts in beforeAll');
      return client;
    },
    async start(queue, type, name, input) {
      const { parent, child } = await startProcedure(client!, queue, type, name, input);
      parents.push(parent);
      return child;
    },
  };
}
