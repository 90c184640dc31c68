// One Temporal dev server (in memory, headless) and one workflow bundle for the whole test run.
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_PRELOAD_MODULES } from '../../src/temporal/bundle';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureTemporalCli } from '../../scripts/lib/temporal-cli';
import { freePort, startDevServer, type DevServer } from '../../scripts/lib/dev-server';

declare global {
  var __TEMPORAL_DEV_SERVER__: DevServer | undefined;
}

export default async function globalSetup(): Promise<void> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'incident-tests-'));
  process.env.TEST_TMP_DIR = tmp;
  if (!process.env.TEMPORAL_ADDRESS) {
    const cli = await ensureTemporalCli();
    process.env.TEMPORAL_CLI_PATH = cli;
    // With its Web UI: test/webui drives it in Chromium.
    const server = await startDevServer({
      cli,
      logFile: path.join(tmp, 'temporal-dev-server.log'),
      uiPort: await freePort(),
    });
    globalThis.__TEMPORAL_DEV_SERVER__ = server;
    process.env.TEMPORAL_ADDRESS = server.address;
    if (server.uiUrl) process.env.TEST_TEMPORAL_UI_URL = server.uiUrl.replace(/\/namespaces\/.*$/, '');
  }
  process.env.TEMPORAL_NAMESPACE = process.env.TEMPORAL_NAMESPACE ?? 'default';
  // Workers started by createWorker (crash tests) write their ledger here, never to the default database.
  process.env.LEDGER_DATABASE_URL =
    process.env.LEDGER_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/incident_ledger_test_workers';
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../../src/workflows'),
    preloadModules: WORKFLOW_PRELOAD_MODULES,
    logger: {
      trace() {},
      debug() {},
      info() {},
      warn: console.warn,
      error: console.error,
      log() {},
    } as never,
  });
  const bundlePath = path.join(tmp, 'workflow-bundle.js');
  writeFileSync(bundlePath, code);
  process.env.WORKFLOW_BUNDLE_PATH = bundlePath;
}
