// The heartbeat monitor's rules, pure (src/playbook/heartbeat.ts): the deadline, one incident per silence,
// the clearing, a beat held up by a worker outage, and the carried state.
import fc from 'fast-check';
import {
  applyBeat,
  beatTime,
  carry,
  deadlineOf,
  initMonitor,
  silenceOpened,
  stateOf,
  statusOf,
  tick,
  type MonitorCore,
} from '../../src/playbook/heartbeat';
import {
  heartbeatsConfigSchema,
  monitorSpecFor,
  type HeartbeatMonitorInput,
} from '../../src/playbook/contract/heartbeat';

const T0 = Date.parse('2026-12-07T10:00:00Z');
const S = 1000;
const iso = (ms: number) => new Date(ms).toISOString();

function monitor(over: Partial<HeartbeatMonitorInput['spec']> = {}): MonitorCore {
  return initMonitor(
    { spec: { name: 'cron-x', periodSeconds: 60, graceSeconds: 30, ...over }, createdBy: 'config' },
    T0,
  );
}

describe('heartbeat monitor core', () => {
  it('waits for its first beat without alerting, then keeps a deadline of period + grace after each beat', () => {
    const m = monitor();
    expect(stateOf(m)).toBe('waiting');
    tick(m, T0 + 10_000 * S);
    expect(m.effects).toEqual([]);
    expect(deadlineOf(m)).toBeNull();
    applyBeat(m, { source: 'cron', at: iso(T0 + 5 * S) }, T0 + 5 * S);
    expect(stateOf(m)).toBe('healthy');
    expect(deadlineOf(m)).toBe(T0 + 95 * S);
    applyBeat(m, { at: iso(T0 + 50 * S) }, T0 + 50 * S);
    expect(deadlineOf(m)).toBe(T0 + 140 * S);
    tick(m, T0 + 139.999 * S);
    expect(m.effects).toEqual([]);
  });

  it('a silence opens one incident, whatever number of periods it lasts, and says when the last beat came', () => {
    const m = monitor({ severity: 'P1', description: 'nightly ingest', runbook: 'check the DAG' });
    applyBeat(m, { source: 'airflow', at: iso(T0) }, T0);
    tick(m, T0 + 90 * S);
    expect(m.effects).toHaveLength(1);
    const open = m.effects[0]!;
    expect(open).toMatchObject({
      type: 'open',
      kind: 'monitoring-gap',
      severity: 'P1',
      title: 'Heartbeat missing: cron-x (nightly ingest)',
      since: iso(T0 + 90 * S),
      lastBeatAt: iso(T0),
      lastBeatSource: 'airflow',
      runbook: 'check the DAG',
    });
    m.effects.length = 0;
    for (let k = 2; k < 50; k++) tick(m, T0 + k * 90 * S);
    expect(m.effects).toEqual([]);
    expect(stateOf(m)).toBe('silent');
    expect(statusOf(m)).toMatchObject({ state: 'silent', silentSince: iso(T0 + 90 * S), deadline: null });
  });

  it('a beat during a silence clears its alert on the incident that silence opened; the next silence is new', () => {
    const m = monitor();
    applyBeat(m, {}, T0);
    tick(m, T0 + 90 * S);
    const open = m.effects.shift()!;
    if (open.type !== 'open') throw new Error('expected open');
    silenceOpened(m, open.fingerprint, 'incident-monitoring-gap-abc');
    expect(statusOf(m).incidentWorkflowId).toBe('incident-monitoring-gap-abc');
    applyBeat(m, { source: 'cron@host', at: iso(T0 + 200 * S) }, T0 + 200 * S);
    expect(m.effects).toEqual([
      {
        type: 'clear',
        name: 'cron-x',
        fingerprint: open.fingerprint,
        incidentWorkflowId: 'incident-monitoring-gap-abc',
        since: iso(T0 + 90 * S),
        resumedAt: iso(T0 + 200 * S),
        source: 'cron@host',
      },
    ]);
    expect(stateOf(m)).toBe('healthy');
    m.effects.length = 0;
    tick(m, T0 + 290 * S);
    expect(m.effects).toHaveLength(1);
    expect(m.effects[0]).toMatchObject({ type: 'open', since: iso(T0 + 290 * S) });
    expect(m.effects[0]!.type === 'open' && m.effects[0]!.fingerprint).not.toBe(open.fingerprint);
    expect(m.silences).toBe(2);
  });

  it('a beat that waited out a worker outage counts at its receipt time: before the deadline it keeps the monitor quiet', () => {
    const m = monitor();
    applyBeat(m, {}, T0);
    // Received at T0+80 s (deadline T0+90 s), delivered to the worker at T0+150 s, after that deadline.
    applyBeat(m, { at: iso(T0 + 80 * S) }, T0 + 150 * S);
    tick(m, T0 + 150 * S);
    expect(m.effects).toEqual([]);
    expect(deadlineOf(m)).toBe(T0 + 170 * S);
  });

  it('a beat received after a deadline nobody saw pass calls that silence and clears it at once', () => {
    const m = monitor();
    applyBeat(m, {}, T0);
    applyBeat(m, { at: iso(T0 + 200 * S) }, T0 + 300 * S);
    expect(m.effects.map((e) => e.type)).toEqual(['open', 'clear']);
    expect(m.effects[0]).toMatchObject({ since: iso(T0 + 90 * S) });
    expect(m.effects[1]).toMatchObject({ resumedAt: iso(T0 + 200 * S) });
    expect(stateOf(m)).toBe('healthy');
  });

  it('a beat claiming a time ahead of the clock, or before the last beat, is not taken at its word', () => {
    const m = monitor();
    applyBeat(m, {}, T0);
    expect(beatTime(m, { at: iso(T0 + 3600 * S) }, T0 + 10 * S)).toBe(T0 + 10 * S);
    expect(beatTime(m, { at: iso(T0 - 3600 * S) }, T0 + 10 * S)).toBe(T0);
    expect(beatTime(m, { at: iso(T0 + 12 * S) }, T0 + 10 * S)).toBe(T0 + 10 * S);
  });

  it('carries its state through continue-as-new unchanged', () => {
    const m = monitor();
    applyBeat(m, { source: 'a' }, T0);
    tick(m, T0 + 90 * S);
    const open = m.effects.shift()!;
    silenceOpened(m, open.type === 'open' ? open.fingerprint : '', 'incident-x');
    const next = initMonitor({ spec: m.spec, createdBy: 'config', carried: carry(m) }, T0 + 500 * S);
    expect(statusOf(next)).toEqual(statusOf(m));
    applyBeat(next, {}, T0 + 600 * S);
    expect(next.effects[0]).toMatchObject({ type: 'clear', incidentWorkflowId: 'incident-x' });
  });

  it('property: for any beat times, silences called = gaps longer than period + grace, never more', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 60 }),
        (gaps, tickEvery) => {
          const m = monitor();
          let t = T0;
          applyBeat(m, {}, t);
          let expected = 0;
          for (const gap of gaps) {
            // Ticks between beats, as timers would fire.
            for (let x = t + tickEvery * S; x < t + gap * S; x += tickEvery * S) tick(m, x);
            if (gap > 90) expected += 1;
            t += gap * S;
            applyBeat(m, {}, t);
          }
          const opens = m.effects.filter((e) => e.type === 'open').length;
          const clears = m.effects.filter((e) => e.type === 'clear').length;
          return opens === expected && clears === expected && m.silences === expected;
        },
      ),
      { numRuns: 300, seed: 20261208 },
    );
  });
});

describe('heartbeats config', () => {
  it('knows the watchdog without config, declared monitors, and creates others only when allowed', () => {
    const none = heartbeatsConfigSchema.parse({});
    expect(monitorSpecFor(none, 'watchdog')).toMatchObject({
      spec: { name: 'watchdog', periodSeconds: 120, graceSeconds: 180, severity: 'P2' },
      createdBy: 'watchdog',
    });
    expect(monitorSpecFor(none, 'nightly')).toBeNull();
    const c = heartbeatsConfigSchema.parse({
      createOnFirstBeat: true,
      defaults: { periodSeconds: 600 },
      monitors: [{ name: 'watchdog', periodSeconds: 60, graceSeconds: 60, severity: 'P1' }],
    });
    expect(monitorSpecFor(c, 'watchdog')).toMatchObject({ spec: { severity: 'P1' }, createdBy: 'config' });
    expect(monitorSpecFor(c, 'nightly')).toMatchObject({
      spec: { name: 'nightly', periodSeconds: 600, graceSeconds: 60, severity: 'P2' },
      createdBy: 'first-beat',
    });
  });

  it('refuses a bad config with the path: duplicate names, bad names, a period of 0', () => {
    const r = heartbeatsConfigSchema.safeParse({
      monitors: [
        { name: 'a', periodSeconds: 60, graceSeconds: 0 },
        { name: 'a', periodSeconds: 60, graceSeconds: 0 },
        { name: 'Bad Name', periodSeconds: 60, graceSeconds: 0 },
        { name: 'b', periodSeconds: 0, graceSeconds: 0 },
      ],
    });
    expect(r.success).toBe(false);
    const paths = r.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(
      expect.arrayContaining(['monitors.1.name', 'monitors.2.name', 'monitors.3.periodSeconds']),
    );
  });
});
