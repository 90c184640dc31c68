// Workflow bundle entry point: every workflow the worker registers.
export { incidentWorkflow } from './incident';
