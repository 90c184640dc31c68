// Beats in (DESIGN "Heartbeats"): `POST /v1/heartbeats/{name}` and Alertmanager's `Watchdog` beat a monitor
// with one signalWithStart, as an alert costs one. The monitor is created by its first beat when the config
// declares it (or allows creating it); its deadline counts from the ingress's receipt time, carried in the beat.
import {
  heartbeatWorkflowId,
  isMonitorName,
  monitorSpecFor,
  type HeartbeatsConfig,
} from '../playbook/contract/heartbeat';
import { isoOf } from '../playbook/time';
import { IngressError } from './errors';
import type { IngressMetrics } from './metrics';
import type { IncidentStarter } from './starter';
import { ellipsize } from './text';

export interface BeatAnswer {
  name: string;
  workflowId: string;
  runId: string;
  /** When the ingress received the beat. */
  at: string;
  /** The silence is called at this time if no beat comes before it (period + grace from `at`). */
  deadline: string;
  periodSeconds: number;
  graceSeconds: number;
}

export class HeartbeatIntake {
  constructor(
    private readonly starter: IncidentStarter,
    private readonly config: HeartbeatsConfig,
    private readonly opts: { timeScale: number; metrics: IngressMetrics; now: () => number },
  ) {}

  /** One beat; a name that is not a monitor's is refused (400 malformed, 404 unknown) and starts nothing. */
  async beat(name: string, source: string | undefined): Promise<BeatAnswer> {
    if (!isMonitorName(name)) {
      this.opts.metrics.heartbeats.inc({ outcome: 'invalid' });
      throw new IngressError(
        400,
        'invalid_body',
        `"${ellipsize(name, 80)}" is not a monitor name: 1-63 of a-z 0-9 . _ - (lower case), starting with a letter or digit`,
        'name',
      );
    }
    const found = monitorSpecFor(this.config, name);
    if (!found) {
      this.opts.metrics.heartbeats.inc({ outcome: 'unknown' });
      throw new IngressError(
        404,
        'not_found',
        `no heartbeat monitor "${name}": declare it under heartbeats.monitors in INCIDENT_CONFIG (or set heartbeats.createOnFirstBeat: true)`,
        'name',
      );
    }
    const at = this.opts.now();
    const run = await this.starter.beat({
      monitor: { spec: found.spec, createdBy: found.createdBy, incidentTimeScale: this.opts.timeScale },
      beat: { ...(source ? { source: ellipsize(source, 200) } : {}), at: isoOf(at) },
    });
    this.opts.metrics.heartbeats.inc({ outcome: 'accepted' });
    const { periodSeconds, graceSeconds } = found.spec;
    return {
      name,
      workflowId: run.workflowId || heartbeatWorkflowId(name),
      runId: run.runId,
      at: isoOf(at),
      deadline: isoOf(at + (periodSeconds + graceSeconds) * 1000),
      periodSeconds,
      graceSeconds,
    };
  }
}
