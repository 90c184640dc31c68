// Trading platform simulator (issue 4 item 6): both services of trading-platform.md on real
// listeners, state in real PostgreSQL, and a fault API that produces the symptoms of playbook 3.1-3.4.
import Fastify, { type FastifyInstance } from 'fastify';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { SimDb, ensureDatabase, type LongQueryInfo, type OperationsRow } from './db';
import {
  ApiError,
  BODY_LIMIT_BYTES,
  errorBody,
  installErrorHandling,
  parseInput,
  sendError,
  toValidationIssues,
} from './errors';
import { listen } from './listen';
import { RedisRelay } from './redis-relay';
import { registerInferenceRoutes, registerTradingRoutes, type RouteDeps } from './routes';
import {
  FaultPatch,
  MUTATING_CALLS,
  SimulatorOptionsSchema,
  noFaults,
  type ActiveFaults,
  type MutatingCall,
  type Profile,
  type ResolvedOptions,
  type Service,
  type SimulatorOptions,
} from './schemas';
import {
  ModelRegistry,
  emptyCounts,
  pathMatches,
  type CallRecord,
  type ModelVersion,
  type SimCore,
} from './state';

export {
  CONFIRM_RESUME,
  FaultPatch as FaultPatchSchema,
  type FaultPatch,
  type SimulatorOptions,
  type Profile,
  type Service,
} from './schemas';

export interface SimulatorState {
  profile: Profile;
  tradingUrl: string;
  inferenceUrl: string;
  controlUrl: string;
  databaseUrl: string;
  /** Where the engine should PING Redis: the relay to the real one, closed under `redisUnreachable`. */
  redisUrl: string;
  listening: Record<Service | 'redis', boolean>;
  faults: ActiveFaults;
  operations: {
    mode: OperationsRow['mode'];
    kill_switch_active: boolean;
    activated_at: string | null;
    activated_by: string | null;
    reason: string | null;
  };
  data: { latest_bar: string | null; staleness_seconds: number | null };
  model: { champion: string; rollback_targets: string[] };
  longRunningQuery: LongQueryInfo | null;
  /** Every request that reached a mutating route, whatever its outcome. */
  calls: Record<MutatingCall, number>;
  /** Only those answered 2xx, i.e. that changed (or confirmed) state. */
  applied: Record<MutatingCall, number>;
  callLog: CallRecord[];
}

export interface Simulator {
  tradingUrl: string;
  inferenceUrl: string;
  controlUrl: string;
  databaseUrl: string;
  /** The Redis URL for the engine's platform config: the relay that `redisUnreachable` closes. */
  redisUrl: string;
  stop(): Promise<void>;
  /** Clears faults and call counts, reseeds the tables, restores the model registry. */
  reset(): Promise<void>;
  injectFault(patch: FaultPatch): Promise<SimulatorState>;
  clearFaults(): Promise<SimulatorState>;
  state(): Promise<SimulatorState>;
}

export class SimulatorFaultError extends Error {
  constructor(readonly issues: { field: string; message: string; type: string }[]) {
    super(`invalid fault: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  }
}

type Listener = { app: FastifyInstance; server: http.Server; port: number; listening: boolean };

class SimulatorImpl implements SimCore, Simulator {
  faults: ActiveFaults = noFaults();
  readonly models = new ModelRegistry();
  readonly calls: CallRecord[] = [];
  readonly profile: Profile;
  readonly apiKey: string | undefined;
  readonly db: SimDb;
  readonly listeners = new Map<Service | 'control', Listener>();
  private queue: Promise<unknown> = Promise.resolve();
  private timers = new Set<NodeJS.Timeout>();
  private ticker: NodeJS.Timeout | undefined;
  private readonly redisRelay: RedisRelay;
  private stopped = false;

  constructor(private readonly opts: ResolvedOptions) {
    this.profile = opts.profile;
    this.apiKey = opts.apiKey;
    this.db = new SimDb(opts.databaseUrl);
    this.redisRelay = new RedisRelay(RedisRelay.upstreamOf(opts.redisUrl));
  }

  get databaseUrl(): string {
    return this.opts.databaseUrl;
  }
  get tradingUrl(): string {
    return this.url('trading');
  }
  get inferenceUrl(): string {
    return this.url('inference');
  }
  get controlUrl(): string {
    return this.url('control');
  }
  /** The real Redis URL (credentials, database index) with the relay's host and port. */
  get redisUrl(): string {
    const u = new URL(this.opts.redisUrl);
    u.hostname = this.urlHost();
    u.port = String(this.redisRelay.port);
    return u.toString().replace(/\/$/, '');
  }
  private url(name: Service | 'control'): string {
    const l = this.listeners.get(name);
    return `http://${this.urlHost()}:${l?.port ?? 0}`;
  }
  private urlHost(): string {
    return this.opts.host.includes(':') ? `[${this.opts.host}]` : this.opts.host;
  }

  serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  async start(): Promise<void> {
    await ensureDatabase(this.opts.databaseUrl);
    await this.db.migrate();
    if (this.opts.resetData || (await this.db.isEmpty())) await this.db.seed();
    else await this.db.freshen(true);
    const ports = {
      trading: this.opts.tradingPort,
      inference: this.opts.inferencePort,
      control: this.opts.controlPort,
    };
    for (const name of ['trading', 'inference', 'control'] as const) {
      const listener = await this.buildListener(name);
      listener.port = await listen(listener.server, ports[name], this.opts.host);
      listener.listening = true;
      this.listeners.set(name, listener);
    }
    await this.redisRelay.open(this.opts.redisPort, this.opts.host);
    // Keeps the last bar within 5 minutes for a long-running simulator, unless 3.3 staleness is injected.
    this.ticker = setInterval(() => {
      void this.serial(() => this.db.freshen(this.faults.staleDataMinutes === 0)).catch(() => undefined);
    }, this.opts.freshnessTickMs);
    this.ticker.unref();
  }

  private async buildListener(name: Service | 'control'): Promise<Listener> {
    let server: http.Server | undefined;
    const app = Fastify({
      logger: this.opts.logger,
      bodyLimit: BODY_LIMIT_BYTES,
      requestIdHeader: 'x-request-id',
      genReqId: () => randomUUID(),
      // Our own http.Server, so "service down" can close and later reopen the very same port.
      serverFactory: (handler) => {
        server = http.createServer((req, res) => handler(req, res));
        return server;
      },
    });
    installErrorHandling(app);
    this.registerControl(app, name);
    if (name !== 'control') {
      this.installFaultHooks(app, name);
      const deps: RouteDeps = { core: this, db: this.db, serial: (fn) => this.serial(fn) };
      if (name === 'trading') registerTradingRoutes(app, deps);
      else registerInferenceRoutes(app, deps);
    }
    await app.ready();
    if (!server) throw new Error('serverFactory was not called');
    return { app, server, port: 0, listening: false };
  }

  private installFaultHooks(app: FastifyInstance, service: Service): void {
    app.addHook('onRequest', async (request, reply) => {
      const path = request.url.split('?')[0] ?? request.url;
      if (path.startsWith('/__sim')) return;
      const applies = (f: { service?: Service; method?: string; path: string }) =>
        (f.service === undefined || f.service === service) &&
        (f.method === undefined || f.method === request.method) &&
        pathMatches(f.path, path);
      const slow = this.faults.slowResponses.filter(applies).reduce((ms, f) => Math.max(ms, f.delayMs), 0);
      if (slow > 0) await this.sleep(slow);
      const failing = this.faults.httpErrors.find(applies);
      if (failing) {
        const code = failing.status === 503 ? 'service_unavailable' : 'internal_error';
        return sendError(
          request,
          reply,
          new ApiError(
            failing.status,
            code,
            `Injected fault: HTTP ${failing.status} on ${request.method} ${path}`,
          ),
        );
      }
      if (this.apiKey !== undefined) {
        const key = request.headers['x-api-key'];
        const auth = request.headers.authorization;
        if (key !== this.apiKey && auth !== `Bearer ${this.apiKey}`) {
          return sendError(request, reply, new ApiError(401, 'unauthorized', 'Missing or invalid API key'));
        }
      }
      return undefined;
    });
    // onSend, not onResponse: the count must be visible before the caller sees the answer.
    app.addHook('onSend', async (request, reply) => {
      const call = request.routeOptions.config.mutating;
      if (call === undefined) return;
      this.calls.push({
        call,
        service,
        method: request.method,
        path: request.url,
        status: reply.statusCode,
        body: request.body ?? null,
        at: new Date().toISOString(),
      });
    });
  }

  private registerControl(app: FastifyInstance, via: Service | 'control'): void {
    app.get('/__sim/state', async () => this.state());
    app.post('/__sim/faults', async (request, reply) => {
      const patch = parseInput(FaultPatch, request.body, 'body');
      // The listener serving this very request may be closing: never reuse its connection.
      reply.header('connection', 'close');
      return this.apply(patch, via);
    });
    app.delete('/__sim/faults', async (_request, reply) => {
      reply.header('connection', 'close');
      return this.apply(this.neutralPatch(), via);
    });
    app.post('/__sim/reset', async (_request, reply) => {
      reply.header('connection', 'close');
      await this.resetFrom(via);
      return this.state();
    });
  }

  /** Every fault at its neutral value: applying it clears them all. */
  private neutralPatch(): FaultPatch {
    return noFaults();
  }

  async injectFault(patch: FaultPatch): Promise<SimulatorState> {
    const parsed = FaultPatch.safeParse(patch);
    if (!parsed.success) throw new SimulatorFaultError(toValidationIssues(parsed.error, patch, 'body'));
    return this.apply(parsed.data, 'api');
  }

  clearFaults(): Promise<SimulatorState> {
    return this.apply(this.neutralPatch(), 'api');
  }

  private async apply(patch: FaultPatch, via: Service | 'control' | 'api'): Promise<SimulatorState> {
    await this.serial(async () => {
      const p = FaultPatch.parse(patch);
      const f = this.faults;
      if (p.httpErrors !== undefined) f.httpErrors = p.httpErrors;
      if (p.slowResponses !== undefined) f.slowResponses = p.slowResponses;
      if (p.sharpeRatio !== undefined) f.sharpeRatio = p.sharpeRatio;
      if (p.driftScore !== undefined) f.driftScore = p.driftScore;
      if (p.driftDemoData !== undefined) f.driftDemoData = p.driftDemoData;
      if (p.model !== undefined) f.model = p.model;
      if (p.rollback !== undefined) f.rollback = p.rollback;
      if (p.databaseDisconnected !== undefined) f.databaseDisconnected = p.databaseDisconnected;
      if (p.redisUnreachable !== undefined) {
        f.redisUnreachable = p.redisUnreachable;
        if (p.redisUnreachable) await this.redisRelay.close();
        else if (!this.redisRelay.listening) await this.redisRelay.open(this.redisRelay.port, this.opts.host);
      }
      // Kill switch and pause are state in trading_operations_state; clearing the fault only
      // undoes what the fault did, never a kill switch a caller activated through the API.
      if (p.killSwitch !== undefined) {
        if (p.killSwitch) {
          await this.db.setOperations({
            mode: 'killed',
            kill_switch_active: true,
            activated_at: new Date(),
            ...p.killSwitch,
          });
        } else if (f.killSwitch) {
          await this.db.setOperations({
            mode: 'normal',
            kill_switch_active: false,
            activated_at: null,
            activated_by: null,
            reason: null,
          });
        }
        f.killSwitch = p.killSwitch;
      }
      if (p.tradingPaused !== undefined) {
        const ops = await this.db.operations();
        if (p.tradingPaused) {
          await this.db.setOperations({ ...ops, mode: 'paused', reason: p.tradingPaused.reason });
        } else if (f.tradingPaused && ops.mode === 'paused') {
          await this.db.setOperations({ ...ops, mode: ops.kill_switch_active ? 'killed' : 'normal' });
        }
        f.tradingPaused = p.tradingPaused;
      }
      if (p.staleDataMinutes !== undefined) {
        f.staleDataMinutes = p.staleDataMinutes;
        if (p.staleDataMinutes > 0) await this.db.makeStale(p.staleDataMinutes);
        else await this.db.freshen(true);
      }
      if (p.consecutiveLosses !== undefined) {
        f.consecutiveLosses = p.consecutiveLosses;
        await this.db.setConsecutiveLosses(p.consecutiveLosses);
      }
      if (p.longRunningQuery !== undefined) {
        f.longRunningQuery = p.longRunningQuery;
        if (p.longRunningQuery) await this.db.startLongQuery(p.longRunningQuery.seconds);
        else await this.db.stopLongQuery();
      }
      if (p.serviceDown !== undefined) {
        f.serviceDown = [...new Set(p.serviceDown)];
        await this.reconcileListeners(via);
      }
    });
    return this.state();
  }

  /** 3.1 "API container crashed": the port really refuses connections until the fault is cleared. */
  private async reconcileListeners(via: Service | 'control' | 'api'): Promise<void> {
    for (const name of ['trading', 'inference'] as const) {
      const l = this.listeners.get(name);
      if (!l) continue;
      const wantDown = this.faults.serviceDown.includes(name);
      if (wantDown && l.listening) {
        l.server.close(); // stops accepting synchronously; in-flight requests may finish
        l.listening = false;
        // Keep the connection that carries this very fault request alive until it is answered.
        if (via === name) l.server.closeIdleConnections();
        else l.server.closeAllConnections();
      } else if (!wantDown && !l.listening) {
        await listen(l.server, l.port, this.opts.host);
        l.listening = true;
      }
    }
  }

  private async resetFrom(via: Service | 'control' | 'api'): Promise<void> {
    await this.apply(this.neutralPatch(), via);
    await this.serial(async () => {
      this.faults = noFaults();
      this.models.reset();
      this.calls.length = 0;
      await this.db.seed();
    });
  }

  reset(): Promise<void> {
    return this.resetFrom('api');
  }

  async state(): Promise<SimulatorState> {
    const [ops, fresh] = await Promise.all([this.db.operations(), this.db.freshness()]);
    const calls = emptyCounts();
    const applied = emptyCounts();
    for (const c of this.calls) {
      calls[c.call] += 1;
      if (c.status >= 200 && c.status < 300) applied[c.call] += 1;
    }
    const targets: ModelVersion[] = this.faults.rollback === 'no_target' ? [] : this.models.targets;
    return {
      profile: this.profile,
      tradingUrl: this.tradingUrl,
      inferenceUrl: this.inferenceUrl,
      controlUrl: this.controlUrl,
      databaseUrl: this.databaseUrl,
      redisUrl: this.redisUrl,
      listening: {
        trading: this.listeners.get('trading')?.listening ?? false,
        inference: this.listeners.get('inference')?.listening ?? false,
        redis: this.redisRelay.listening,
      },
      faults: structuredClone(this.faults),
      operations: {
        mode: ops.mode,
        kill_switch_active: ops.kill_switch_active,
        activated_at: ops.activated_at?.toISOString() ?? null,
        activated_by: ops.activated_by,
        reason: ops.reason,
      },
      data: {
        latest_bar: fresh.latest?.toISOString() ?? null,
        staleness_seconds: fresh.stalenessSeconds === null ? null : Math.round(fresh.stalenessSeconds),
      },
      model: {
        champion: ModelRegistry.label(this.models.champion),
        rollback_targets: targets.map((t) => ModelRegistry.label(t)),
      },
      longRunningQuery: this.db.longQueryInfo(),
      calls,
      applied,
      callLog: this.calls.map((c) => ({ ...c })),
    };
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const l of this.listeners.values()) {
      if (l.listening) l.server.close();
      l.listening = false;
      l.server.closeAllConnections();
      await l.app.close();
    }
    await this.redisRelay.close();
    await this.queue.catch(() => undefined);
    await this.db.close();
  }
}

/**
 * Starts both simulated services (and the fault-API control listener) in-process.
 * Ports 0 pick free ports; the database is created through `postgres` when absent.
 */
export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const parsed = SimulatorOptionsSchema.safeParse(opts);
  if (!parsed.success) throw new SimulatorFaultError(toValidationIssues(parsed.error, opts, 'options'));
  const sim = new SimulatorImpl(parsed.data);
  try {
    await sim.start();
  } catch (err) {
    await sim.stop().catch(() => undefined);
    throw err;
  }
  return sim;
}

export { MUTATING_CALLS, errorBody };
