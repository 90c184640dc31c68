// `npm run test:chaos` (issue 10 item 7): the production shape under failure. `npm run cluster` (Temporal
// 1.29.1 on PostgreSQL, fresh databases of its own) with 2 worker processes and 2 ingress processes sharing
// Redis. A storm of P1 alerts over 50 keys is sent the way Alertmanager sends it (retrying 5xx and refused
// connections, on the replica that is up); mid-storm one worker and one ingress get SIGKILL, then the
// Temporal server process gets SIGKILL and is started again. Half the incidents are acknowledged before the
// server goes down and half after it is back.
//
// Checked: exactly 50 incidents, each with all its alerts; every P1 matrix step (0/15/30/60 min) delivered
// exactly once per role; every outbox key unique; every acknowledgement applied and no re-page composed
// after it; every answer of the surviving ingress 2xx or 503 (only the killed one may drop a connection).
// Prints the figures, a JSON line, and `chaos: N passed, N failed`. Exit 1 if a check failed.
import { bundleWorkflowCode } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { request } from 'undici';
import { readOutbox } from '../src/activities/notify/outbox';
import { WORKFLOW_PRELOAD_MODULES } from '../src/temporal/bundle';
import type { IncidentStatus } from '../src/playbook/contract/incident';
import { acknowledgeSignal, statusQuery } from '../src/workflows/definitions';
import { freePorts } from './lib/dev-server';
import { parseIncidentId } from '../src/playbook/contract/incident-id';
import { PROJECT_ROOT } from './lib/temporal-cli';

const KEYS = 50;
const ALERTS_PER_KEY = 20;
/** Playbook minutes per wall second x 60: the 60-minute step comes 60 s after an incident opens. */
const TIME_SCALE = 60;
const STORM_MS = 30_000;
const KILL_REPLICAS_AT_MS = 8_000;
const FIRST_ACKS_AT_MS = 12_000;
const KILL_SERVER_AT_MS = 16_000;
const P1_STEPS = [
  ['escalate-P1-0m', 'oncall-primary'],
  ['escalate-P1-15m', 'oncall-secondary'],
  ['escalate-P1-30m', 'eng-lead'],
  ['escalate-P1-60m', 'trading-lead'],
] as const;
const ACK_BY = 'chaos-oncall';
/** The ingress's bearer token, as Alertmanager's http_config.authorization sends it. */
const TOKEN = randomUUID();

const PORT = Number(process.env.CHAOS_CLUSTER_PORT ?? 17233);
const UI_PORT = Number(process.env.CHAOS_CLUSTER_UI_PORT ?? 18088);
const ADDRESS = `127.0.0.1:${PORT}`;
const CLUSTER_DIR = path.join(PROJECT_ROOT, '.temporal', 'chaos');
const DB = 'temporal_chaos';
const VISIBILITY_DB = 'temporal_chaos_visibility';
const LEDGER_DB = 'incident_ledger_chaos';

const started = Date.now();
const log = (line: string) => console.log(`[chaos ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));
const children: ChildProcess[] = [];

interface Proc {
  name: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

function run(name: string, args: string[], env: Record<string, string>): Proc {
  let out = '';
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (c: Buffer) => {
    out += c.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  children.push(child);
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  return { name, child, output: () => out, exited };
}

async function waitOutput(p: Proc, text: string, timeoutMs: number, progress = false): Promise<void> {
  const until = Date.now() + timeoutMs;
  let shown = 0;
  while (!p.output().includes(text)) {
    if (p.child.exitCode !== null)
      throw new Error(`${p.name} exited (${p.child.exitCode}):\n${p.output().slice(-3000)}`);
    if (Date.now() > until)
      throw new Error(`${p.name}: no "${text}" in ${timeoutMs} ms:\n${p.output().slice(-3000)}`);
    if (progress) {
      const lines = p.output().split('\n');
      for (const l of lines.slice(shown, -1)) if (l.includes('[cluster]')) log(l.trim());
      shown = Math.max(shown, lines.length - 1);
    }
    await sleep(200);
  }
}

async function freshDatabases(): Promise<void> {
  const c = new PgClient({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await c.connect();
  try {
    for (const db of [DB, VISIBILITY_DB, LEDGER_DB])
      await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  } finally {
    await c.end();
  }
}

function startCluster(): Proc {
  return run('cluster', ['scripts/cluster.ts'], {
    CLUSTER_DIR,
    CLUSTER_PORT: String(PORT),
    CLUSTER_UI_PORT: String(UI_PORT),
    CLUSTER_DB: DB,
    CLUSTER_VISIBILITY_DB: VISIBILITY_DB,
  });
}

function serverPids(): number[] {
  const r = spawnSync('pgrep', ['-f', '--', `--root ${CLUSTER_DIR} --config config`], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map(Number)
    .filter((pid) => pid !== process.pid);
}

function notification(key: number, n: number) {
  const now = new Date().toISOString();
  return {
    receiver: 'incident-ingress',
    status: 'firing',
    alerts: [
      {
        status: 'firing',
        labels: { alertname: 'ChaosProbe', severity: 'critical', service: `chaos-svc-${key}`, job: 'chaos' },
        annotations: { summary: `chaos probe ${key}/${n}` },
        startsAt: now,
        endsAt: '0001-01-01T00:00:00Z',
        generatorURL: 'http://prometheus:9090/graph',
        fingerprint: `chaos-${key}-${n}`,
      },
    ],
    groupLabels: { service: `chaos-svc-${key}` },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    version: '4',
    groupKey: `{}:{service="chaos-svc-${key}"}`,
    truncatedAlerts: 0,
  };
}

interface Attempt {
  replica: number;
  at: number;
  end: number;
  outcome: number | 'connection-error';
}

async function main(): Promise<void> {
  const id = randomUUID().slice(0, 8);
  const taskQueue = `chaos-${id}`;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'incident-chaos-'));
  const outboxFile = path.join(tmp, 'outbox.jsonl');
  rmSync(CLUSTER_DIR, { recursive: true, force: true });
  mkdirSync(CLUSTER_DIR, { recursive: true });
  await freshDatabases();

  log('bundling the workflows once for both workers');
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(PROJECT_ROOT, 'src', 'workflows'),
    preloadModules: WORKFLOW_PRELOAD_MODULES,
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never,
  });
  const bundle = path.join(tmp, 'workflow-bundle.js');
  writeFileSync(bundle, code);

  log(`npm run cluster on ${ADDRESS} (fresh databases ${DB}, ${VISIBILITY_DB}; builds the server once)`);
  let cluster = startCluster();
  await waitOutput(cluster, 'Temporal cluster is running', 20 * 60_000, true);
  log('cluster up');

  const [m1, m2, p1, p2] = await freePorts(4);
  const workerEnv = (metricsPort: number) => ({
    TEMPORAL_ADDRESS: ADDRESS,
    INCIDENT_TASK_QUEUE: taskQueue,
    OUTBOX_FILE: outboxFile,
    WORKFLOW_BUNDLE_PATH: bundle,
    WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
    LEDGER_DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${LEDGER_DB}`,
  });
  const workers = [
    run('worker-1', ['src/worker.ts'], workerEnv(m1!)),
    run('worker-2', ['src/worker.ts'], workerEnv(m2!)),
  ];
  const ingressEnv = (port: number) => ({
    TEMPORAL_ADDRESS: ADDRESS,
    INCIDENT_TASK_QUEUE: taskQueue,
    INGRESS_TASK_QUEUE: '',
    INGRESS_PORT: String(port),
    INGRESS_BEARER_TOKENS: TOKEN,
    INGRESS_TIME_SCALE: String(TIME_SCALE),
    INGRESS_REDIS_URL: 'redis://127.0.0.1:6379/0',
    INGRESS_REDIS_KEY_PREFIX: `chaos-${id}:`,
    INGRESS_RATE_LIMIT_PER_SECOND: '100000',
    INGRESS_RATE_LIMIT_BURST: '100000',
    INGRESS_RETRY_AFTER_SECONDS: '1',
    INGRESS_LOG_LEVEL: 'warn',
  });
  const ingresses = [
    run('ingress-1', ['src/ingress/main.ts'], ingressEnv(p1!)),
    run('ingress-2', ['src/ingress/main.ts'], ingressEnv(p2!)),
  ];
  for (const w of workers) await waitOutput(w, '[worker] polling task queue', 120_000);
  for (const i of ingresses) await waitOutput(i, '[ingress] listening on', 60_000);
  const urls = [p1, p2].map((p) => `http://127.0.0.1:${p}/v1/alerts/alertmanager`);
  log(`2 workers and 2 ingress replicas up (task queue ${taskQueue})`);

  const connection = await Connection.connect({ address: ADDRESS });
  const client = new Client({ connection, namespace: 'default' });

  // ---- the storm, sent as Alertmanager sends: retry 5xx and refused connections, on a replica that is up.
  const attempts: Attempt[] = [];
  const down = new Set<number>();
  const keyWorkflow = new Map<number, string>();
  const total = KEYS * ALERTS_PER_KEY;
  let next = 0;
  let rr = 0;
  const stormStart = Date.now();
  const deliver = async (i: number) => {
    const key = i % KEYS;
    const body = JSON.stringify(notification(key, Math.floor(i / KEYS)));
    for (;;) {
      // Both taken out (a dropped connection on the survivor too): try both again, and the check below fails.
      if (down.size === 2) down.clear();
      const live = [0, 1].filter((r) => !down.has(r));
      const replica = live[rr++ % live.length]!;
      const at = Date.now();
      try {
        const res = await request(urls[replica]!, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body,
          headersTimeout: 30_000,
          bodyTimeout: 30_000,
        });
        const text = await res.body.text();
        attempts.push({ replica, at, end: Date.now(), outcome: res.statusCode });
        if (res.statusCode >= 200 && res.statusCode < 300) {
          const wid = (JSON.parse(text) as { incidents: { workflowId: string }[] }).incidents[0]?.workflowId;
          if (wid) keyWorkflow.set(key, wid);
          return;
        }
        const wait = Number(res.headers['retry-after'] ?? 1);
        await sleep(Math.min(1000, wait * 1000));
      } catch {
        attempts.push({ replica, at, end: Date.now(), outcome: 'connection-error' });
        // Alertmanager would try again; a load balancer takes the replica out of rotation.
        down.add(replica);
        await sleep(100);
      }
    }
  };
  const storm = (async () => {
    const inflight = new Set<Promise<void>>();
    while (next < total) {
      const i = next++;
      await sleep(stormStart + (i * STORM_MS) / total - Date.now());
      const p = deliver(i).finally(() => inflight.delete(p));
      inflight.add(p);
    }
    await Promise.all(inflight);
  })();

  const acknowledge = async (keys: number[]) => {
    for (const key of keys) {
      const wid = keyWorkflow.get(key);
      if (!wid) throw new Error(`no incident known for key ${key} yet`);
      for (let attempt = 1; ; attempt++) {
        try {
          await client.workflow.getHandle(wid).signal(acknowledgeSignal, { by: ACK_BY });
          break;
        } catch (err) {
          if (attempt >= 120) throw err;
          await sleep(500);
        }
      }
    }
  };

  await sleep(stormStart + KILL_REPLICAS_AT_MS - Date.now());
  const killReplicasAt = Date.now();
  workers[0]!.child.kill('SIGKILL');
  ingresses[0]!.child.kill('SIGKILL');
  log('SIGKILL worker-1 and ingress-1');

  await sleep(stormStart + FIRST_ACKS_AT_MS - Date.now());
  const firstHalf = Array.from({ length: KEYS / 2 }, (_, k) => k);
  await acknowledge(firstHalf);
  log(`acknowledged ${firstHalf.length} incidents`);

  await sleep(stormStart + KILL_SERVER_AT_MS - Date.now());
  const pids = serverPids();
  if (pids.length === 0) throw new Error('the Temporal server process was not found');
  for (const pid of pids) process.kill(pid, 'SIGKILL');
  const serverKilledAt = Date.now();
  log(`SIGKILL the Temporal server (pid ${pids.join(', ')}); starting it again`);
  await cluster.exited;
  cluster = startCluster();
  await waitOutput(cluster, 'Temporal cluster is running', 120_000);
  const serverBackAt = Date.now();
  log(`Temporal server back after ${((serverBackAt - serverKilledAt) / 1000).toFixed(1)} s`);
  const secondHalf = Array.from({ length: KEYS / 2 }, (_, k) => k + KEYS / 2);
  await acknowledge(secondHalf);
  log(`acknowledged ${secondHalf.length} more`);

  await storm;
  const stormEnd = Date.now();
  log(
    `storm delivered: ${total} notifications in ${((stormEnd - stormStart) / 1000).toFixed(1)} s, ${attempts.length} attempts`,
  );

  // ---- wait for the 60-minute step of the last incident to open (plus margin), then check.
  const ids = [...new Set(keyWorkflow.values())];
  const statuses = new Map<string, IncidentStatus>();
  const query = async (wid: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await client.workflow.getHandle(wid).query(statusQuery);
      } catch (err) {
        if (attempt >= 60) throw err;
        await sleep(1000);
      }
    }
  };
  const lastOpened = Math.max(
    ...(await Promise.all(ids.map(async (w) => Date.parse((await query(w)).openedAt)))),
  );
  const due = lastOpened + (60 * 60_000) / TIME_SCALE;
  log(`waiting for the last 60-minute step (due in ${Math.max(0, Math.round((due - Date.now()) / 1000))} s)`);
  const expectedPages = KEYS * P1_STEPS.length;
  let records = await readOutbox(outboxFile);
  const pagesOf = (r: typeof records) => r.filter((n) => n.kind === 'page' && /^escalate-P1-/.test(n.step));
  const settleUntil = Math.max(due, Date.now()) + 120_000;
  await sleep(due - Date.now() + 5_000);
  while (pagesOf(records).length < expectedPages && Date.now() < settleUntil) {
    await sleep(2000);
    records = await readOutbox(outboxFile);
  }
  for (const w of ids) statuses.set(w, await query(w));

  // ---- checks
  const results: { name: string; ok: boolean; detail: string }[] = [];
  const check = (name: string, ok: boolean, detail: string) => {
    results.push({ name, ok, detail });
    log(`${ok ? 'PASS' : 'FAIL'} ${name}: ${detail}`);
  };
  const listed = new Set<string>();
  let runs = 0;
  for await (const wf of client.workflow.list({
    query: `TaskQueue = '${taskQueue}' AND WorkflowType = 'incidentWorkflow'`,
  })) {
    listed.add(wf.workflowId);
    runs += 1;
  }
  check(
    'exactly 50 incidents',
    ids.length === KEYS && listed.size === KEYS,
    `${ids.length} from the answers, ${listed.size} workflow ids in visibility (${runs} runs)`,
  );
  const short = [...statuses.values()].filter((s) => s.alerts.firing !== ALERTS_PER_KEY);
  const received = [...statuses.values()].reduce((n, s) => n + s.alerts.received, 0);
  check(
    'every alert reached its incident',
    short.length === 0,
    `${short.length} incidents without all ${ALERTS_PER_KEY} alerts firing; ${received} notifications received in all (repeats of a lost answer included)`,
  );
  const keys = records.map((r) => r.idempotencyKey);
  const dupKeys = keys.length - new Set(keys).size;
  check('outbox keys unique', dupKeys === 0, `${records.length} records, ${dupKeys} duplicate keys`);
  const byIncident = new Map<string, string[]>();
  for (const r of pagesOf(records)) {
    const wid = parseIncidentId(r.incidentId)?.workflowId ?? r.incidentId;
    byIncident.set(wid, [...(byIncident.get(wid) ?? []), `${r.step}:${r.target}`]);
  }
  const expected = P1_STEPS.map(([step, role]) => `${step}:${role}`).sort();
  const wrong = ids.filter(
    (w) => JSON.stringify((byIncident.get(w) ?? []).sort()) !== JSON.stringify(expected),
  );
  check(
    'every matrix step once per role',
    wrong.length === 0,
    `${pagesOf(records).length} of ${expectedPages} step pages; ${wrong.length} incidents off${wrong.length ? ` (e.g. ${wrong[0]}: ${(byIncident.get(wrong[0]!) ?? []).sort().join(', ')})` : ''}`,
  );
  const unacked = [...statuses.values()].filter((s) => s.acknowledgedBy !== ACK_BY);
  check(
    'no acknowledgement lost',
    unacked.length === 0,
    `${KEYS - unacked.length} of ${KEYS} acknowledged by ${ACK_BY}`,
  );
  let repagesAfterAck = 0;
  let repages = 0;
  for (const r of records) {
    if (r.kind !== 'repage') continue;
    repages += 1;
    const wid = parseIncidentId(r.incidentId)?.workflowId ?? r.incidentId;
    const ackAt = statuses.get(wid)?.acknowledgedAt;
    if (ackAt && Date.parse(r.createdAt) > Date.parse(ackAt)) repagesAfterAck += 1;
  }
  check(
    'no re-page after an acknowledgement',
    repagesAfterAck === 0,
    `${repages} re-pages, ${repagesAfterAck} composed after the acknowledgement`,
  );
  const survivor = attempts.filter((a) => a.replica === 1);
  const survivorBad = survivor.filter(
    (a) => a.outcome !== 'connection-error' && !(a.outcome >= 200 && a.outcome < 300) && a.outcome !== 503,
  );
  const survivorDropped = survivor.filter((a) => a.outcome === 'connection-error');
  const killedDropped = attempts.filter((a) => a.replica === 0 && a.outcome === 'connection-error');
  // A connection the killed replica dropped before it was killed would be a real drop.
  const droppedBeforeKill = killedDropped.filter((a) => a.end < killReplicasAt);
  const otherCodes = attempts.filter(
    (a) => typeof a.outcome === 'number' && !(a.outcome >= 200 && a.outcome < 300) && a.outcome !== 503,
  );
  check(
    'answers 2xx or 503, no dropped connection while a replica is up',
    survivorBad.length === 0 &&
      survivorDropped.length === 0 &&
      otherCodes.length === 0 &&
      droppedBeforeKill.length === 0,
    `surviving replica: ${survivor.length} answers, ${survivor.filter((a) => a.outcome === 503).length} x 503, ${survivorDropped.length} dropped; killed replica: ${killedDropped.length} connections dropped at its SIGKILL; other codes: ${otherCodes.length}`,
  );

  const figures = {
    keys: KEYS,
    alerts: total,
    attempts: attempts.length,
    answered2xx: attempts.filter((a) => typeof a.outcome === 'number' && a.outcome < 300).length,
    answered503: attempts.filter((a) => a.outcome === 503).length,
    droppedOnKilledReplica: killedDropped.length,
    serverDownSeconds: Math.round((serverBackAt - serverKilledAt) / 100) / 10,
    stormSeconds: Math.round((stormEnd - stormStart) / 100) / 10,
    incidents: ids.length,
    runs,
    stepPages: pagesOf(records).length,
    outboxRecords: records.length,
    repages,
    repagesAfterAck,
    acknowledged: KEYS - unacked.length,
    wallSeconds: Math.round((Date.now() - started) / 1000),
  };
  console.log(JSON.stringify({ chaos: figures, checks: results }));
  await connection.close();
  const failed = results.filter((r) => !r.ok).length;
  console.log(`chaos: ${results.length - failed} passed, ${failed} failed`);
  await cleanup(cluster);
  process.exit(failed === 0 ? 0 : 1);
}

async function cleanup(cluster?: Proc): Promise<void> {
  for (const c of children)
    if (c !== cluster?.child && c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  if (cluster && cluster.child.exitCode === null) {
    cluster.child.kill('SIGTERM');
    await Promise.race([cluster.exited, sleep(20_000)]);
  }
  for (const pid of serverPids()) process.kill(pid, 'SIGKILL');
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
}

main().catch(async (err: Error) => {
  console.error(`[chaos] ${err.stack ?? err.message}`);
  console.log('chaos: 0 passed, 1 failed');
  await cleanup();
  process.exit(1);
});
