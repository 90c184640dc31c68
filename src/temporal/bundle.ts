// How every workflow bundle is built (worker, `npm run build`, tests, benchmarks): one place, so the code
// that runs is the code that replays.
//
// `zod` is preloaded: with the reusable V8 context (the SDK default) every other module of the bundle is
// evaluated again for each workflow execution, and zod's library code is most of ours. Preloaded, it is
// evaluated once and shared (deep-frozen) by every incident: less memory per cached workflow and a cheaper
// first workflow task. Our own modules (schemas, playbook tables) stay per-workflow, as the SDK advises for
// anything that may hold state.
export const WORKFLOW_PRELOAD_MODULES = ['zod'];
