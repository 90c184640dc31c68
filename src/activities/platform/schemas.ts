// Response bodies of the trading platform's APIs (trading-platform.md) and of the Airflow and status-page
// APIs. Loose on purpose: extra fields are fine (the platform grows), missing ones are not (a body without
// them is `invalid`, a finding `unknown`, never guessed). DESIGN: never trust a 200 without validating it.
import { z } from 'zod';

const nullableString = z.string().nullable().optional();
export const healthBody = z.looseObject({
  status: z.string(),
  model_loaded: z.boolean().optional(),
  database_connected: z.boolean().optional(),
  /** The real trading-api's GET /api/health says `database: connected|disconnected`. */
  database: z.string().optional(),
  version: z.string().optional(),
});
export const operationsBody = z.looseObject({
  mode: z.enum(['normal', 'paused', 'killed']),
  kill_switch_active: z.boolean(),
  activated_at: nullableString,
  activated_by: nullableString,
  reason: nullableString,
});
export const modelsBody = z.looseObject({
  models: z.array(
    z.looseObject({
      model_id: z.string(),
      status: z.string(),
      // Optional[str] = None in the real API's ModelInfo: FastAPI sends null.
      version: z.string().nullable().optional(),
      description: z.string().nullable().optional(),
    }),
  ),
  default_model: z.string().optional(),
});
export const routerStatusBody = z.looseObject({
  enabled: z.boolean(),
  ready: z.boolean().optional(),
  champion: z.string().nullable().optional(),
  shadow: z.string().nullable().optional(),
  shadow_enabled: z.boolean().optional(),
  statistics: z
    .looseObject({
      total_predictions: z.number().optional(),
      agreement_rate: z.number().nullable().optional(),
    })
    .optional(),
  message: z.string().optional(),
});
export const routerHistoryBody = z.looseObject({
  predictions: z.array(z.looseObject({ agreed: z.boolean().optional() })),
});
export const driftBody = z.looseObject({
  overall_drift_score: z.number().optional(),
  psi: z.number().optional(),
  drift_detected: z.boolean().optional(),
  alert_active: z.boolean().optional(),
  features_drifted: z.number().optional(),
  _demo: z.boolean().optional(),
});
export const metricsBody = z.looseObject({
  model_id: z.string().optional(),
  metrics: z.looseObject({
    sharpe_ratio: z.number().nullable(),
    win_rate: z.number().nullable().optional(),
    consecutive_losses: z.number().optional(),
    error_rate: z.number().optional(),
    total_trades: z.number().optional(),
  }),
});
export const consistencyBody = z.looseObject({
  model_id: z.string().optional(),
  overall_status: z.enum(['passed', 'failed', 'warning', 'error']),
  passed: z.boolean().optional(),
  failed_checks: z.array(z.string()).optional(),
});
export const dataStatusBody = z.looseObject({
  status: z.string(),
  is_stale: z.boolean().optional(),
  staleness_seconds: z.number().nullable().optional(),
  last_update: nullableString,
});
export const dataSourcesBody = z.looseObject({
  sources: z.array(z.looseObject({ name: z.string(), role: z.string().optional(), status: z.string() })),
  fallback_available: z.boolean().optional(),
});
export const shadowBody = z.looseObject({
  champion: z.looseObject({ sharpe_ratio: z.number().nullable().optional(), label: z.string().optional() }),
  shadow: z.looseObject({ sharpe_ratio: z.number().nullable().optional(), label: z.string().optional() }),
  agreement_rate: z.number().optional(),
  recommendation: z.string().optional(),
});
export const rollbackTargetsBody = z.looseObject({
  available_targets: z.array(
    z.looseObject({ model_id: z.string(), version: z.union([z.string(), z.number()]) }),
  ),
});
export const killSwitchBody = z.looseObject({
  success: z.boolean(),
  mode: z.string().optional(),
  activated_at: nullableString,
  message: z.string().optional(),
  positions_closed: z.number().optional(),
});
export const simpleOkBody = z.looseObject({
  success: z.boolean(),
  mode: z.string().optional(),
  message: z.string().optional(),
});
export const rollbackBody = z.looseObject({
  success: z.boolean(),
  previous_model: z.string(),
  new_model: z.string(),
  message: z.string().optional(),
});
export const reloadBody = z.looseObject({
  success: z.boolean(),
  reloaded_models: z.array(z.string()).optional(),
  failed_models: z.array(z.unknown()).optional(),
  message: z.string().optional(),
});
export const airflowRunsBody = z.looseObject({
  dag_runs: z.array(
    z.looseObject({
      dag_run_id: z.string(),
      state: z.string(),
      start_date: nullableString,
      end_date: nullableString,
    }),
  ),
  total_entries: z.number().optional(),
});
export const statusPageBody = z.looseObject({
  status: z.looseObject({ indicator: z.string(), description: z.string().optional() }),
});
