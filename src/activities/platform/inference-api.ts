// The inference-api checks of 3.1 and 3.2 (trading-platform.md): models, the champion/shadow router and
// its history, drift, model metrics, feature consistency, the shadow comparison and the rollback targets.
import { faultyModels, unrecognisedModels, type ModelStatus } from '../../playbook/readings';
import type { CheckFinding, PathKey } from './finding';
import type { PlatformContext } from './context';
import { notOk } from './http';
import {
  consistencyBody,
  driftBody,
  metricsBody,
  modelsBody,
  rollbackTargetsBody,
  routerHistoryBody,
  routerStatusBody,
  shadowBody,
} from './schemas';

export function createInferenceApiChecks({ cfg, http }: PlatformContext) {
  const { api, label } = http;
  return {
    /**
     * 3.1 diagnosis / 5.2 "Model status". `notLoaded` lists the models that show the fault (file missing,
     * or a stub), computed by the same function the judge uses (src/playbook/readings.ts), so the text and
     * the evidence never disagree; an `available` model is on disk and loads on first use: not a fault.
     */
    async checkModels(): Promise<CheckFinding<{ models: ModelStatus[]; notLoaded: string[] }>> {
      const out = await api('inference', 'models', modelsBody);
      if (out.kind !== 'ok')
        return notOk('models', label('inference', 'models'), out, { models: [], notLoaded: [] });
      const models: ModelStatus[] = out.body.models.map((m) => ({
        modelId: m.model_id,
        status: m.status,
        version: m.version ?? null,
      }));
      const notLoaded = faultyModels(models);
      const unrecognised = unrecognisedModels(models);
      const listed = models
        .map((m) => `${m.modelId}${m.version ? ` ${m.version}` : ''} ${m.status}`)
        .join(', ');
      return {
        check: 'models',
        outcome: 'answered',
        text: notLoaded.length
          ? `model file missing or a stub serving: ${notLoaded.join(', ')} (models: ${listed})`
          : models.length === 0
            ? 'no model listed (the registry may be unreadable): the models are not verified'
            : unrecognised.length
              ? `model status not understood: ${unrecognised.join(', ')} (models: ${listed})`
              : `models: ${listed} (available = on disk, loaded on first use)`,
        data: { models, notLoaded },
      };
    },

    /** 3.2 step 2 / rollback step 3: champion, shadow, ready. */
    async checkRouterStatus(): Promise<
      CheckFinding<{
        enabled: boolean | null;
        ready: boolean | null;
        champion: string | null;
        shadow: string | null;
        shadowEnabled: boolean | null;
        agreementRate: number | null;
      }>
    > {
      const out = await api('inference', 'routerStatus', routerStatusBody);
      const empty = {
        enabled: null,
        ready: null,
        champion: null,
        shadow: null,
        shadowEnabled: null,
        agreementRate: null,
      };
      if (out.kind !== 'ok') return notOk('router-status', label('inference', 'routerStatus'), out, empty);
      const b = out.body;
      const data = {
        enabled: b.enabled,
        ready: b.ready ?? null,
        champion: b.champion ?? null,
        shadow: b.shadow ?? null,
        shadowEnabled: b.shadow_enabled ?? null,
        agreementRate: b.statistics?.agreement_rate ?? null,
      };
      if (!b.enabled)
        return {
          check: 'router-status',
          outcome: 'unknown',
          text: `model router disabled${b.message ? `: ${b.message}` : ''}`,
          data,
        };
      return {
        check: 'router-status',
        outcome: 'answered',
        text: `router ${b.ready === false ? 'NOT ready' : 'ready'}: champion ${data.champion ?? '?'}, shadow ${data.shadow ?? 'none'}${data.agreementRate !== null ? `, agreement ${(data.agreementRate * 100).toFixed(0)}%` : ''}`,
        data,
      };
    },

    /** 3.2 step 3: recent predictions. */
    async checkRouterHistory(limit: number): Promise<CheckFinding<{ count: number; disagreements: number }>> {
      const out = await api('inference', 'routerHistory', routerHistoryBody, {
        query: { limit: String(limit) },
      });
      if (out.kind !== 'ok')
        return notOk('router-history', label('inference', 'routerHistory'), out, {
          count: 0,
          disagreements: 0,
        });
      const count = out.body.predictions.length;
      const disagreements = out.body.predictions.filter((p) => p.agreed === false).length;
      return {
        check: 'router-history',
        outcome: 'answered',
        text: `${count} recent predictions, champion and shadow disagreed on ${disagreements}`,
        data: { count, disagreements },
      };
    },

    /** 3.2 step 4: drift (router/drift, else the deployed /monitoring/drift; `_demo` data is unknown). */
    async checkDrift(): Promise<
      CheckFinding<{ score: number | null; driftDetected: boolean | null; source: string | null }>
    > {
      const primary = await api('inference', 'routerDrift', driftBody);
      let out = primary;
      let key: PathKey = 'routerDrift';
      if (primary.kind === 'not-found' || primary.kind === 'not-configured') {
        out = await api('inference', 'monitoringDrift', driftBody);
        key = 'monitoringDrift';
      }
      const empty = { score: null, driftDetected: null, source: null };
      if (out.kind !== 'ok') {
        const f = notOk('drift', label('inference', key), out, empty);
        return key === 'monitoringDrift'
          ? { ...f, text: `${label('inference', 'routerDrift')} not available; ${f.text}` }
          : f;
      }
      const b = out.body;
      if (b._demo)
        return {
          check: 'drift',
          outcome: 'unknown',
          text: `${label('inference', key)} answered canned demo data (_demo: true): drift unknown`,
          data: { ...empty, source: cfg.paths[key] },
        };
      const score = b.overall_drift_score ?? b.psi ?? null;
      const detected = b.drift_detected ?? b.alert_active ?? null; // else the playbook's PSI threshold decides
      return {
        check: 'drift',
        outcome: 'answered',
        text: `drift score (PSI) ${score ?? '?'}${detected === null ? '' : detected ? ', drift detected' : ', no drift detected'} (${cfg.paths[key]})`,
        data: { score, driftDetected: detected, source: cfg.paths[key] },
      };
    },

    /** 3.2 diagnosis 1: metrics over a window; the Sharpe ratio drives the 3.2 table. */
    async checkModelMetrics(
      modelId: string,
      window: string,
    ): Promise<
      CheckFinding<{
        modelId: string;
        sharpe: number | null;
        winRate: number | null;
        errorRate: number | null;
        consecutiveLosses: number | null;
      }>
    > {
      const out = await api('inference', 'modelMetrics', metricsBody, {
        params: { model_id: modelId },
        query: { window },
      });
      const empty = { modelId, sharpe: null, winRate: null, errorRate: null, consecutiveLosses: null };
      if (out.kind !== 'ok') return notOk('model-metrics', label('inference', 'modelMetrics'), out, empty);
      const m = out.body.metrics;
      const data = {
        modelId,
        sharpe: m.sharpe_ratio,
        winRate: m.win_rate ?? null,
        errorRate: m.error_rate ?? null,
        consecutiveLosses: m.consecutive_losses ?? null,
      };
      return {
        check: 'model-metrics',
        outcome: 'answered',
        text: `${modelId} ${window}: Sharpe ${m.sharpe_ratio ?? '?'}, win rate ${m.win_rate ?? '?'}, error rate ${m.error_rate ?? '?'}, consecutive losses ${m.consecutive_losses ?? '?'}`,
        data,
      };
    },

    /** 3.2 diagnosis 2 / 3.3 recovery 2: feature consistency. */
    async checkConsistency(
      modelId: string,
    ): Promise<CheckFinding<{ modelId: string; status: string | null; failedChecks: string[] }>> {
      const out = await api('inference', 'consistency', consistencyBody, { params: { model_id: modelId } });
      if (out.kind !== 'ok')
        return notOk('consistency', label('inference', 'consistency'), out, {
          modelId,
          status: null,
          failedChecks: [],
        });
      const b = out.body;
      return {
        check: 'consistency',
        outcome: 'answered',
        text: `feature consistency of ${modelId}: ${b.overall_status}${b.failed_checks?.length ? ` (failed: ${b.failed_checks.join(', ')})` : ''}`,
        data: { modelId, status: b.overall_status, failedChecks: b.failed_checks ?? [] },
      };
    },

    /** 3.2 diagnosis 5 / "Activate shadow mode comparison". */
    async checkShadowComparison(): Promise<
      CheckFinding<{
        championSharpe: number | null;
        shadowSharpe: number | null;
        agreementRate: number | null;
        recommendation: string | null;
      }>
    > {
      const out = await api('inference', 'shadowComparison', shadowBody);
      const empty = { championSharpe: null, shadowSharpe: null, agreementRate: null, recommendation: null };
      if (out.kind !== 'ok')
        return notOk('shadow-comparison', label('inference', 'shadowComparison'), out, empty);
      const b = out.body;
      const data = {
        championSharpe: b.champion.sharpe_ratio ?? null,
        shadowSharpe: b.shadow.sharpe_ratio ?? null,
        agreementRate: b.agreement_rate ?? null,
        recommendation: b.recommendation ?? null,
      };
      return {
        check: 'shadow-comparison',
        outcome: 'answered',
        text: `shadow comparison: champion ${b.champion.label ?? ''} Sharpe ${data.championSharpe ?? '?'} vs shadow ${b.shadow.label ?? ''} Sharpe ${data.shadowSharpe ?? '?'}, agreement ${data.agreementRate ?? '?'}${data.recommendation ? `, recommendation ${data.recommendation}` : ''}`,
        data,
      };
    },

    /** 3.2 rollback step 1. */
    async checkRollbackTargets(): Promise<CheckFinding<{ targets: { modelId: string; version: string }[] }>> {
      const out = await api('inference', 'rollbackTargets', rollbackTargetsBody);
      if (out.kind !== 'ok')
        return notOk('rollback-targets', label('inference', 'rollbackTargets'), out, { targets: [] });
      const targets = out.body.available_targets.map((t) => ({
        modelId: t.model_id,
        version: String(t.version),
      }));
      return {
        check: 'rollback-targets',
        outcome: 'answered',
        text: targets.length
          ? `rollback targets: ${targets.map((t) => `${t.modelId} ${t.version}`).join(', ')}`
          : 'no rollback target available',
        data: { targets },
      };
    },
  };
}
