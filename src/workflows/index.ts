// Workflow bundle entry point: every workflow the worker registers.
export { incidentWorkflow } from './incident';
export { postmortemWorkflow } from './postmortem';
export { tradingSystemDownProcedure } from './procedures/trading-system-down';
export { modelDegradationProcedure } from './procedures/model-degradation';
export { dataSourceDownProcedure } from './procedures/data-source-down';
export { databaseConnectionProcedure } from './procedures/database-connection';
export { heartbeatMonitor } from './heartbeat';
export { engineHeartbeat } from './engine-heartbeat';
export { oncallRoster } from './oncall';
