// Paging never waits on the idempotency store: with the store down, a page still goes out.
import {
  BestEffortKeyValueStore,
  createChannelDispatcher,
  type KeyValueStore,
} from '../../src/activities/notify/http';
import { PagerDutyChannel } from '../../src/activities/notify/pagerduty';
import { startFakePagerDuty, type FakePagerDuty } from '../fakes/pagerduty';

const down: KeyValueStore = {
  get: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')),
  set: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')),
};

let pd: FakePagerDuty;
beforeAll(async () => {
  pd = await startFakePagerDuty();
});
afterAll(() => pd.stop());

test('a failing store reads as "not sent" and a failing write is only logged', async () => {
  const warnings: string[] = [];
  const store = new BestEffortKeyValueStore(down, (m) => warnings.push(m));
  await expect(store.get('k')).resolves.toBeUndefined();
  await expect(store.set('k', 'v')).resolves.toBeUndefined();
  expect(warnings).toHaveLength(2);
  expect(warnings[0]).toContain('sending k anyway');
});

test('PagerDuty pages go out while the store is down', async () => {
  const channel = new PagerDutyChannel(
    { routingKey: 'R0UTINGKEY0123456789012345678901', baseUrl: pd.url },
    { dispatcher: createChannelDispatcher(), store: new BestEffortKeyValueStore(down, () => undefined) },
  );
  const result = await channel.deliver({
    idempotencyKey: 'inc@1:escalate-P0-0m:oncall-primary',
    incidentId: 'inc@1',
    step: 'escalate-P0-0m',
    target: 'oncall-primary',
    kind: 'page',
    severity: 'P0',
    title: 'Trading API down',
    text: 'page',
    createdAt: new Date().toISOString(),
    incidentStatus: 'triggered',
  });
  expect(result.outcome).toBe('delivered');
  expect(pd.requests).toHaveLength(1);
  expect((pd.requests[0].body as { event_action: string }).event_action).toBe('trigger');
});
