// `npm start` supervises its dev server: SIGKILL it, and the ingress stays up answering webhooks 503 with
// Retry-After (never a refused connection) while the server is restarted with backoff; then the same
// webhook opens the incident, and Ctrl-C still stops everything with exit 0.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { request } from 'undici';
import { freePorts } from '../../scripts/lib/dev-server';
import { PROJECT_ROOT } from '../../scripts/lib/temporal-cli';
import { alertmanagerPayload } from '../ingress/helpers';

const tmp = process.env.TEST_TMP_DIR ?? '/tmp';
/** The default ledger (optional) rather than whatever the caller's environment names. */
const withoutLedgerUrl = ({ LEDGER_DATABASE_URL: _ignored, ...env }: NodeJS.ProcessEnv) => env;
const id = randomUUID().slice(0, 8);
let child: ChildProcess;
let output = '';
let ingressPort: number;
let temporalPort: number;
let metricsPort: number;

const waitForOutput = async (text: string, timeoutMs: number) => {
  const until = Date.now() + timeoutMs;
  while (!output.includes(text)) {
    if (child.exitCode !== null)
      throw new Error(`npm start exited (${child.exitCode}):\n${output.slice(-3000)}`);
    if (Date.now() > until) throw new Error(`no "${text}" within ${timeoutMs} ms:\n${output.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
};

let token = '';
const post = (fingerprint: string, auth = true) =>
  request(`http://127.0.0.1:${ingressPort}/v1/alerts/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(alertmanagerPayload([{ alertname: 'SupervisionProbe', fingerprint }])),
    headersTimeout: 30_000,
  });

const tokenFile = path.join(tmp, `supervision-${id}-ingress-token`);

beforeAll(async () => {
  let uiPort: number;
  [ingressPort, temporalPort, metricsPort, uiPort] = await freePorts(4);
  // A token file left too short and world-readable: npm start replaces it with a 0600 one.
  writeFileSync(tokenFile, 'short\n', { mode: 0o644 });
  chmodSync(tokenFile, 0o644);
  child = spawn(
    process.execPath,
    [path.join(PROJECT_ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/start.ts'],
    {
      cwd: PROJECT_ROOT,
      env: {
        ...withoutLedgerUrl(process.env),
        TEMPORAL_ADDRESS: '',
        TEMPORAL_DEV_PORT: String(temporalPort),
        TEMPORAL_DEV_UI_PORT: String(uiPort),
        TEMPORAL_DB_FILE: path.join(tmp, `supervision-${id}.sqlite`),
        OUTBOX_FILE: path.join(tmp, `supervision-${id}-outbox.jsonl`),
        INCIDENT_TASK_QUEUE: `supervision-${id}`,
        INGRESS_PORT: String(ingressPort),
        // No auth configured: npm start generates a token, here in a file of this test's.
        INGRESS_BEARER_TOKENS: '',
        INGRESS_HMAC_SECRETS: '',
        INGRESS_INSECURE: '',
        INGRESS_TOKEN_FILE: tokenFile,
        WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
        INGRESS_TEMPORAL_TIMEOUT_MS: '2000',
        INGRESS_RETRY_AFTER_SECONDS: '5',
        // Away long enough to be seen: 6 s before the first restart.
        TEMPORAL_DEV_RESTART_DELAY_MS: '6000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await waitForOutput('Incident response is running.', 120_000);
  // The banner names the worker's /metrics, and it answers with the SDK's series.
  expect(output).toContain(`metrics http://127.0.0.1:${metricsPort}/metrics`);
  const metrics = await request(`http://127.0.0.1:${metricsPort}/metrics`);
  expect(await metrics.body.text()).toContain('temporal_num_pollers');
  // The generated ingress token is kept in its file (0600), required, and not printed: the banner says where.
  token = readFileSync(tokenFile, 'utf8').trim();
  expect(token).toMatch(/^[0-9a-f]{64}$/);
  expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
  expect(output).not.toContain(token);
  expect(output).toContain(
    `Ingress auth: Authorization: Bearer <the token in ${path.relative(PROJECT_ROOT, tokenFile)}>`,
  );
  const unauthenticated = await post('fp-no-token', false);
  expect(unauthenticated.statusCode).toBe(401);
  await unauthenticated.body.dump();
}, 150_000);

afterAll(async () => {
  if (child.exitCode === null) child.kill('SIGKILL');
  spawnSync('pkill', ['-KILL', '-f', `start-dev.*--port ${temporalPort}`]);
});

test('a killed dev server is restarted while the ingress answers 503 with Retry-After', async () => {
  const first = await post(`fp-supervision-${id}-1`);
  expect(first.statusCode).toBe(200);
  await first.body.dump();

  const killed = spawnSync('pkill', ['-KILL', '-f', `start-dev.*--port ${temporalPort}`]);
  expect(killed.status).toBe(0);
  await waitForOutput('the Temporal dev server exited', 10_000);

  // While it is away: 503 with Retry-After, from an ingress that still accepts connections.
  const during = await post(`fp-supervision-${id}-2`);
  const body = await during.body.text();
  expect({ status: during.statusCode, retryAfter: during.headers['retry-after'] }).toEqual({
    status: 503,
    retryAfter: '5',
  });
  expect(body).toMatch(/temporal/i);

  await waitForOutput('the Temporal dev server is back', 60_000);
  // Alertmanager's retry of the same notification now opens the incident.
  let again = await post(`fp-supervision-${id}-2`);
  for (let i = 0; again.statusCode === 503 && i < 20; i++) {
    await again.body.dump();
    await new Promise((r) => setTimeout(r, 1000));
    again = await post(`fp-supervision-${id}-2`);
  }
  expect(again.statusCode).toBe(200);
  await again.body.dump();

  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  expect(code).toBe(0);
}, 150_000);
