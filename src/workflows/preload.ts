// The workflow bundle's shared part. With the SDK's reusable V8 context every module a workflow imports is
// evaluated again for each workflow execution, unless it was preloaded: then it is evaluated once, before
// any workflow runs, and shared (deep-frozen) by all of them. Ours are safe to share: the playbook core is
// pure and the workflow modules keep no state at module level (every workflow's state lives in its own
// function scope; SDK calls find the running workflow through the context the SDK swaps in per
// activation). Shared, one incident costs the worker little more than a bare workflow.
//
// zod schemas are warmed first (src/workflows/warm.ts), so that the freeze loses nothing.
import { warm } from './warm';

/** What webpack offers for loading every module of a folder (`require.context`). */
interface ModuleContext {
  keys(): string[];
  (id: string): unknown;
}
/** Written so that the output reads `require.context(...)`, which webpack resolves when it bundles. */
type WebpackRequire = { context(dir: string, recursive: boolean, pattern: RegExp): ModuleContext };

/**
 * Every module of the workflow bundle's own code, loaded and warmed. One context per folder: the SDK's
 * bundler does not descend into subfolders of a recursive context. test/temporal/preload.test.ts checks
 * that every folder of src/workflows and src/playbook is listed here.
 */
export function preloadWorkflowModules(): number {
  const contexts = [
    (require as unknown as WebpackRequire).context('.', false, /\.ts$/),
    (require as unknown as WebpackRequire).context('./incident', false, /\.ts$/),
    (require as unknown as WebpackRequire).context('./procedures', false, /\.ts$/),
    (require as unknown as WebpackRequire).context('../playbook', false, /\.ts$/),
    (require as unknown as WebpackRequire).context('../playbook/contract', false, /\.ts$/),
    (require as unknown as WebpackRequire).context('../playbook/lifecycle', false, /\.ts$/),
    (require as unknown as WebpackRequire).context('../playbook/postmortem-core', false, /\.ts$/),
  ];
  let count = 0;
  for (const context of contexts)
    for (const key of context.keys()) {
      warm(context(key));
      count += 1;
    }
  return count;
}

preloadWorkflowModules();
