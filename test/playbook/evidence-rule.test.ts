// DESIGN "Evidence rule", as properties over generated check results: whatever the checks answer (ok,
// failed, unknown: timeouts, refused connections, malformed bodies, failed queries), every remediation a
// procedure would request is justified by positive evidence in the raw readings, and nothing is pre-approved
// on unknown evidence. The oracle below reads the raw generated values directly, not the code under test.
import fc from 'fast-check';
import { admit, type Evidence, type Reading } from '../../src/playbook/evidence';
import {
  DATA_OUTAGE_KILL_SWITCH_AFTER_MINUTES,
  KILL_SWITCH_DATA_OUTAGE_ACTION,
  SHARPE_SEVERE_MAX,
  decideModelDegradation,
  diagnoseDatabase,
  diagnoseTradingSystemDown,
  planDataOutage,
  type ContainerFacts,
  type ServiceFacts,
} from '../../src/playbook/procedures';
import { judgeReading } from '../../src/playbook/readings';

/** What a check returned: a measurement, or no answer for one of the ways a check fails. */
type Raw<D> = { answered: true; data: D } | { answered: false; why: string };
const noAnswer = fc.constantFrom(
  'timeout (UND_ERR_HEADERS_TIMEOUT)',
  'unreachable (refused: ECONNREFUSED)',
  'unresolved (ENOTFOUND trading-api)',
  'unexpected response body (status: expected string)',
  'HTTP 503: upstream unavailable',
  'query failed: relation "usdcop_m5_ohlcv" does not exist',
);
const raw = <D>(data: fc.Arbitrary<D>): fc.Arbitrary<Raw<D>> =>
  fc.oneof(
    data.map((d) => ({ answered: true as const, data: d })),
    noAnswer.map((why) => ({ answered: false as const, why })),
  );
/** The reading the workflow builds (src/workflows/procedures/common.ts): judged if answered, else unknown. */
function toReading<D extends object>(check: string, r: Raw<D>): Reading {
  const evidence: Evidence = r.answered ? judgeReading(check, r.data as Record<string, unknown>) : 'unknown';
  return { check, evidence, text: r.answered ? JSON.stringify(r.data) : r.why };
}
const preApprovalSets = fc.constantFrom([], [KILL_SWITCH_DATA_OUTAGE_ACTION]);

test('3.3: a kill switch (requested or pre-approved) only on an answered reading older than 60 minutes', () => {
  const freshness = raw(
    fc.record({
      latest: fc.constant('2026-12-01T10:00:00.000Z'),
      stalenessMinutes: fc.oneof(fc.constant(null), fc.double({ min: 0, max: 600, noNaN: true })),
    }),
  );
  fc.assert(
    fc.property(freshness, preApprovalSets, (r, preApproved) => {
      const reading = toReading('data-freshness', r);
      const plan = planDataOutage({
        reading,
        stalenessMinutes: r.answered && reading.evidence !== 'unknown' ? r.data.stalenessMinutes : null,
      });
      const justified =
        r.answered &&
        r.data.stalenessMinutes !== null &&
        r.data.stalenessMinutes > DATA_OUTAGE_KILL_SWITCH_AFTER_MINUTES;
      if (plan.action === 'unverified') {
        expect(justified).toBe(false);
        return;
      }
      const a = admit(plan.justification, { key: KILL_SWITCH_DATA_OUTAGE_ACTION, preApproved });
      if (plan.action === 'kill-switch') {
        expect(justified).toBe(true);
        expect(a.admitted).toBe(true);
      } else {
        expect(justified).toBe(false);
      }
      if (a.admitted && a.preApproved && plan.action === 'kill-switch')
        expect(reading.evidence).toBe('failed');
    }),
    { numRuns: 500 },
  );
});

const containerState = fc.constantFrom(
  'running',
  'exited',
  'restarting',
  'dead',
  'paused',
  'created',
  'unknown',
);
const containerList = fc
  .tuple(containerState, containerState, fc.boolean(), fc.boolean())
  .map(([a, b, oa, ob]): ContainerFacts[] => [
    { name: 'trading-api', state: a as ContainerFacts['state'], oomKilled: oa },
    { name: 'inference-api', state: b as ContainerFacts['state'], oomKilled: ob },
  ]);
const healthBody = fc.record({
  status: fc.constantFrom('healthy', 'ok', 'degraded', 'unhealthy'),
  databaseConnected: fc.constantFrom(true, false, null),
  modelLoaded: fc.constantFrom(true, false, null),
});
const reachErrors = fc.constantFrom('refused', 'timeout', 'unresolved', 'unreachable', 'other', null);

test('3.1: every mutating remediation requested is backed by an answered reading that shows the fault', () => {
  fc.assert(
    fc.property(
      fc.tuple(raw(healthBody), raw(healthBody), reachErrors, reachErrors),
      raw(fc.record({ containers: containerList })),
      raw(
        fc.record({
          reachable: fc.constant(false),
          sqlState: fc.constantFrom('53300', '28P01', '3D000', '57P03', null),
        }),
      ),
      raw(fc.record({ models: fc.constantFrom([], [{ modelId: 'ppo', status: 'error', version: null }]) })),
      raw(fc.record({ mode: fc.constantFrom('normal', 'paused', 'killed'), killSwitchActive: fc.boolean() })),
      fc.boolean(),
      (health, containers, db, models, ops, oomLogs) => {
        const services: ServiceFacts[] = (['trading-api', 'inference-api'] as const).map((c, i) => {
          const h = health[i] as Raw<{
            status: string;
            databaseConnected: boolean | null;
            modelLoaded: boolean | null;
          }>;
          return {
            container: c,
            health: toReading(`health:${c}`, h),
            reachError: h.answered ? null : (health[i + 2] as ServiceFacts['reachError']),
            databaseConnected: h.answered ? h.data.databaseConnected : null,
            modelLoaded: h.answered ? h.data.modelLoaded : null,
          };
        });
        const d = diagnoseTradingSystemDown({
          services,
          containers: {
            reading: toReading('containers', containers),
            list: containers.answered ? containers.data.containers : null,
          },
          database: toReading('database', db),
          redis: { check: 'redis', evidence: 'ok', text: 'PONG' },
          models: {
            reading: toReading('models', models),
            notLoaded: models.answered ? models.data.models.map((m) => m.modelId) : [],
          },
          logs: [
            {
              reading: { check: 'logs:trading-api', evidence: oomLogs ? 'failed' : 'ok', text: '' },
              outOfMemory: oomLogs,
            },
          ],
          killSwitch: {
            reading: toReading('operations-status', ops),
            active: ops.answered ? ops.data.killSwitchActive : null,
            reason: null,
            activatedBy: null,
          },
          apiContainers: ['trading-api', 'inference-api'],
          databaseContainer: 'postgres',
        });
        const list = containers.answered ? containers.data.containers : [];
        for (const c of d.causes) {
          const a = admit(c.justification);
          if (c.remediation.kind === 'human' || !a.admitted) continue;
          // The oracle, from the raw values: what the playbook row needs to be true.
          if (c.cause === 'memory-exhaustion') expect(list.some((x) => x.oomKilled) || oomLogs).toBe(true);
          if (c.cause === 'api-container-crashed')
            expect(list.some((x) => ['exited', 'dead', 'restarting', 'created'].includes(x.state))).toBe(
              true,
            );
          if (c.cause === 'database-connection-lost')
            expect(db.answered && ['53300', '57P03'].includes(db.data.sqlState ?? '')).toBe(true);
          if (c.cause === 'model-file-corrupted')
            expect(
              (models.answered && models.data.models.length > 0) ||
                health
                  .slice(0, 2)
                  .some(
                    (h) =>
                      (h as Raw<{ modelLoaded: boolean | null }>).answered &&
                      (h as { data: { modelLoaded: boolean | null } }).data.modelLoaded === false,
                  ),
            ).toBe(true);
        }
        if (d.resumeRequest && admit(d.resumeRequest).admitted) {
          expect(ops.answered && ops.data.killSwitchActive).toBe(true);
          expect(services.every((s) => s.health.evidence === 'ok')).toBe(true);
        }
        // Nothing about a service that did not answer is ever a crash on its own.
        if (!containers.answered && !oomLogs)
          expect(d.causes.some((c) => c.cause === 'api-container-crashed')).toBe(false);
      },
    ),
    { numRuns: 500 },
  );
});

test('3.2: a rollback only on an answered Sharpe under 0.3', () => {
  fc.assert(
    fc.property(
      raw(
        fc.record({
          sharpe: fc.oneof(fc.constant(null), fc.double({ min: -2, max: 3, noNaN: true })),
          winRate: fc.constant(null),
          errorRate: fc.constant(null),
        }),
      ),
      (m) => {
        const reading = toReading('model-metrics', m);
        const sharpe = reading.evidence === 'unknown' || !m.answered ? null : m.data.sharpe;
        const d = decideModelDegradation(sharpe);
        if (d.action !== 'rollback') return;
        const a = admit({ row: '3.2 severe', requires: [{ reading, expect: 'failed' }] });
        expect(a.admitted).toBe(true);
        expect(m.answered && m.data.sharpe !== null && m.data.sharpe < SHARPE_SEVERE_MAX).toBe(true);
      },
    ),
    { numRuns: 300 },
  );
});

test('3.4: restarts and terminations only on answered readings that show the fault', () => {
  fc.assert(
    fc.property(
      raw(
        fc.record({
          reachable: fc.constant(false),
          sqlState: fc.constantFrom('53300', '28P01', null),
          error: fc.constantFrom('sorry, too many clients already', 'password authentication failed'),
        }),
      ),
      raw(
        fc.record({
          connections: fc.integer({ min: 0, max: 120 }),
          limit: fc.constant(100),
          active: fc.integer({ min: 0, max: 80 }),
        }),
      ),
      raw(
        fc.record({
          queries: fc.constantFrom(
            [],
            [
              {
                pid: 7,
                durationSeconds: 900,
                query: 'SELECT 1',
                queryStart: '2026-12-01T10:00:00.000Z',
                state: 'active',
              },
            ],
          ),
        }),
      ),
      (db, conns, long) => {
        const d = diagnoseDatabase({
          database: toReading('database', db),
          connectError: db.answered ? db.data.error : null,
          pingMs: null,
          connectionsReading: toReading('database-connections', conns),
          connections: conns.answered ? conns.data.connections : null,
          connectionLimit: conns.answered ? conns.data.limit : null,
          activeBackends: conns.answered ? conns.data.active : null,
          longQueriesReading: toReading('long-running-queries', long),
          longQueries: long.answered ? [...long.data.queries] : [],
          logsReading: { check: 'logs:postgres', evidence: 'ok', text: '' },
          diskFull: false,
          appContainers: ['trading-api', 'inference-api'],
        });
        for (const c of d.decisions) {
          if (c.remediation.kind === 'human' || !admit(c.justification).admitted) continue;
          if (c.cause === 'connection-pool-exhausted')
            expect(
              (conns.answered && conns.data.connections >= 90) ||
                (db.answered && db.data.sqlState === '53300' && db.data.error.includes('too many clients')),
            ).toBe(true);
          if (c.cause === 'long-running-queries')
            expect(long.answered && long.data.queries.length > 0).toBe(true);
        }
      },
    ),
    { numRuns: 500 },
  );
});
