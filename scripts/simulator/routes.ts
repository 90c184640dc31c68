// The endpoints of trading-api and inference-api with the shapes of trading-platform.md. Every
// route the playbook names exists in the `playbook` profile; the `deployed` profile leaves out what
// the real code lacks, so checks meet the same 404s and shadowed routes as in production.
import type { FastifyInstance } from 'fastify';
import type { SimDb } from './db';
import { USD_COP } from './db';
import { ApiError, parseInput } from './errors';
import {
  CONFIRM_RESUME,
  HistoryQuery,
  KillSwitchBody,
  MetricsQuery,
  ModelIdParams,
  PauseBody,
  ResumeBody,
  RollbackBody,
  type MutatingCall,
} from './schemas';
import { CHAMPION_ID, HEALTHY_SHARPE, ModelRegistry, SHADOW_ID, type SimCore } from './state';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Marks the route whose calls /__sim/state counts (kill switch, resume, pause, rollback, reload). */
    mutating?: MutatingCall;
  }
}

export interface RouteDeps {
  core: SimCore;
  db: SimDb;
  /** Serialises state changes with fault injection and the freshness ticker. */
  serial<T>(fn: () => Promise<T>): Promise<T>;
}

const VERSION = '1.4.0';
const DRIFT_THRESHOLD = 0.2; // 3.2 symptom: "Feature drift alerts triggered (PSI >0.2)"
const STALE_AFTER_SECONDS = 600; // 3.3 symptom: "OHLCV data stale (>10 minutes old)"
const HEALTHY_PSI = 0.04;
const SHADOW_SHARPE = 1.31;
const FEATURES = [
  'log_ret_5m',
  'log_ret_1h',
  'log_ret_4h',
  'rsi_9',
  'atr_pct',
  'adx_14',
  'dxy_z',
  'dxy_change_1d',
  'vix_z',
  'embi_z',
  'brent_change_1d',
  'rate_spread',
  'usdmxn_change_1d',
  'position',
  'time_normalized',
];

const now = () => new Date().toISOString();

async function components(deps: RouteDeps) {
  const database_connected = !deps.core.faults.databaseDisconnected && (await deps.db.ping());
  // A stub model answers predictions but is not the real artifact: the engine reports it not loaded.
  const model_loaded = deps.core.faults.model === 'loaded';
  return { database_connected, model_loaded };
}

function psi(core: SimCore): number {
  return core.faults.driftScore ?? HEALTHY_PSI;
}

function featureDrift(core: SimCore) {
  const score = psi(core);
  const drifted =
    score > DRIFT_THRESHOLD ? Math.min(FEATURES.length, Math.max(1, Math.round(score * 10))) : 0;
  return FEATURES.map((feature, i) => {
    const value = i < drifted ? score * (1 + (drifted - i) / 10) : Math.min(score, DRIFT_THRESHOLD) * 0.5;
    return { feature, psi: Number(value.toFixed(4)), drifted: i < drifted };
  });
}

function championSharpe(core: SimCore): number {
  return core.faults.sharpeRatio ?? core.models.champion.sharpe_ratio;
}

function modelKnown(id: string): boolean {
  return id === CHAMPION_ID || id === SHADOW_ID;
}

/**
 * The real deployment's seed (init-scripts, config.models) makes a synthetic demo model active. The real
 * /models lists it `available`: it exists and is not in memory, which is healthy. The `deployed` profile
 * lists it too, so a check that takes `available` for a fault meets it here as it does in production.
 */
const SEED_DEMO_MODEL = {
  model_id: 'investor_demo',
  display_name: 'Demo Mode (Investor Presentation)',
  version: 'V1',
  status: 'available',
  db_status: 'active',
  observation_dim: 15,
  description:
    'Demo model for investor presentations. Generates synthetic trades with target metrics. NOT for live trading.',
} as const;

/** Operations router: served by trading-api and (as in the real backtest-api) by inference-api. */
function registerOperations(app: FastifyInstance, deps: RouteDeps): void {
  const { db, core } = deps;

  app.get('/api/v1/operations/status', async () => {
    const ops = await db.operations();
    return {
      mode: ops.mode,
      kill_switch_active: ops.kill_switch_active,
      activated_at: ops.activated_at?.toISOString() ?? null,
      activated_by: ops.activated_by,
      reason: ops.reason,
      timestamp: now(),
    };
  });

  app.post('/api/v1/operations/kill-switch', { config: { mutating: 'killSwitch' } }, async (request) => {
    const body = parseInput(KillSwitchBody, request.body, 'body');
    const ops = await deps.serial(() =>
      db.setOperations({
        mode: 'killed',
        kill_switch_active: true,
        activated_at: new Date(),
        activated_by: body.activated_by,
        reason: body.reason,
      }),
    );
    const positions_closed = 0; // the real code's broker integration is a placeholder returning 0
    return {
      success: true,
      mode: 'killed',
      activated_at: ops.activated_at?.toISOString() ?? null,
      message: `Trading stopped. ${positions_closed} positions closed.`,
      positions_closed,
    };
  });

  // 3.1 step 5 / 3.3 recovery step 3: only CONFIRM_RESUME lifts a kill switch; a pause has no unpause.
  app.post('/api/v1/operations/resume', { config: { mutating: 'resume' } }, async (request) => {
    const body = parseInput(ResumeBody, request.body, 'body');
    return deps.serial(async () => {
      const ops = await db.operations();
      if (!ops.kill_switch_active)
        return { success: true, mode: 'normal', message: 'Trading already active' };
      if (body.confirmation_code !== CONFIRM_RESUME) {
        throw new ApiError(400, 'validation_error', `Must provide confirmation_code='${CONFIRM_RESUME}'`);
      }
      await db.setOperations({
        mode: 'normal',
        kill_switch_active: false,
        activated_at: null,
        activated_by: null,
        reason: null,
      });
      core.faults.killSwitch = null;
      core.faults.tradingPaused = null;
      return {
        success: true,
        mode: 'normal',
        message: 'Trading resumed successfully',
        resumed_by: body.resumed_by,
        timestamp: now(),
      };
    });
  });

  app.post('/api/v1/operations/pause', { config: { mutating: 'pause' } }, async (request) => {
    const body = parseInput(PauseBody, request.body, 'body');
    await deps.serial(async () => {
      const ops = await db.operations();
      await db.setOperations({ ...ops, mode: 'paused', reason: body.reason });
    });
    return {
      success: true,
      mode: 'paused',
      message: 'Trading paused',
      paused_by: body.paused_by,
      timestamp: now(),
    };
  });
}

function registerHealth(app: FastifyInstance, deps: RouteDeps): void {
  // Always 200: the caller judges by the body (trading-platform.md, Endpoints).
  app.get('/api/v1/health', async () => {
    const c = await components(deps);
    return {
      status: c.model_loaded && c.database_connected ? 'healthy' : 'degraded',
      version: VERSION,
      model_loaded: c.model_loaded,
      database_connected: c.database_connected,
      timestamp: now(),
    };
  });
}

export function registerTradingRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { core, db } = deps;
  registerHealth(app, deps);
  registerOperations(app, deps);

  // The real trading-api's health: always 200, status/database words, latest bar.
  app.get('/api/health', async () => {
    const { database_connected } = await components(deps);
    const fresh = database_connected ? await db.freshness() : null;
    return {
      status: database_connected ? 'healthy' : 'unhealthy',
      service: 'trading-api',
      database: database_connected ? 'connected' : 'disconnected',
      latest_data: fresh?.latest
        ? {
            symbol: USD_COP,
            timestamp: fresh.latest.toISOString(),
            age_seconds: Math.round(fresh.stalenessSeconds ?? 0),
          }
        : null,
      timestamp: now(),
    };
  });

  if (core.profile !== 'playbook') return; // data/status and data/sources are missing in the deployed code

  app.get('/api/v1/data/status', async () => {
    const f = await db.freshness();
    const stale = f.stalenessSeconds === null || f.stalenessSeconds > STALE_AFTER_SECONDS;
    return {
      status: f.latest === null ? 'unavailable' : stale ? 'stale' : 'healthy',
      source: 'twelvedata',
      symbol: USD_COP,
      last_update: f.latest?.toISOString() ?? null,
      staleness_seconds: f.stalenessSeconds === null ? null : Math.round(f.stalenessSeconds),
      stale_threshold_seconds: STALE_AFTER_SECONDS,
      is_stale: stale,
      timestamp: now(),
    };
  });

  app.get('/api/v1/data/sources', async () => {
    const f = await db.freshness();
    const stale = f.stalenessSeconds === null || f.stalenessSeconds > STALE_AFTER_SECONDS;
    return {
      sources: [
        {
          name: 'twelvedata',
          role: 'primary',
          status: stale ? 'degraded' : 'ok',
          last_update: f.latest?.toISOString() ?? null,
        },
        { name: 'investing_fallback', role: 'fallback', status: 'standby', last_update: null },
      ],
      active_source: 'twelvedata',
      fallback_available: true,
      timestamp: now(),
    };
  });
}

export function registerInferenceRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { core, db } = deps;
  const playbook = core.profile === 'playbook';
  registerHealth(app, deps);
  registerOperations(app, deps);

  app.get('/api/v1/models', async () => {
    const m = core.models.champion;
    const f = core.faults.model;
    const models = [
      ...(playbook ? [] : [SEED_DEMO_MODEL]),
      {
        model_id: CHAMPION_ID,
        display_name: 'PPO Primary',
        version: f === 'stub' ? 'stub' : `v${m.version}`,
        status: f === 'not_loaded' ? 'available' : 'loaded',
        db_status: 'deployed',
        observation_dim: FEATURES.length,
        description: f === 'stub' ? 'Stub model: real artifact failed to load' : `PPO v${m.version} champion`,
      },
      {
        model_id: SHADOW_ID,
        display_name: 'PPO Shadow',
        version: 'v4',
        status: 'loaded',
        db_status: 'registered',
        observation_dim: FEATURES.length,
        description: 'PPO v4 shadow candidate',
      },
    ];
    return { models, default_model: CHAMPION_ID, total: models.length };
  });

  app.get('/api/v1/models/router/status', async () => {
    const ready = core.faults.model === 'loaded';
    const drifting = psi(core) > DRIFT_THRESHOLD;
    return {
      enabled: true,
      ready,
      champion: ModelRegistry.label(core.models.champion),
      champion_version: core.models.champion.version,
      champion_loaded: ready,
      shadow: `${SHADOW_ID}_v4`,
      shadow_enabled: true,
      statistics: { total_predictions: 1440, agreement_rate: drifting ? 0.71 : 0.94 },
      last_reload: core.models.loadedAt,
      timestamp: now(),
    };
  });

  const rollbackTargets = () => (core.faults.rollback === 'no_target' ? [] : core.models.targets);

  if (playbook) {
    // Static routes win over /models/:model_id, which is exactly what the deployed code gets wrong.
    app.get('/api/v1/models/rollback-targets', async () => {
      const targets = rollbackTargets().map((t) => ({
        model_id: t.model_id,
        version: `v${t.version}`,
        archived_at: t.archived_at,
        metrics: { sharpe_ratio: t.sharpe_ratio },
      }));
      return {
        current_production: {
          model_id: core.models.champion.model_id,
          version: `v${core.models.champion.version}`,
          label: ModelRegistry.label(core.models.champion),
        },
        available_targets: targets,
        recommendation: targets[0] ?? null,
      };
    });

    app.get('/api/v1/models/router/history', async (request) => {
      const { limit } = parseInput(HistoryQuery, request.query, 'query');
      const base = Date.now();
      const predictions = Array.from({ length: limit }, (_, i) => {
        const champion = Math.sin((base / 300_000 - i) / 3);
        const agreed = !(psi(core) > DRIFT_THRESHOLD && i % 3 === 0);
        const action = (v: number) => (v > 0.2 ? 'LONG' : v < -0.2 ? 'SHORT' : 'HOLD');
        return {
          timestamp: new Date(base - i * 300_000).toISOString(),
          champion_action: action(champion),
          shadow_action: agreed ? action(champion) : action(-champion),
          agreed,
          confidence: Number((0.55 + Math.abs(champion) * 0.4).toFixed(3)),
          latency_ms: 12 + (i % 7),
        };
      });
      return { predictions, count: predictions.length, limit, timestamp: now() };
    });

    app.get('/api/v1/models/router/drift', async () => {
      const features = featureDrift(core);
      return {
        model_id: CHAMPION_ID,
        psi: psi(core),
        overall_drift_score: psi(core),
        drift_detected: psi(core) > DRIFT_THRESHOLD,
        threshold: DRIFT_THRESHOLD,
        features,
        timestamp: now(),
      };
    });

    app.get('/api/v1/models/shadow/comparison', async () => {
      const agreement = psi(core) > DRIFT_THRESHOLD ? 0.71 : 0.94;
      const champ = championSharpe(core);
      return {
        champion: {
          model_id: CHAMPION_ID,
          label: ModelRegistry.label(core.models.champion),
          sharpe_ratio: champ,
        },
        shadow: { model_id: SHADOW_ID, label: `${SHADOW_ID}_v4`, sharpe_ratio: SHADOW_SHARPE },
        agreement_rate: agreement,
        divergence_rate: Number((1 - agreement).toFixed(2)),
        sample_size: 1440,
        recommendation: SHADOW_SHARPE > champ ? 'shadow_outperforms' : 'keep_champion',
        timestamp: now(),
      };
    });

    app.get('/api/v1/models/:model_id/metrics', async (request) => {
      const { model_id } = parseInput(ModelIdParams, request.params, 'path');
      const { window } = parseInput(MetricsQuery, request.query, 'query');
      if (!modelKnown(model_id))
        throw new ApiError(404, 'model_not_found', `Model not found: ${model_id}`, {
          resource_type: 'model',
          resource_id: model_id,
        });
      const hours = Number(window.slice(0, -1)) * (window.endsWith('d') ? 24 : 1);
      const stats = await db.tradeStats(model_id, hours);
      return {
        model_id,
        window,
        metrics: {
          sharpe_ratio: model_id === CHAMPION_ID ? championSharpe(core) : SHADOW_SHARPE,
          win_rate: stats.total_trades
            ? Number((stats.winning_trades / stats.total_trades).toFixed(4))
            : null,
          total_trades: stats.total_trades,
          total_pnl_usd: Number(stats.total_pnl_usd.toFixed(2)),
          consecutive_losses: stats.consecutive_losses,
          max_drawdown_pct: model_id === CHAMPION_ID && championSharpe(core) < 0.5 ? 8.4 : 3.1,
          error_rate: core.faults.model === 'loaded' ? 0.004 : 0.12,
        },
        baseline: { sharpe_ratio: HEALTHY_SHARPE, window: '30d' },
        timestamp: now(),
      };
    });
  }

  // The real GET /models/{id}: unknown ids answer 200 with `error` (and shadow /rollback-targets).
  app.get('/api/v1/models/:model_id', async (request) => {
    const { model_id } = parseInput(ModelIdParams, request.params, 'path');
    if (!modelKnown(model_id))
      return { error: `Unknown model: ${model_id}`, available_models: [CHAMPION_ID, SHADOW_ID] };
    const loaded = model_id === SHADOW_ID || core.faults.model !== 'not_loaded';
    return {
      model_id,
      display_name: model_id === CHAMPION_ID ? 'PPO Primary' : 'PPO Shadow',
      observation_dim: FEATURES.length,
      status: loaded ? 'loaded' : 'available',
      file_path: `/models/${model_id}.zip`,
      info: {},
    };
  });

  app.post('/api/v1/models/rollback', { config: { mutating: 'rollback' } }, async (request) => {
    const body = parseInput(RollbackBody, request.body, 'body');
    return deps.serial(async () => {
      const started = performance.now();
      const targets = rollbackTargets();
      const target =
        body.target_version === undefined
          ? targets[0]
          : targets.find((t) => t.version === body.target_version);
      if (!target)
        throw new ApiError(404, 'not_found', 'No rollback target available', {
          resource_type: 'model_version',
          resource_id: body.target_version ?? null,
        });
      if (core.faults.rollback === 'fail')
        throw new ApiError(
          500,
          'internal_error',
          'Rollback failed: could not load the target model artifact',
        );
      const previous = core.models.champion;
      core.models.champion = { ...target, archived_at: '' };
      core.models.targets = core.models.targets.filter((t) => t.version < target.version);
      core.models.loadedAt = now();
      // The degraded model is gone: its injected Sharpe goes with it, the target's own applies.
      core.faults.sharpeRatio = null;
      core.faults.model = 'loaded';
      return {
        success: true,
        previous_model: ModelRegistry.label(previous),
        new_model: ModelRegistry.label(core.models.champion),
        rollback_time_ms: Number((performance.now() - started).toFixed(2)),
        message: `Rolled back from ${ModelRegistry.label(previous)} to ${ModelRegistry.label(core.models.champion)}: ${body.reason}`,
      };
    });
  });

  // Reports success even with a stub model (trading-platform.md): callers must verify afterwards.
  app.post('/api/v1/models/reload', { config: { mutating: 'reload' } }, async () => {
    return deps.serial(async () => {
      if (core.faults.model === 'not_loaded') core.faults.model = 'loaded';
      core.models.loadedAt = now();
      return {
        success: true,
        reloaded_models: ['champion', 'shadow'],
        failed_models: [],
        timestamp: now(),
        details: {
          champion: { model: ModelRegistry.label(core.models.champion), stub: core.faults.model === 'stub' },
        },
        message: 'Reloaded 2 model(s)',
      };
    });
  });

  app.get('/api/v1/monitoring/drift', async () => {
    const features = featureDrift(core);
    const drifted = features.filter((f) => f.drifted);
    return {
      features_checked: features.length,
      features_drifted: drifted.length,
      drifted_features: drifted.map((f) => f.feature),
      overall_drift_score: psi(core),
      threshold: DRIFT_THRESHOLD,
      alert_active: psi(core) > DRIFT_THRESHOLD,
      last_check: now(),
      ...(core.faults.driftDemoData ? { _demo: true } : {}),
      timestamp: now(),
    };
  });

  const consistency = async (model_id: string) => {
    if (!modelKnown(model_id)) {
      return {
        model_id,
        overall_status: 'error',
        passed: false,
        error: `Model not registered: ${model_id}`,
        checks: [],
        failed_checks: [],
        timestamp: now(),
      };
    }
    const { database_connected } = await components(deps);
    const fresh = database_connected ? await db.freshness() : null;
    const staleness = fresh?.stalenessSeconds ?? null;
    const model = model_id === SHADOW_ID ? 'loaded' : core.faults.model;
    const checks = [
      { name: 'model_registered', status: 'passed', message: `${model_id} found in registry` },
      model === 'loaded'
        ? { name: 'model_artifact', status: 'passed', message: 'artifact loaded' }
        : {
            name: 'model_artifact',
            status: 'failed',
            message: model === 'stub' ? 'stub model in use' : 'model not loaded',
          },
      { name: 'norm_stats', status: 'passed', message: 'norm stats file present' },
      staleness !== null && staleness <= STALE_AFTER_SECONDS
        ? { name: 'data_freshness', status: 'passed', message: `latest bar ${Math.round(staleness)}s old` }
        : {
            name: 'data_freshness',
            status: 'failed',
            message:
              staleness === null
                ? 'no data available'
                : `latest bar ${Math.round(staleness)}s old (> ${STALE_AFTER_SECONDS}s)`,
          },
      psi(core) > DRIFT_THRESHOLD
        ? { name: 'feature_drift', status: 'warning', message: `PSI ${psi(core)} > ${DRIFT_THRESHOLD}` }
        : { name: 'feature_drift', status: 'passed', message: `PSI ${psi(core)}` },
    ].map((c) => ({ ...c, passed: c.status !== 'failed' }));
    const failed = checks.filter((c) => c.status === 'failed').map((c) => c.name);
    const warned = checks.some((c) => c.status === 'warning');
    return {
      model_id,
      overall_status: failed.length ? 'failed' : warned ? 'warning' : 'passed',
      passed: failed.length === 0,
      checks,
      failed_checks: failed,
      timestamp: now(),
    };
  };

  app.get('/api/v1/consistency/:model_id', async (request) =>
    consistency(parseInput(ModelIdParams, request.params, 'path').model_id),
  );
  if (playbook) {
    app.get('/api/v1/health/consistency/:model_id', async (request) =>
      consistency(parseInput(ModelIdParams, request.params, 'path').model_id),
    );
  }
}
