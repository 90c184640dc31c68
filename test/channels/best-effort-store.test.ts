// Paging never waits on the idempotency store and never sends a key twice from one worker: with the store
// down, hanging or back, a page goes out once and on time.
import {
  BestEffortKeyValueStore,
  createChannelDispatcher,
  InMemoryKeyValueStore,
} from '../../src/activities/notify/http';
import type { KeyValueStore } from '../../src/ledger/kv';
import { PagerDutyChannel } from '../../src/activities/notify/pagerduty';
import { startFakePagerDuty, type FakePagerDuty } from '../fakes/pagerduty';

const down: KeyValueStore = {
  get: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')),
  set: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')),
};

/** A store that can be made to hang (calls never settle) and recover; counts the calls that reached it. */
function switchable() {
  const data = new InMemoryKeyValueStore();
  let hanging = false;
  const calls = { get: 0, set: 0 };
  const store: KeyValueStore = {
    get: (k) => {
      calls.get += 1;
      return hanging ? new Promise(() => undefined) : data.get(k);
    },
    set: (k, v) => {
      calls.set += 1;
      return hanging ? new Promise(() => undefined) : data.set(k, v);
    },
  };
  return {
    store,
    data,
    calls,
    hang: () => (hanging = true),
    recover: () => (hanging = false),
  };
}

const timed = async <T>(p: Promise<T>): Promise<[T, number]> => {
  const t0 = Date.now();
  const v = await p;
  return [v, Date.now() - t0];
};

let pd: FakePagerDuty;
beforeAll(async () => {
  pd = await startFakePagerDuty();
});
afterAll(() => pd.stop());

test('a failing store reads as "not sent", a failing write is kept in memory, and the outage is logged once', async () => {
  const warnings: string[] = [];
  const store = new BestEffortKeyValueStore(down, (m) => warnings.push(m));
  await expect(store.get('k')).resolves.toBeUndefined();
  await expect(store.set('k', 'v')).resolves.toBeUndefined();
  await expect(store.get('k2')).resolves.toBeUndefined();
  // What this worker wrote, it still knows.
  await expect(store.get('k')).resolves.toBe('v');
  expect(store.down).toBe(true);
  expect(store.unsavedCount).toBe(1);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toContain('sending k without its check');
  store.close();
});

test('a hanging store costs one bounded read per outage, then nothing; writes land once it is back', async () => {
  const s = switchable();
  const warnings: string[] = [];
  const store = new BestEffortKeyValueStore(s.store, (m) => warnings.push(m), {
    timeoutMs: 300,
    probeEveryMs: 200,
  });
  await store.set('before', '1');
  expect(await s.data.get('before')).toBe('1');

  s.hang();
  const [first, firstMs] = await timed(store.get('a'));
  expect(first).toBeUndefined();
  expect(firstMs).toBeGreaterThanOrEqual(280);
  expect(firstMs).toBeLessThan(1000);
  const reached = s.calls.get;
  const [, laterMs] = await timed(
    Promise.all([store.get('b'), store.set('a', 'ts-1'), store.get('a'), store.set('b', 'ts-2')]),
  );
  expect(laterMs).toBeLessThan(50);
  expect(await store.get('a')).toBe('ts-1');
  // While down, deliveries never reached the store (only the background probe did).
  expect(s.calls.get - reached).toBeLessThanOrEqual(2);

  s.recover();
  const deadline = Date.now() + 5000;
  while ((store.down || store.unsavedCount > 0) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 50));
  expect(store.down).toBe(false);
  expect(await s.data.get('a')).toBe('ts-1');
  expect(await s.data.get('b')).toBe('ts-2');
  expect(warnings.some((w) => w.includes('back after'))).toBe(true);
  store.close();
});

test('PagerDuty pages go out while the store is down, and a retried delivery on this worker is not sent again', async () => {
  const store = new BestEffortKeyValueStore(down, () => undefined);
  const channel = new PagerDutyChannel(
    { routingKey: 'R0UTINGKEY0123456789012345678901', baseUrl: pd.url },
    { dispatcher: createChannelDispatcher(), store },
  );
  const n = {
    idempotencyKey: 'inc@1:escalate-P0-0m:oncall-primary',
    incidentId: 'inc@1',
    step: 'escalate-P0-0m',
    target: 'oncall-primary' as const,
    kind: 'page' as const,
    severity: 'P0' as const,
    title: 'Trading API down',
    text: 'page',
    createdAt: new Date().toISOString(),
    incidentStatus: 'triggered' as const,
  };
  const result = await channel.deliver(n);
  expect(result.outcome).toBe('delivered');
  expect((await channel.deliver(n)).outcome).toBe('duplicate');
  expect(pd.requests).toHaveLength(1);
  expect((pd.requests[0].body as { event_action: string }).event_action).toBe('trigger');
  store.close();
});
