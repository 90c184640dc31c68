// `npm start`: the main job on one machine. Starts the Temporal dev server (SQLite file, Web UI) unless
// TEMPORAL_ADDRESS points at a server already, then the worker and the alert ingress.
import path from 'node:path';
import { loadIngressConfig } from '../src/ingress/config';
import { startIngress } from '../src/ingress/start';
import { loadEnv } from '../src/config';
import { createWorker, startDeploymentHeartbeats } from '../src/worker';
import { installWorkerTelemetry, workerMetricsAddress } from '../src/temporal/telemetry';
import { startDevServer, type DevServer } from './lib/dev-server';
import { localIngressToken, tokenBannerLines } from './lib/ingress-token';
import { readClusterInfo } from './lib/cluster';
import { portOpen } from './lib/net';
import { ensureTemporalCli, PROJECT_ROOT } from './lib/temporal-cli';

const log = (line: string) => console.log(`[start] ${line}`);

/** Did the environment configure the ingress's auth (or its absence) itself? */
function ingressAuthConfigured(env: NodeJS.ProcessEnv): boolean {
  const insecure = ['1', 'true', 'yes'].includes((env.INGRESS_INSECURE ?? '').trim().toLowerCase());
  return Boolean(env.INGRESS_BEARER_TOKENS || env.INGRESS_HMAC_SECRETS || insecure);
}

/** Set once the worker has stopped, so the dev server's exit is expected. */
let stopping = false;

/** The Web UI that `npm run cluster` runs for the server at `address` (its state file), if that is the one. */
function clusterUiFor(address: string, namespace: string): string | null {
  const info = readClusterInfo();
  return info && info.address === address ? `${info.uiUrl}/namespaces/${namespace}/workflows` : null;
}

/**
 * The dev server is restarted when it dies, with backoff (TEMPORAL_DEV_RESTART_DELAY_MS, 1 s, doubling to
 * 30 s; back to the first delay once a start has stayed up a minute). Meanwhile the ingress stays up and answers webhooks 503 with Retry-After (Alertmanager
 * retries), and the worker's polls retry until the server is back; its state is in the SQLite file.
 */
function superviseDevServer(
  first: DevServer,
  options: Parameters<typeof startDevServer>[0],
  onRestart: (server: DevServer) => void,
): void {
  const firstDelayMs = Number(process.env.TEMPORAL_DEV_RESTART_DELAY_MS ?? 1000);
  let delayMs = firstDelayMs;
  const watch = (server: DevServer, startedAt: number) => {
    server.process.on('exit', (code, signal) => {
      if (stopping) return;
      if (Date.now() - startedAt > 60_000) delayMs = firstDelayMs;
      console.error(
        `[start] the Temporal dev server exited (${code ?? signal}); restarting it in ${delayMs / 1000} s (the ingress answers 503 meanwhile; see data/temporal-dev-server.log)`,
      );
      const retry = () => {
        if (stopping) return;
        startDevServer(options).then(
          (next) => {
            log(`the Temporal dev server is back on ${next.address}`);
            onRestart(next);
            watch(next, Date.now());
          },
          (err: Error) => {
            delayMs = Math.min(delayMs * 2, 30_000);
            console.error(
              `[start] the Temporal dev server did not start (${err.message}); retrying in ${delayMs / 1000} s`,
            );
            setTimeout(retry, delayMs);
          },
        );
      };
      setTimeout(retry, delayMs);
      delayMs = Math.min(delayMs * 2, 30_000);
    });
  };
  watch(first, Date.now());
}

async function main(): Promise<void> {
  const env = loadEnv();
  let devServer: DevServer | null = null;
  let uiUrl = process.env.TEMPORAL_UI_URL ?? null;
  if (!process.env.TEMPORAL_ADDRESS) {
    const port = Number(process.env.TEMPORAL_DEV_PORT ?? 7233);
    const uiPort = Number(process.env.TEMPORAL_DEV_UI_PORT ?? 8233);
    if (await portOpen('127.0.0.1', port)) {
      throw new Error(
        `127.0.0.1:${port} is already in use. If a Temporal server runs there, use it: TEMPORAL_ADDRESS=127.0.0.1:${port} npm start; otherwise free the port or set TEMPORAL_DEV_PORT.`,
      );
    }
    const cli = await ensureTemporalCli((l) => log(l));
    const dbFile = process.env.TEMPORAL_DB_FILE ?? path.join(PROJECT_ROOT, 'data', 'temporal.sqlite');
    log(`starting the Temporal dev server (state in ${path.relative(process.cwd(), dbFile)})`);
    const options = {
      cli,
      port,
      uiPort,
      dbFile,
      retention: process.env.TEMPORAL_RETENTION ?? '720h',
      logFile: path.join(PROJECT_ROOT, 'data', 'temporal-dev-server.log'),
      log,
    };
    devServer = await startDevServer(options);
    process.env.TEMPORAL_ADDRESS = devServer.address;
    uiUrl = devServer.uiUrl;
    superviseDevServer(devServer, options, (restarted) => (devServer = restarted));
  }
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  // A server of our own has its UI; another one's is TEMPORAL_UI_URL, or the one `npm run cluster` runs
  // beside the server at that address. Otherwise the banner says there is none rather than guess.
  uiUrl ??= clusterUiFor(process.env.TEMPORAL_ADDRESS!, namespace);

  log(
    env.WORKFLOW_BUNDLE_PATH
      ? `loading workflow bundle ${env.WORKFLOW_BUNDLE_PATH}`
      : 'bundling workflows (a few seconds)',
  );
  const metricsUrl = installWorkerTelemetry(workerMetricsAddress(process.env.WORKER_METRICS_ADDRESS));
  const worker = await createWorker({ onSetup: (lines) => lines.forEach((l) => log(l)) });
  await startDeploymentHeartbeats(log);
  // Every inbound route needs auth (issue 11 item 5): without a token, secret or INGRESS_INSECURE, a local
  // token is generated once and kept in data/ingress-token, so Alertmanager's config stays valid across restarts.
  const localToken = ingressAuthConfigured(process.env)
    ? null
    : localIngressToken(process.env.INGRESS_TOKEN_FILE ?? path.join(PROJECT_ROOT, 'data', 'ingress-token'));
  const ingress = await startIngress(
    loadIngressConfig(process.env, {
      taskQueue: env.INCIDENT_TASK_QUEUE,
      ...(uiUrl ? { uiBaseUrl: uiUrl.replace(/\/namespaces\/.*$/, '') } : {}),
      ...(localToken ? { bearerTokens: [localToken.token] } : {}),
    }),
  );
  const q = env.INCIDENT_TASK_QUEUE;
  console.log(
    [
      '',
      `Incident response is running.`,
      `  Temporal:     ${process.env.TEMPORAL_ADDRESS} (namespace ${namespace})`,
      `  Web UI:       ${uiUrl ?? 'none known for this server (set TEMPORAL_UI_URL to show its link)'}`,
      `  Worker:       task queue ${q}${metricsUrl ? `, metrics ${metricsUrl}` : ''}`,
      `  Ingress:      ${ingress.url}  (POST /v1/alerts/alertmanager | grafana | generic, POST /v1/incidents, POST /v1/heartbeats/{name}, GET /metrics)`,
      ...(localToken ? tokenBannerLines(localToken) : []),
      `  Outbox:       ${path.relative(process.cwd(), env.OUTBOX_FILE)}`,
      '',
      'Try it (in another terminal):',
      `  npm run -s temporal -- workflow start --type incidentWorkflow --task-queue ${q} --workflow-id demo-p0 --static-summary 'P0: API down' --input '{"title":"API down","severity":"P0","timeScale":600}'`,
      `  npm run -s temporal -- workflow query --workflow-id demo-p0 --name status`,
      `  npm run -s temporal -- workflow signal --workflow-id demo-p0 --name acknowledge --input '{"by":"oncall-primary"}'`,
      `  npm run -s temporal -- workflow signal --workflow-id demo-p0 --name resolve --input '{"by":"oncall-primary","resolution":"restarted trading-api"}'`,
      `  npm run -s temporal -- workflow list --query "ExecutionStatus='Running' AND IncidentSeverity='P0' AND IncidentStatus!='resolved'"`,
      '',
      'Ctrl-C stops everything gracefully.',
    ].join('\n'),
  );

  // The Temporal runtime turns SIGINT/SIGTERM into worker.shutdown(); run() returns when tasks finished.
  await worker.run();
  stopping = true;
  log('worker stopped; closing ingress and dev server');
  await ingress.close();
  await devServer?.stop();
}

main().catch((err: Error) => {
  console.error(`[start] ${err.message}`);
  process.exit(1);
});
