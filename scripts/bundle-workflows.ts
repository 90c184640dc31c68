// `npm run build` step: a prebuilt workflow bundle, loaded by production workers (WORKFLOW_BUNDLE_PATH).
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_PRELOAD_MODULES } from '../src/temporal/bundle';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../src/workflows'),
    preloadModules: WORKFLOW_PRELOAD_MODULES,
  });
  const out = path.resolve(__dirname, '..', 'workflow-bundle.js');
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, code);
  console.log(`workflow bundle written to ${out}; run workers with WORKFLOW_BUNDLE_PATH=${out}`);
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
