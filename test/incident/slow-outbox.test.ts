// A slow outbox: writes of 2.5 s and one of 9.5 s (past the 8 s at which core heartbeats a workflow task),
// under re-pages every 0.1 s and a stream of signals. With deliveries as local activities this failed live
// with "[TMPRL1100] Nondeterminism error: Activity id of scheduled event ... does not match" (a local
// activity that outlives its workflow task resolves in another task on replay): deliveries stay activities
// (README "No local activities in workflows"). The worker's replay on stop proves the history.
import { temporal } from '@temporalio/proto';
import type { NotificationChannel } from '../../src/activities/notify/port';
import { status, waitFor } from '../harness/temporal';
import { incidentSuite } from '../harness/incident-suite';
import {
  acknowledgeUpdate,
  addNoteSignal,
  postUpdateUpdate,
  resolveUpdate,
  timelineQuery,
} from '../../src/workflows/definitions';

const { EventType } = temporal.api.enums.v1;
const delivered: { kind: string; key: string }[] = [];
let writes = 0;
const slowOutbox: NotificationChannel = {
  name: 'outbox',
  async deliver(n) {
    writes += 1;
    const ms = writes === 3 ? 9500 : writes % 2 === 0 ? 2500 : 50;
    await new Promise((r) => setTimeout(r, ms));
    delivered.push({ kind: n.kind, key: n.idempotencyKey });
    return { channel: 'outbox', idempotencyKey: n.idempotencyKey, outcome: 'delivered' };
  },
};

const suite = incidentSuite({
  name: 'slow-outbox',
  deps: { channels: { outbox: slowOutbox } },
  stopTimeoutMs: 120_000,
});

test('a slow outbox delays no handling, loses no message, and the history replays', async () => {
  const h = await suite.client.workflow.start('incidentWorkflow', {
    taskQueue: suite.taskQueue,
    workflowId: `slow-outbox-${Date.now()}`,
    args: [
      {
        title: 'slow outbox',
        severity: 'P1',
        timeScale: 600,
        policy: { repageEveryMinutes: { P1: 1 }, channels: ['outbox'] },
      },
    ],
  });
  for (let i = 0; i < 12; i++) {
    await new Promise((r) => setTimeout(r, 700));
    await h.signal(addNoteSignal, { by: 'tester', text: `note ${i}` });
    if (i % 4 === 0)
      await h.executeUpdate(postUpdateUpdate, {
        args: [{ by: 'tester', status: 'Investigating', theory: `slow disk ${i}`, progress: ['waiting'] }],
      });
  }
  // The acknowledgement is seen at once, whatever the outbox is doing.
  await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'tester' }] });
  const acked = await status(h);
  expect(acked.status).toBe('acknowledged');
  const timeline = await h.query(timelineQuery);
  expect(timeline.filter((e) => e.type === 'note')).toHaveLength(12);
  await h.executeUpdate(resolveUpdate, { args: [{ by: 'tester', resolution: 'disk replaced' }] });
  // Every composed message is written, once per key, slow as the outbox is.
  await waitFor(
    () => Promise.resolve(delivered),
    (d) => d.some((x) => x.kind === 'resolved') && d.filter((x) => x.kind === 'update').length >= 3,
    { timeoutMs: 90_000, what: 'the three 4.2 updates and the resolved message through the slow outbox' },
  );
  const keys = delivered.map((d) => d.key);
  expect(new Set(keys).size).toBe(keys.length);
  const history = await h.fetchHistory();
  const markers = (history.events ?? []).filter(
    (e) =>
      e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED &&
      e.markerRecordedEventAttributes?.markerName === 'core_local_activity',
  );
  expect(markers).toHaveLength(0);
}, 150_000);
