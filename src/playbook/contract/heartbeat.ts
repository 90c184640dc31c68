// The contract of a heartbeat monitor (dead-man's switch, DESIGN "Heartbeats"): what the deployment declares
// (`heartbeats:`), what a beat carries, what the `status` query answers, and what a silence opens.
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../severity';
import { isoTime, text } from './fields';

export const HEARTBEAT_WORKFLOW_TYPE = 'heartbeatMonitor';
export const OUTBOUND_WORKFLOW_TYPE = 'engineHeartbeat';
export const OUTBOUND_WORKFLOW_ID = 'heartbeat-outbound';
/** The incident kind a silence opens (DESIGN). */
export const MONITORING_GAP = 'monitoring-gap';
/** The monitor Alertmanager's `Watchdog` beats, created at its first Watchdog even without config. */
export const WATCHDOG_MONITOR = 'watchdog';
/** The monitor the engine's own outbound ping beats on its way through the ingress. */
export const ENGINE_MONITOR = 'engine';

/**
 * A monitor's name: what `heartbeat-<name>`, the URL and the dedup key are made of. (No RegExp is exported: a
 * module's exports are deep-frozen in the shared workflow bundle, and a frozen RegExp cannot run.)
 */
export const monitorName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_.-]{0,62}$/,
    'a monitor name is 1-63 of a-z 0-9 . _ - (lower case), starting with a letter or digit',
  );
export const isMonitorName = (name: string): boolean => monitorName.safeParse(name).success;

export const heartbeatWorkflowId = (name: string): string => `heartbeat-${name}`;
/** The dedup key of a silence's incident (DESIGN): one workflow id per monitor, as for any alert. */
export const heartbeatDedupKey = (name: string): string => `heartbeat-${name}`;
export const heartbeatTitle = (name: string, description?: string): string =>
  `Heartbeat missing: ${name}${description ? ` (${description})` : ''}`;

/** GoAlert's range, down to a second for tests: 1 s to 9,000 h. */
const MAX_PERIOD_SECONDS = 9000 * 3600;

/** One monitor as the deployment declares it (and as its workflow runs it). */
export const monitorSpecSchema = z
  .object({
    name: monitorName,
    /** How often a beat is expected. */
    periodSeconds: z.number().int().min(1).max(MAX_PERIOD_SECONDS),
    /** How long past the period the monitor waits before it calls the silence. */
    graceSeconds: z.number().int().min(0).max(MAX_PERIOD_SECONDS),
    /** The 1.2 row the silence stands for: P2 "Monitoring gaps identified" unless the deployment raises it. */
    severity: z.enum(SEVERITIES).default('P2'),
    /** Said in the title after "Heartbeat missing: <name>". */
    description: text(200).optional(),
    /** What the responder does first (the incident's summary carries it). */
    runbook: text(2000).optional(),
  })
  .strict();
export type MonitorSpec = z.output<typeof monitorSpecSchema>;
export type MonitorSpecInput = z.input<typeof monitorSpecSchema>;

/** The `beat` signal: what sent it (a label, not an identity) and when the ingress received it. */
export const beatSchema = z.object({
  source: text(200).optional(),
  at: isoTime.optional(),
});
export type Beat = z.output<typeof beatSchema>;

/** The `configure` signal: the worker's start-up sync sends the deployment's current spec. */
export const configureSchema = z.object({ spec: monitorSpecSchema, by: text(200).default('config') });

export const MONITOR_STATES = ['waiting', 'healthy', 'silent'] as const;
export type MonitorState = (typeof MONITOR_STATES)[number];

/** What a monitor carries into its next run (continue-as-new) besides its spec. */
export interface MonitorCarried {
  createdAt: string;
  lastBeatAt: string | null;
  lastBeatSource: string | null;
  beats: number;
  /** Signals refused (not a beat, or a configure for another monitor). */
  rejected?: number;
  silences: number;
  /** The silence in progress: the incident it opened, since when. */
  silence: { since: string; fingerprint: string; incidentWorkflowId: string | null } | null;
  lastSilence: { since: string; endedAt: string; incidentWorkflowId: string | null } | null;
}

export interface HeartbeatMonitorInput {
  spec: MonitorSpecInput;
  /** Who made it: `config` (the worker's sync), `watchdog` (the first Watchdog), `first-beat` (config allows). */
  createdBy: string;
  /** The incidents' timeScale (tests): the incident a silence opens runs its playbook timers at this scale. */
  incidentTimeScale?: number;
  carried?: MonitorCarried;
}

/** DESIGN `status` query of a monitor. */
export interface MonitorStatus {
  name: string;
  periodSeconds: number;
  graceSeconds: number;
  severity: Severity;
  lastBeatAt: string | null;
  lastBeatSource: string | null;
  /** When the silence is called if no beat comes (null while waiting for the first beat, or silent). */
  deadline: string | null;
  state: MonitorState;
  incidentWorkflowId?: string;
  /** The silence in progress began here (the deadline that passed). */
  silentSince?: string;
  beats: number;
  /** Signals refused: a `beat` or `configure` whose payload was not one (counted, never applied). */
  rejected: number;
  silences: number;
  createdAt: string;
  createdBy: string;
}

/** The `heartbeats:` section of the deployment config. */
export const heartbeatsConfigSchema = z
  .object({
    /** A beat for a name no monitor declares creates one with `defaults` (else 404). */
    createOnFirstBeat: z.boolean().default(false),
    defaults: z
      .object({
        periodSeconds: z.number().int().min(1).max(MAX_PERIOD_SECONDS).default(300),
        graceSeconds: z.number().int().min(0).max(MAX_PERIOD_SECONDS).default(60),
        severity: z.enum(SEVERITIES).default('P2'),
      })
      .strict()
      .prefault({}),
    monitors: z
      .array(monitorSpecSchema)
      .max(1000)
      .default([])
      .superRefine((list, ctx) => {
        const seen = new Set<string>();
        list.forEach((m, i) => {
          if (seen.has(m.name))
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              message: `monitor ${m.name} is declared twice`,
            });
          seen.add(m.name);
        });
      }),
    /**
     * The engine's own heartbeat out: every `periodSeconds` a worker beats the `engine` monitor through the
     * ingress and, only if the ingress answered 2xx, calls `url` (a Healthchecks-style dead-man's switch).
     */
    outbound: z
      .object({
        url: z.url({ protocol: /^https?$/ }),
        method: z.enum(['GET', 'POST']).default('GET'),
        periodSeconds: z.number().int().min(1).max(86400).default(60),
        /** The ingress the ping goes through (the worker's view of it). */
        ingressUrl: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080'),
        /** The variable holding a bearer token the ingress accepts (its value never enters a workflow). */
        ingressTokenEnv: z
          .string()
          .regex(/^[A-Z_][A-Z0-9_]*$/)
          .default('HEARTBEAT_INGRESS_TOKEN'),
      })
      .strict()
      .optional(),
  })
  .strict();
export type HeartbeatsConfig = z.output<typeof heartbeatsConfigSchema>;

/** Built-in `watchdog` monitor: Alertmanager repeats the Watchdog every `repeat_interval` (docs: 1m). */
export const WATCHDOG_DEFAULT: MonitorSpec = {
  name: WATCHDOG_MONITOR,
  periodSeconds: 120,
  graceSeconds: 180,
  severity: 'P2',
  description: "Alertmanager's Watchdog stopped arriving",
  runbook:
    'The alert pipeline (Prometheus -> Alertmanager -> this ingress) is broken somewhere: no trading alert can page until it is fixed. Check Prometheus and Alertmanager are up, the Watchdog route (repeat_interval), and the ingress logs.',
};

/** The spec of a monitor by name, or null when the config neither declares it nor allows creating it. */
export function monitorSpecFor(
  config: HeartbeatsConfig,
  name: string,
): { spec: MonitorSpec; createdBy: string } | null {
  const declared = config.monitors.find((m) => m.name === name);
  if (declared) return { spec: declared, createdBy: 'config' };
  if (name === WATCHDOG_MONITOR) return { spec: WATCHDOG_DEFAULT, createdBy: 'watchdog' };
  if (name === ENGINE_MONITOR && config.outbound)
    return {
      spec: {
        name,
        periodSeconds: config.outbound.periodSeconds,
        graceSeconds: Math.max(config.outbound.periodSeconds, 60),
        severity: 'P2',
        description: "the engine's own ping through its ingress stopped",
      },
      createdBy: 'outbound',
    };
  if (!config.createOnFirstBeat) return null;
  return { spec: { name, ...config.defaults }, createdBy: 'first-beat' };
}
