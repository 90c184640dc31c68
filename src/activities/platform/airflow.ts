// 3.1/3.3 diagnosis: the l1_feature_refresh DAG runs, through the Airflow REST API (v1) when the deployment
// config names one; without it the finding is `unavailable`.
import { ApplicationFailure } from '@temporalio/common';
import type { CheckFinding } from './finding';
import type { PlatformContext } from './context';
import { notOk } from './http';
import { airflowRunsBody } from './schemas';

export function createAirflowChecks({ cfg, http }: PlatformContext) {
  const { httpJson } = http;
  return {
    /** 3.1 diagnosis: `airflow dags list-runs -d l1_feature_refresh --state running`, via the REST API when configured. */
    async checkAirflowDagRuns(): Promise<
      CheckFinding<{ dagId: string | null; running: number; failed: number; latestState: string | null }>
    > {
      const a = cfg.airflow;
      if (!a)
        return {
          check: 'airflow',
          outcome: 'unavailable',
          text: 'Airflow DAG runs: Airflow REST API not configured',
          data: { dagId: null, running: 0, failed: 0, latestState: null },
        };
      const password = a.password ?? (a.passwordEnv ? process.env[a.passwordEnv] : undefined);
      const headers: Record<string, string> =
        a.username && password
          ? { authorization: `Basic ${Buffer.from(`${a.username}:${password}`).toString('base64')}` }
          : {};
      const url = `${a.baseUrl.replace(/\/$/, '')}/api/v1/dags/${encodeURIComponent(a.dagId)}/dagRuns?order_by=-execution_date&limit=10`;
      const out = await httpJson(url, airflowRunsBody, { headers });
      const empty = { dagId: a.dagId, running: 0, failed: 0, latestState: null };
      if (out.kind === 'http-error' && out.status >= 400 && out.status < 500) {
        throw ApplicationFailure.nonRetryable(
          `Airflow GET dagRuns: HTTP ${out.status}: ${out.message}`,
          'PlatformBadRequest',
          { status: out.status },
        );
      }
      if (out.kind !== 'ok') return notOk('airflow', `Airflow DAG ${a.dagId}`, out, empty);
      const runs = out.body.dag_runs;
      const running = runs.filter((r) => r.state === 'running').length;
      const failed = runs.filter((r) => r.state === 'failed').length;
      return {
        check: 'airflow',
        outcome: 'answered',
        text: `Airflow DAG ${a.dagId}: ${running} running, ${failed} failed of the last ${runs.length}; latest ${runs[0]?.state ?? 'none'}`,
        data: { dagId: a.dagId, running, failed, latestState: runs[0]?.state ?? null },
      };
    },
  };
}
