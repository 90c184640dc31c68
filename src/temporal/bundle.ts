// How every workflow bundle is built (worker, `npm run build`, tests, benchmarks): one place, so the code
// that runs is the code that replays.
import path from 'node:path';

/**
 * Modules evaluated once per worker and shared by every workflow it runs (the SDK's reusable V8 context
 * evaluates every other module again for each workflow): zod's library code, and through
 * src/workflows/preload.ts all of our workflow and playbook modules, warmed so that the SDK's freeze of
 * shared modules loses nothing. One incident then costs the worker little more than a bare workflow
 * (`npm run bench:scale` measures both).
 */
export const WORKFLOW_PRELOAD_MODULES = ['zod', path.resolve(__dirname, '../workflows/preload')];
