// The trading-api checks (trading-platform.md): health (both APIs answer the same health shape, so the
// inference-api's is here too), the operations status (kill switch, mode), the data status and sources.
import type { ReachError } from '../../playbook/procedures';
import type { CheckFinding, PathKey, Service } from './finding';
import type { PlatformContext } from './context';
import { notOk } from './http';
import { dataSourcesBody, dataStatusBody, healthBody, operationsBody } from './schemas';

/** GET /operations/status; the kill switch, resume and pause guards read it too (remediations.ts). */
export function readOperationsStatus({ cfg, http }: PlatformContext) {
  return http.api(cfg.operationsService, 'operationsStatus', operationsBody);
}

export function createTradingApiChecks(ctx: PlatformContext) {
  const { cfg } = ctx;
  const { api, label } = ctx.http;
  const operationsStatus = () => readOperationsStatus(ctx);
  return {
    /** 3.1 step 2 / 5.2 "System health": GET health, judged by the body (always 200). */
    async checkServiceHealth(service: Service): Promise<
      CheckFinding<{
        service: Service;
        container: string;
        reachable: boolean;
        reachError: ReachError | null;
        /** The body's `status` (healthy, degraded, ...), judged by src/playbook/readings.ts. */
        status: string | null;
        databaseConnected: boolean | null;
        modelLoaded: boolean | null;
      }>
    > {
      const key: PathKey = service === 'trading' ? 'tradingHealth' : 'inferenceHealth';
      const container = cfg.containers.apis[service];
      const check = `health:${container}`;
      const out = await api(service, key, healthBody);
      const base = {
        service,
        container,
        reachable: out.kind !== 'unreachable',
        reachError: out.kind === 'unreachable' ? out.reach : null,
        status: null,
        databaseConnected: null,
        modelLoaded: null,
      };
      if (out.kind !== 'ok') return notOk(check, label(service, key), out, base);
      const b = out.body;
      const databaseConnected =
        b.database_connected ?? (b.database === undefined ? null : b.database === 'connected');
      const parts = [
        `status ${b.status}`,
        ...(databaseConnected === null
          ? []
          : [`database ${databaseConnected ? 'connected' : 'disconnected'}`]),
        ...(b.model_loaded === undefined ? [] : [`model ${b.model_loaded ? 'loaded' : 'not loaded'}`]),
      ];
      return {
        check,
        outcome: 'answered',
        text: `${label(service, key)}: ${parts.join(', ')}`,
        data: { ...base, status: b.status, databaseConnected, modelLoaded: b.model_loaded ?? null },
      };
    },

    /** 3.1 step 3 / 3.3 step 5: kill switch and mode. */
    async checkOperationsStatus(): Promise<
      CheckFinding<{
        mode: 'normal' | 'paused' | 'killed' | null;
        killSwitchActive: boolean | null;
        reason: string | null;
        activatedBy: string | null;
        activatedAt: string | null;
      }>
    > {
      const out = await operationsStatus();
      const empty = {
        mode: null,
        killSwitchActive: null,
        reason: null,
        activatedBy: null,
        activatedAt: null,
      };
      if (out.kind !== 'ok')
        return notOk('operations-status', label(cfg.operationsService, 'operationsStatus'), out, empty);
      const b = out.body;
      const data = {
        mode: b.mode,
        killSwitchActive: b.kill_switch_active,
        reason: b.reason ?? null,
        activatedBy: b.activated_by ?? null,
        activatedAt: b.activated_at ?? null,
      };
      const text = b.kill_switch_active
        ? `kill switch ACTIVE since ${b.activated_at ?? '?'} by ${b.activated_by ?? '?'}: ${b.reason ?? 'no reason given'}`
        : b.mode === 'paused'
          ? `trading paused: ${b.reason ?? 'no reason given'}`
          : 'trading active (mode normal, kill switch off)';
      return { check: 'operations-status', outcome: 'answered', text, data };
    },

    /** 3.2 diagnosis 4: GET data/status (missing on the deployed code: the SQL freshness check covers it). */
    async checkDataStatus(): Promise<
      CheckFinding<{ status: string | null; stale: boolean | null; stalenessSeconds: number | null }>
    > {
      const out = await api('trading', 'dataStatus', dataStatusBody);
      if (out.kind !== 'ok')
        return notOk('data-status', label('trading', 'dataStatus'), out, {
          status: null,
          stale: null,
          stalenessSeconds: null,
        });
      const b = out.body;
      const stale = b.is_stale ?? b.status !== 'healthy';
      return {
        check: 'data-status',
        outcome: 'answered',
        text: `data status ${b.status}${b.staleness_seconds != null ? `, last update ${Math.round(b.staleness_seconds)}s ago` : ''}`,
        data: { status: b.status, stale, stalenessSeconds: b.staleness_seconds ?? null },
      };
    },

    /** 3.3 diagnosis: fallback data source available? */
    async checkDataSources(): Promise<
      CheckFinding<{
        sources: { name: string; role: string | null; status: string }[];
        fallbackAvailable: boolean | null;
      }>
    > {
      const out = await api('trading', 'dataSources', dataSourcesBody);
      if (out.kind !== 'ok')
        return notOk('data-sources', label('trading', 'dataSources'), out, {
          sources: [],
          fallbackAvailable: null,
        });
      const sources = out.body.sources.map((s) => ({ name: s.name, role: s.role ?? null, status: s.status }));
      return {
        check: 'data-sources',
        outcome: 'answered',
        text: `data sources: ${sources.map((s) => `${s.name}${s.role ? ` (${s.role})` : ''} ${s.status}`).join(', ')}; fallback ${out.body.fallback_available ? 'available' : 'not available'}`,
        data: { sources, fallbackAvailable: out.body.fallback_available ?? null },
      };
    },
  };
}
