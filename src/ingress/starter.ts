// The incident starter: the only place ingress talks to Temporal. The HTTP layer gets it injected, so its
// tests use a fake and the integration tests the real dev server.
import {
  Client,
  Connection,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type ConnectionLike,
} from '@temporalio/client';
import type { UpdateDefinition } from '@temporalio/common';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { originMessage } from '../playbook/lifecycle/origin-proof';
import { ensureTemporalReady, TemporalNotReadyError } from '../temporal/readiness';
import {
  IncidentKindKey,
  IncidentSeverityKey,
  IncidentStatusKey,
  HeartbeatStateKey,
  WORKFLOW_TYPE,
  acknowledgeUpdate,
  addNoteUpdate,
  alertFiredSignal,
  alertResolvedSignal,
  approveUpdate,
  escalateUpdate,
  postExternalStatusUpdate,
  postUpdateUpdate,
  rejectUpdate,
  reportLossUpdate,
  resolveUpdate,
  setSeverityUpdate,
  statusQuery,
} from '../workflows/definitions';
import {
  type ActionName,
  type ActionResult,
  type Alert,
  type IncidentInput,
  type IncidentStatus,
  type IncidentKind,
  ACTION_SCHEMAS,
} from '../playbook/contract/incident';
import type { Severity } from '../playbook/severity';
import {
  HEARTBEAT_WORKFLOW_TYPE,
  heartbeatWorkflowId,
  type Beat,
  type HeartbeatMonitorInput,
  type MonitorStatus,
} from '../playbook/contract/heartbeat';
import { beatSignal, monitorStatusQuery } from '../workflows/heartbeat-definitions';
import {
  ONCALL_WORKFLOW_ID,
  type AddOverrideInput,
  type CancelOverrideInput,
  type OncallResult,
  type RuntimeOverride,
} from '../playbook/contract/oncall';
import { addOverrideUpdate, cancelOverrideUpdate, rosterQuery } from '../workflows/oncall-definitions';
import { ensureOncallRoster } from '../temporal/oncall';
import type { IngressMetrics } from './metrics';

/** One alert of a batch, with what its routing rule made of it. */
export interface RoutedAlertCommand {
  alert: Alert;
  severity: Severity;
  title: string;
}

/** One incident's alerts of one notification, in order (one Temporal call per incident). */
export interface FireAlertsCommand {
  workflowId: string;
  /** The start input (used only if this opens the incident): from the most severe alert. */
  input: IncidentInput;
  kind: IncidentKind;
  severity: Severity;
  /** In order; a resolved alert among them is applied as resolved. */
  alerts: RoutedAlertCommand[];
  /** Markdown for the Web UI's static details: why this incident exists. */
  details: string;
}

export interface OpenIncidentCommand {
  workflowId: string;
  input: IncidentInput;
  kind: IncidentKind;
  /** Severity for the search attribute (given or classified by 1.3). */
  severity: Severity;
  details: string;
  /** true: an incident already running under this id is returned instead of failing. */
  reuseRunning: boolean;
}

export type ActionOutcome =
  | { outcome: 'accepted'; result: ActionResult }
  | { outcome: 'rejected'; reason: string }
  | { outcome: 'no-incident' }
  /** The action named an incident that is not the one running under its workflow id: nothing was run. */
  | { outcome: 'other-incident'; runningIncidentId: string };

export interface ActionTarget {
  /**
   * The full incident id the action was taken on (a button, a dialog, a PagerDuty event). Given, the action
   * runs only if it is the running incident's `status.incidentId`: a workflow id is reused when an alert
   * fires again after its incident closed, and an old message must not act on the new incident.
   */
  incidentId?: string | null;
}

export interface StartedRun {
  workflowId: string;
  runId: string;
}

/** One beat of a monitor: its workflow (created with `monitor` when it does not run) gets the `beat` signal. */
export interface BeatCommand {
  monitor: HeartbeatMonitorInput;
  beat: Beat;
}

export interface IncidentStarter {
  readonly namespace: string;
  /** One signalWithStart(alertFired) with the batch: the running incident gets it, or a new one opens. */
  fireAlerts(cmd: FireAlertsCommand): Promise<StartedRun>;
  /** One alertResolved signal with the batch to a running incident; never opens one. */
  resolveAlerts(workflowId: string, alerts: Alert[]): Promise<'signaled' | 'no-incident'>;
  openIncident(cmd: OpenIncidentCommand): Promise<StartedRun>;
  /** One signalWithStart(beat) to `heartbeat-<name>`: the running monitor gets it, or a new one starts. */
  beat(cmd: BeatCommand): Promise<StartedRun>;
  /** The running monitors' `status`, by name (at most `limit`). */
  listMonitors(limit: number): Promise<MonitorStatus[]>;
  /**
   * One human action as the incident's Workflow Update of that name (Slack and PagerDuty), so the
   * caller learns at once whether it was accepted: the result, the rejection reason, no running incident, or
   * another incident running under the id than the one named in `target`.
   */
  runAction(
    workflowId: string,
    name: ActionName,
    payload: unknown,
    target?: ActionTarget,
  ): Promise<ActionOutcome>;
  /** The incident's `status` query; null when no incident runs under the id. */
  queryStatus(workflowId: string): Promise<IncidentStatus | null>;
  /** The on-call roster's overrides in force or to come (its `overrides` query); null when no roster runs. */
  oncallOverrides(): Promise<RuntimeOverride[] | null>;
  /**
   * The roster's `addOverride` Update (the roster is started first if it does not run): the override with its
   * id, or the refusal with the reason.
   */
  addOverride(input: AddOverrideInput): Promise<OncallResult>;
  /** The roster's `cancelOverride` Update, likewise. */
  cancelOverride(input: CancelOverrideInput): Promise<OncallResult>;
  /** Is Temporal reachable? */
  health(): Promise<{ reachable: boolean; error?: string }>;
  close(): Promise<void>;
}

/**
 * What an incident keeps of an alert (its identity, name, summary, status and times): labels and
 * annotations stay in the ingress log and the Web UI's static details, out of every signal's history event.
 */
export function kept(a: Alert): Alert {
  return Object.fromEntries(
    Object.entries({
      fingerprint: a.fingerprint,
      name: a.name,
      status: a.status,
      severity: a.severity,
      summary: a.summary,
      startsAt: a.startsAt,
      endsAt: a.endsAt,
      source: a.source,
    }).filter(([, v]) => v !== undefined),
  ) as unknown as Alert;
}

/** Temporal could not be reached or refused the call: the webhook should be retried (503). */
export class TemporalUnavailableError extends Error {
  override name = 'TemporalUnavailableError';
  constructor(
    readonly operation: string,
    cause: unknown,
  ) {
    super(`${operation}: ${describe(cause)}`, { cause });
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    // gRPC errors carry `details`; keep the message short and free of request data.
    const details = (err as Error & { details?: unknown }).details;
    return `${err.name}: ${typeof details === 'string' && details ? details : err.message}`.slice(0, 300);
  }
  return String(err).slice(0, 300);
}

export interface TemporalStarterOptions {
  taskQueue: string;
  /** Deadline of each call; past it the call fails and the webhook gets 503. */
  timeoutMs: number;
  /** Reuse a client (tests); otherwise a lazy connection from the TEMPORAL_* environment. */
  client?: Client;
  connection?: Connection;
  namespace?: string;
  /**
   * The private key (PEM, RSA) that signs the origin of the actions the Slack and PagerDuty routes verified
   * (docs/channels.md "Identity"). Default: INGRESS_ORIGIN_SIGNING_KEY (the PEM, `\n` for line breaks) or the
   * file INGRESS_ORIGIN_SIGNING_KEY_FILE. None: origins go unsigned and the incident records them as
   * unverified.
   */
  originSigningKey?: string | null;
}

/** The origin signing key from the options or the environment; null when none is configured. */
export function originSigningKey(
  given: string | null | undefined,
  env: NodeJS.ProcessEnv = process.env,
): KeyObject | null {
  const pem =
    given !== undefined
      ? given
      : (env.INGRESS_ORIGIN_SIGNING_KEY ??
        (env.INGRESS_ORIGIN_SIGNING_KEY_FILE
          ? readFileSync(env.INGRESS_ORIGIN_SIGNING_KEY_FILE, 'utf8')
          : null));
  if (!pem) return null;
  const key = createPrivateKey(pem.replace(/\\n/g, '\n'));
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
    throw new Error('INGRESS_ORIGIN_SIGNING_KEY must be an RSA private key of 2048 bits or more');
  return key;
}

/**
 * The payload as its action's schema parses it, with the origin signed for this incident (originMessage):
 * what the incident checks with the public key. A payload the schema refuses goes as it is (the incident
 * refuses it with the reason).
 */
export function signOrigin(
  key: KeyObject,
  incidentId: string,
  name: ActionName,
  payload: unknown,
  now: number = Date.now(),
): unknown {
  const parsed = ACTION_SCHEMAS[name].safeParse(payload);
  if (!parsed.success) return payload;
  const value = parsed.data as Record<string, unknown> & { origin?: Record<string, unknown> };
  if (!value.origin) return payload;
  const { proof: _p, ...origin } = value.origin;
  const signed = { ...value, origin: { ...origin, signedAt: new Date(now).toISOString() } };
  const proof = sign('sha256', Buffer.from(originMessage(incidentId, name, signed), 'utf8'), key);
  return { ...signed, origin: { ...signed.origin, proof: proof.toString('base64') } };
}

// The payload is checked by the Update's validator inside the incident (the one place that decides what
// is valid), so the ingress forwards it as it came. Alerts arrive as signals: they are no action of a person.
const ACTION_UPDATES: Partial<Record<ActionName, UpdateDefinition<ActionResult, [unknown]>>> = {
  acknowledge: acknowledgeUpdate,
  resolve: resolveUpdate,
  postUpdate: postUpdateUpdate,
  escalate: escalateUpdate,
  setSeverity: setSeverityUpdate,
  addNote: addNoteUpdate,
  approve: approveUpdate,
  reject: rejectUpdate,
  reportLoss: reportLossUpdate,
  postExternalStatus: postExternalStatusUpdate,
};

export class TemporalIncidentStarter implements IncidentStarter {
  readonly namespace: string;
  private readonly client: Client;
  private readonly connection: ConnectionLike;
  private readonly ownsConnection: boolean;
  /** The readiness check of this connection (see ensureReady), kept once it succeeded. */
  private ready: Promise<void> | null = null;
  private lastNotReady: string | null = null;
  private readonly signingKey: KeyObject | null;

  constructor(private readonly opts: TemporalStarterOptions) {
    this.signingKey = originSigningKey(opts.originSigningKey);
    if (opts.client) {
      this.client = opts.client;
      this.connection = opts.client.connection;
      this.namespace = opts.client.options.namespace;
      this.ownsConnection = false;
    } else {
      const { connectionOptions, namespace } = loadClientConnectConfig();
      // Lazy: the ingress starts (and answers 503) even while Temporal is down, and connects once it is up.
      this.connection = opts.connection ?? Connection.lazy(connectionOptions);
      this.namespace = opts.namespace ?? namespace ?? 'default';
      this.client = new Client({ connection: this.connection, namespace: this.namespace });
      this.ownsConnection = !opts.connection;
    }
  }

  private call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    return this.connection
      .withDeadline(Date.now() + this.opts.timeoutMs, async () => {
        await this.ensureReady();
        return fn();
      })
      .catch((err: unknown) => {
        // Not found and an Update's refusal are answers, not outages.
        throw err instanceof WorkflowNotFoundError || err instanceof WorkflowUpdateFailedError
          ? err
          : new TemporalUnavailableError(operation, err);
      });
  }

  /**
   * Before the first start on a connection: the namespace and the incident search attributes exist (and are
   * registered where allowed), else every start would fail with BadSearchAttributes. Checked once per
   * process after a success; a failure (Temporal away, or not ready) answers 503 and is checked again.
   */
  private ensureReady(): Promise<void> {
    if (this.ready) return this.ready;
    const check = ensureTemporalReady(this.connection, this.namespace, (line) =>
      console.log(`[ingress] ${line}`),
    ).then(
      () => undefined,
      (err: unknown) => {
        this.ready = null;
        if (err instanceof TemporalNotReadyError && this.lastNotReady !== err.message) {
          this.lastNotReady = err.message;
          console.error(`[ingress] Temporal is not ready for incidents: ${err.message}`);
        }
        throw err;
      },
    );
    this.ready = check;
    return check;
  }
  async fireAlerts(cmd: FireAlertsCommand): Promise<StartedRun> {
    const handle = await this.call('signalWithStart', () =>
      this.client.workflow.signalWithStart(WORKFLOW_TYPE, {
        workflowId: cmd.workflowId,
        args: [cmd.input],
        // The first alerts arrive as the signal too, so the workflow counts every alert exactly once.
        signal: alertFiredSignal,
        signalArgs: [
          {
            alerts: cmd.alerts.map((a) => ({ alert: kept(a.alert), severity: a.severity, title: a.title })),
          },
        ],
        // A closed incident's key opens a new one; a running one gets the signal (signalWithStart).
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        ...this.incidentOptions(cmd),
      }),
    );
    return { workflowId: cmd.workflowId, runId: handle.signaledRunId };
  }

  async resolveAlerts(workflowId: string, alerts: Alert[]): Promise<'signaled' | 'no-incident'> {
    try {
      await this.call('signal', () =>
        this.client.workflow
          .getHandle(workflowId)
          .signal(alertResolvedSignal, { alerts: alerts.map((a) => ({ alert: kept(a) })) }),
      );
      return 'signaled';
    } catch (err) {
      // Closed, or never opened: a resolved notification never opens an incident.
      if (err instanceof WorkflowNotFoundError) return 'no-incident';
      throw err;
    }
  }

  async openIncident(cmd: OpenIncidentCommand): Promise<StartedRun> {
    const handle = await this.call('start', () =>
      this.client.workflow.start(WORKFLOW_TYPE, {
        workflowId: cmd.workflowId,
        args: [cmd.input],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        workflowIdConflictPolicy: cmd.reuseRunning ? 'USE_EXISTING' : 'FAIL',
        ...this.incidentOptions(cmd),
      }),
    );
    return { workflowId: cmd.workflowId, runId: handle.firstExecutionRunId };
  }

  async beat(cmd: BeatCommand): Promise<StartedRun> {
    const workflowId = heartbeatWorkflowId(cmd.monitor.spec.name);
    const handle = await this.call('signalWithStart', () =>
      this.client.workflow.signalWithStart(HEARTBEAT_WORKFLOW_TYPE, {
        workflowId,
        args: [cmd.monitor],
        signal: beatSignal,
        signalArgs: [cmd.beat],
        workflowIdReusePolicy: 'ALLOW_DUPLICATE',
        taskQueue: this.opts.taskQueue,
        staticSummary: `Heartbeat monitor ${cmd.monitor.spec.name}`,
        typedSearchAttributes: [{ key: HeartbeatStateKey, value: 'healthy' }],
      }),
    );
    return { workflowId, runId: handle.signaledRunId };
  }

  async listMonitors(limit: number): Promise<MonitorStatus[]> {
    return this.call('list:monitors', async () => {
      const ids: string[] = [];
      for await (const w of this.client.workflow.list({
        query: `WorkflowType = '${HEARTBEAT_WORKFLOW_TYPE}' AND ExecutionStatus = 'Running'`,
        pageSize: limit,
      })) {
        ids.push(w.workflowId);
        if (ids.length >= limit) break;
      }
      const statuses = await Promise.all(
        ids.map((id) =>
          this.client.workflow
            .getHandle(id)
            .query(monitorStatusQuery)
            .catch(() => null),
        ),
      );
      return statuses
        .filter((s): s is MonitorStatus => s !== null)
        .sort((a, b) => a.name.localeCompare(b.name));
    });
  }

  async runAction(
    workflowId: string,
    name: ActionName,
    payload: unknown,
    target: ActionTarget = {},
  ): Promise<ActionOutcome> {
    const update = ACTION_UPDATES[name];
    if (!update) return { outcome: 'rejected', reason: `${name} is not an action a person takes` };
    // The platform's event id names the Update: a retry of the same PagerDuty event or Slack click (after a
    // lost answer) is the same Update, which Temporal applies once and answers again.
    const origin = (payload as { origin?: { channel?: string; eventId?: string } } | null)?.origin;
    const id = origin?.eventId ? `${origin.channel}:${origin.eventId}:${name}`.slice(0, 250) : undefined;
    // A verified origin is signed for the very incident it lands on: that needs its incident id.
    const signing = origin !== undefined && this.signingKey !== null;
    // A pinned run that continued as new between the check and the Update is checked once more.
    for (let attempt = 0; ; attempt++) {
      let pinned = false;
      try {
        let handle = this.client.workflow.getHandle(workflowId);
        let args: unknown = payload;
        if (target.incidentId || signing) {
          // The Update's validator runs inside the incident and cannot know which message was clicked: the
          // comparison is made here. The run is pinned, so the Update reaches the run whose incident id was
          // read (if that run closes meanwhile, the Update finds it closed instead of landing on a newer one).
          const running = await this.call('query:status', async () => {
            const described = await handle.describe();
            if (described.status.name !== 'RUNNING') return null;
            const run = this.client.workflow.getHandle(workflowId, described.runId);
            return { runId: described.runId, status: await run.query(statusQuery) };
          });
          if (!running) return { outcome: 'no-incident' };
          if (target.incidentId && running.status.incidentId !== target.incidentId)
            return { outcome: 'other-incident', runningIncidentId: running.status.incidentId };
          handle = this.client.workflow.getHandle(workflowId, running.runId);
          pinned = true;
          if (signing && this.signingKey)
            args = signOrigin(this.signingKey, running.status.incidentId, name, payload);
        }
        const result = await this.call(`update:${name}`, () =>
          handle.executeUpdate(update, { args: [args], ...(id ? { id } : {}) }),
        );
        return { outcome: 'accepted', result };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) {
          if (pinned && attempt === 0) continue;
          return { outcome: 'no-incident' };
        }
        // The validator's refusal (already acknowledged, invalid payload): the reason, without a stack.
        if (err instanceof WorkflowUpdateFailedError)
          return { outcome: 'rejected', reason: err.cause?.message ?? err.message };
        throw err;
      }
    }
  }

  async queryStatus(workflowId: string): Promise<IncidentStatus | null> {
    try {
      return await this.call('query:status', () =>
        this.client.workflow.getHandle(workflowId).query(statusQuery),
      );
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  async oncallOverrides(): Promise<RuntimeOverride[] | null> {
    try {
      return await this.call('query:oncall', async () => {
        // A closed roster still answers queries (replayed by a worker): only a running one says what is in force.
        const described = await this.client.workflow.getHandle(ONCALL_WORKFLOW_ID).describe();
        if (described.status.name !== 'RUNNING') return null;
        const run = this.client.workflow.getHandle(ONCALL_WORKFLOW_ID, described.runId);
        return (await run.query(rosterQuery)).overrides;
      });
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return null;
      throw err;
    }
  }

  addOverride(input: AddOverrideInput): Promise<OncallResult> {
    return this.rosterUpdate('update:addOverride', (handle) =>
      handle.executeUpdate(addOverrideUpdate, { args: [input] }),
    );
  }

  cancelOverride(input: CancelOverrideInput): Promise<OncallResult> {
    return this.rosterUpdate('update:cancelOverride', (handle) =>
      handle.executeUpdate(cancelOverrideUpdate, { args: [input] }),
    );
  }

  /** The roster started on this ingress's task queue if it does not run (USE_EXISTING), then the Update. */
  private async rosterUpdate(
    operation: string,
    run: (handle: ReturnType<Client['workflow']['getHandle']>) => Promise<OncallResult>,
  ): Promise<OncallResult> {
    try {
      return await this.call(operation, async () => {
        await ensureOncallRoster(this.client, this.opts.taskQueue);
        return run(this.client.workflow.getHandle(ONCALL_WORKFLOW_ID));
      });
    } catch (err) {
      // The Update's validator refused the input: the reason, without a stack.
      if (err instanceof WorkflowUpdateFailedError)
        return { accepted: false, message: err.cause?.message ?? err.message };
      throw err;
    }
  }

  /** What every incident start carries: its task queue, summary and details, and initial search attributes. */
  private incidentOptions(cmd: FireAlertsCommand | OpenIncidentCommand) {
    return {
      taskQueue: this.opts.taskQueue,
      staticSummary: cmd.input.title,
      staticDetails: cmd.details,
      typedSearchAttributes: [
        { key: IncidentSeverityKey, value: cmd.severity },
        { key: IncidentStatusKey, value: 'triggered' as const },
        { key: IncidentKindKey, value: cmd.kind },
      ],
    };
  }

  async health(): Promise<{ reachable: boolean; error?: string }> {
    try {
      await this.connection.withDeadline(Date.now() + Math.min(this.opts.timeoutMs, 2000), () =>
        this.connection.workflowService.getSystemInfo({}),
      );
      return { reachable: true };
    } catch (err) {
      return { reachable: false, error: describe(err) };
    }
  }

  async close(): Promise<void> {
    if (this.ownsConnection) await this.connection.close();
  }
}

/**
 * The starter with its calls measured: latency of every Temporal call (failures included), the failures by
 * operation, and whether Temporal answered last time (ingress_temporal_reachable).
 */
export function meteredStarter(inner: IncidentStarter, metrics: IngressMetrics): IncidentStarter {
  const timed = async <T>(operation: string, fn: () => Promise<T>): Promise<T> => {
    const end = metrics.temporalDuration.startTimer({ operation });
    try {
      const value = await fn();
      metrics.temporalReachable.set(1);
      return value;
    } catch (err) {
      if (err instanceof TemporalUnavailableError) {
        metrics.temporalErrors.inc({ operation });
        metrics.temporalReachable.set(0);
      }
      throw err;
    } finally {
      end();
    }
  };
  return {
    get namespace() {
      return inner.namespace;
    },
    fireAlerts: (cmd) => timed('signalWithStart', () => inner.fireAlerts(cmd)),
    resolveAlerts: (workflowId, alerts) => timed('signal', () => inner.resolveAlerts(workflowId, alerts)),
    openIncident: (cmd) => timed('start', () => inner.openIncident(cmd)),
    beat: (cmd) => timed('signalWithStart', () => inner.beat(cmd)),
    listMonitors: (limit) => timed('list', () => inner.listMonitors(limit)),
    runAction: (workflowId, name, payload, target) =>
      timed('update', () => inner.runAction(workflowId, name, payload, target)),
    queryStatus: (workflowId) => timed('query', () => inner.queryStatus(workflowId)),
    oncallOverrides: () => timed('query', () => inner.oncallOverrides()),
    addOverride: (input) => timed('update', () => inner.addOverride(input)),
    cancelOverride: (input) => timed('update', () => inner.cancelOverride(input)),
    health: async () => {
      const h = await inner.health();
      metrics.temporalReachable.set(h.reachable ? 1 : 0);
      return h;
    },
    close: () => inner.close(),
  };
}
