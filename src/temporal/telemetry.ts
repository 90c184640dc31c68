// The worker's /metrics: the SDK's Runtime telemetry exported for Prometheus. It carries the
// SDK's own worker series (task slots, poll and schedule-to-start latencies, activity and workflow task
// failures, sticky cache) and the incidents' own counters, emitted from workflow code through
// `metricMeter` (never while replaying): `incidents_opened_total`, `incident_alerts_deduplicated_total`.
// One Runtime per process, installed before the first worker connection.
import { Runtime } from '@temporalio/worker';

/** `WORKER_METRICS_ADDRESS`: where the worker serves /metrics. */
export const DEFAULT_WORKER_METRICS_ADDRESS = '127.0.0.1:9464';

export class TelemetryConfigError extends Error {
  override name = 'TelemetryConfigError';
}

/**
 * `host:port` to bind, or null for no exporter (`off`). Unset: the default address. A bad value is a clear
 * start-up error, not a worker without metrics.
 */
export function workerMetricsAddress(value: string | undefined): string | null {
  if (value === undefined || value.trim() === '') return DEFAULT_WORKER_METRICS_ADDRESS;
  const v = value.trim();
  if (v === 'off' || v === 'none' || v === '0') return null;
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(v);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535)
    throw new TelemetryConfigError(
      `WORKER_METRICS_ADDRESS=${v} is not host:port (e.g. ${DEFAULT_WORKER_METRICS_ADDRESS}, 0.0.0.0:9464), nor "off"`,
    );
  return v;
}

/**
 * Installs the process's SDK Runtime with a Prometheus exporter at `address` (GET /metrics). Names keep the
 * SDK's defaults (prefix `temporal_`, durations in seconds), so Temporal's published worker dashboards apply.
 * Returns the URL, or null when `address` is null. Throws if a Runtime is already installed.
 */
export function installWorkerTelemetry(address: string | null): string | null {
  if (address === null) return null;
  try {
    Runtime.install({
      telemetryOptions: {
        metrics: {
          prometheus: { bindAddress: address, useSecondsForDurations: true },
        },
      },
    });
  } catch (err) {
    const message = (err as Error).message;
    if (!/address|bind|in use/i.test(message)) throw err;
    throw new TelemetryConfigError(
      `cannot serve worker metrics at ${address} (${message}): another worker on this host? Give each its own WORKER_METRICS_ADDRESS, or set it to "off"`,
    );
  }
  return `http://${address}/metrics`;
}
