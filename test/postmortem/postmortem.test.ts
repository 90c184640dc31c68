// postmortemWorkflow (playbook 6.1-6.3) on the dev server with compressed time: deadlines per severity,
// reminders and the overdue escalation at their scaled times, completion with action items, rejected
// payloads, action item reminders and overdue notices until each is done, and the ledger rows it writes.
import {
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import { readOutbox, type OutboxRecord } from '../../src/activities/notify/outbox';
import type { PostmortemStatus } from '../../src/playbook/contract/postmortem';
import {
  actionItemDoneSignal,
  actionItemDoneUpdate,
  completePostmortemSignal,
  completePostmortemUpdate,
  postmortemStatusQuery,
} from '../../src/workflows/postmortem-definitions';
import { recordHistory } from '../harness/history';
import { startTestWorker, testClient, uniqueTaskQueue, waitFor, type TestWorker } from '../harness/temporal';
import { freshLedger, type TestLedger } from '../ledger/db';

const taskQueue = uniqueTaskQueue('postmortem');
let worker: TestWorker;
let client: Client;
let closeClient: () => Promise<void>;
let ledger: TestLedger;

beforeAll(async () => {
  ledger = await freshLedger('postmortem');
  worker = await startTestWorker({ taskQueue, deps: { ledger: ledger.pool } });
  ({ client, close: closeClient } = await testClient());
});
afterAll(async () => {
  await closeClient();
  await worker.stop();
  await ledger.close();
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** How late a timer-driven notification may be on a busy 2-core machine. */
const LATE_MS = 1_500;

const pmStatus = (h: WorkflowHandle) => h.query(postmortemStatusQuery);
const outboxOf = async (incidentId: string): Promise<OutboxRecord[]> =>
  (await readOutbox(worker.outbox.file)).filter((r) => r.incidentId === incidentId);
const step = (records: OutboxRecord[], s: string) => records.filter((r) => r.step === s);

async function startPostmortem(
  name: string,
  input: Record<string, unknown>,
): Promise<{ h: WorkflowHandle; incidentId: string; resolvedAt: number }> {
  const incidentId = `incident-${name}-${Date.now()}`;
  const resolvedAt = Date.now();
  const h = await client.workflow.start('postmortemWorkflow', {
    taskQueue,
    workflowId: `postmortem-${incidentId}`,
    args: [{ incidentId, title: name, resolvedAt: new Date(resolvedAt).toISOString(), ...input }],
  });
  return { h, incidentId, resolvedAt };
}

/** A notification sent at or after `expected` (epoch ms) and not much later. */
function expectAt(record: OutboxRecord | undefined, expected: number): void {
  expect(record).toBeDefined();
  const at = Date.parse(record!.createdAt);
  expect(at).toBeGreaterThanOrEqual(expected);
  expect(at).toBeLessThan(expected + LATE_MS);
}

/** The COT calendar date `days` after the instant `ms` (COT is UTC-5, no DST). */
function cotDate(ms: number, days: number): string {
  return new Date(ms - 5 * HOUR + days * DAY).toISOString().slice(0, 10);
}
/** Real due time of an action item: end of its COT day, scaled from the resolution (6.3 with timeScale). */
function scaledEndOfCotDay(date: string, resolvedAt: number, timeScale: number): number {
  const endOfDay = Date.parse(`${date}T00:00:00.000Z`) + DAY + 5 * HOUR;
  return resolvedAt + (endOfDay - resolvedAt) / timeScale;
}

test.concurrent(
  'P0: 48-hour deadline, reminders at 50% and 90%, overdue escalation to the eng lead and its repeat, all at the scaled times',
  async () => {
    // 48 h in 4 s: reminders at 2 s and 3.6 s, overdue at 4 s, "still overdue" every 24 h = 2 s.
    const timeScale = (48 * HOUR) / 4_000;
    const { h, incidentId, resolvedAt } = await startPostmortem('p0-deadline', {
      severity: 'P0',
      timeScale,
      owner: 'alice',
    });
    const started = await pmStatus(h);
    expect(started).toMatchObject({
      requirement: 'mandatory',
      timeline: 'Within 48 hours',
      status: 'open',
      owner: 'alice',
    });
    expect(Date.parse(started.dueAt!)).toBe(resolvedAt + 4_000);
    expect(started.reminders.map((r) => [r.step, Date.parse(r.at) - resolvedAt])).toEqual([
      ['postmortem-reminder-50', 2_000],
      ['postmortem-reminder-90', 3_600],
    ]);

    const overdue = await waitFor(
      () => pmStatus(h),
      (s) => s.overdueRepeats >= 1,
      { what: 'overdue escalation and one repeat', timeoutMs: 20_000 },
    );
    expect(overdue.status).toBe('overdue');
    expect(
      overdue.reminders.every(
        (r) => r.sentAt !== null && !r.skipped && Date.parse(r.sentAt) >= Date.parse(r.at),
      ),
    ).toBe(true);
    expect(Date.parse(overdue.overdueEscalatedAt!)).toBeGreaterThanOrEqual(resolvedAt + 4_000);

    const out = await waitFor(
      () => outboxOf(incidentId),
      (o) => step(o, 'postmortem-overdue-1').length === 2,
      { what: 'overdue notices delivered' },
    );
    expect(step(out, 'postmortem-scheduled')).toHaveLength(1);
    expect(step(out, 'postmortem-scheduled')[0]!.text).toContain('@alice');
    expectAt(step(out, 'postmortem-reminder-50')[0], resolvedAt + 2_000);
    expectAt(step(out, 'postmortem-reminder-90')[0], resolvedAt + 3_600);
    // Overdue: to the engineering lead (role, paged as that role) and to the owner (a person, in the channel).
    const escalation = step(out, 'postmortem-overdue');
    expect(escalation.map((r) => r.target).sort()).toEqual(['channel', 'eng-lead']);
    for (const r of escalation) expectAt(r, resolvedAt + 4_000);
    expect(escalation[0]!.text).toContain('OVERDUE');
    expectAt(
      step(out, 'postmortem-overdue-1').find((r) => r.target === 'eng-lead'),
      Date.parse(overdue.overdueEscalatedAt!) + 2_000,
    );
    expect(new Set(out.map((r) => r.idempotencyKey)).size).toBe(out.length);

    const row = await waitFor(
      async () =>
        (await ledger.pool.query('SELECT * FROM postmortems WHERE incident_id = $1', [incidentId])).rows[0],
      (r) => r?.overdue_escalated_at != null,
      { what: 'ledger row of the overdue post-mortem' },
    );
    expect(row).toMatchObject({
      status: 'overdue',
      requirement: 'mandatory',
      severity: 'P0',
      owner: 'alice',
      reminders_sent: 2,
      workflow_id: h.workflowId,
    });
    expect((row.due_at as Date).getTime()).toBe(resolvedAt + 4_000);

    // Completed late, without action items: done, and the ledger keeps the escalation.
    await h.signal(completePostmortemSignal, {
      by: 'alice',
      documentUrl: 'https://wiki.example.com/pm/p0',
      actionItems: [],
    });
    const result = (await h.result()) as PostmortemStatus;
    expect(result.status).toBe('done');
    expect(result.events.find((e) => e.type === 'postmortem.completed')?.text).toContain(
      'after its deadline',
    );
    const done = (await ledger.pool.query('SELECT * FROM postmortems WHERE incident_id = $1', [incidentId]))
      .rows[0];
    expect(done).toMatchObject({
      status: 'done',
      completed_by: 'alice',
      document_url: 'https://wiki.example.com/pm/p0',
    });
    expect(done.overdue_escalated_at).not.toBeNull();
    await recordHistory(h, 'postmortem-p0-overdue');
  },
);

test.concurrent(
  'completion with action items: each is assigned, reminded before due, escalated when overdue, and tracked until done',
  async () => {
    // One playbook day per second. P1 post-mortem due in 7 s, completed at once (no post-mortem reminder).
    const timeScale = DAY / 1_000;
    const { h, incidentId, resolvedAt } = await startPostmortem('actions', {
      severity: 'P1',
      timeScale,
      reminders: { actionItemBeforeDueHours: [24], actionItemOverdueRepeatHours: 24 },
    });
    // The end of a COT day `n` days on is n to n + 1 s away. AI-2's reminder (1 s before due) comes after
    // the completion even when a loaded machine runs the completion's task a second or two late.
    const later = cotDate(resolvedAt, 8); // due in 8-9 s, well after AI-2's overdue notices
    const sooner = cotDate(resolvedAt, 3); // due in 3-4 s
    await h.signal(completePostmortemSignal, {
      by: 'alice',
      documentUrl: 'https://wiki.example.com/pm/actions',
      actionItems: [
        { title: 'Alert on disk usage', owner: 'bob', dueDate: later },
        { title: 'Runbook for failover', owner: 'carol', dueDate: sooner },
      ],
    });
    const tracking = await waitFor(
      () => pmStatus(h),
      (s) => s.actionItems.length === 2 && s.actionItems.every((i) => i.assignedAt !== null),
      { what: 'items assigned' },
    );
    expect(tracking.status).toBe('tracking');
    expect(tracking.reminders.every((r) => r.sentAt === null)).toBe(true);
    const [ai1, ai2] = tracking.actionItems;
    expect(ai1).toMatchObject({ id: 'AI-1', index: 0, owner: 'bob', dueDate: later });
    expect(Date.parse(ai1!.dueAt)).toBeCloseTo(scaledEndOfCotDay(later, resolvedAt, timeScale), -1);
    expect(Date.parse(ai2!.dueAt)).toBeCloseTo(scaledEndOfCotDay(sooner, resolvedAt, timeScale), -1);

    // Not done yet: actionItemDone for an unknown item is rejected and recorded.
    await h.signal(actionItemDoneSignal, { by: 'bob', id: 'AI-9' });

    // AI-2 (carol): reminder 24 h = 1 s before due, overdue at due (owner and eng lead), again 1 s later.
    const overdue = await waitFor(
      () => pmStatus(h),
      (s) => s.events.filter((e) => e.type === 'action.overdue' && e.data?.item === 'AI-2').length >= 2,
      {
        what: 'AI-2 overdue twice',
        timeoutMs: 20_000,
      },
    );
    const ai2Due = Date.parse(overdue.actionItems[1]!.dueAt);
    // The query shows a decision at once; its deliveries are activities that finish a moment later.
    const out = await waitFor(
      () => outboxOf(incidentId),
      (o) => step(o, 'action-AI-2-overdue-1').length === 2,
      { what: 'AI-2 overdue notices delivered' },
    );
    expect(step(out, 'action-AI-1-assigned')[0]!.text).toContain('@bob');
    expect(step(out, 'action-AI-2-assigned')[0]!.text).toContain('@carol');
    expectAt(step(out, 'action-AI-2-reminder-24h')[0], ai2Due - 1_000);
    expect(
      step(out, 'action-AI-2-overdue')
        .map((r) => r.target)
        .sort(),
    ).toEqual(['channel', 'eng-lead']);
    expectAt(
      step(out, 'action-AI-2-overdue').find((r) => r.target === 'eng-lead'),
      ai2Due,
    );
    expectAt(
      step(out, 'action-AI-2-overdue-1').find((r) => r.target === 'eng-lead'),
      Date.parse(overdue.actionItems[1]!.overdueEscalatedAt!) + 1_000,
    );

    // AI-1 done by index before it falls due: no overdue notice for it, ever.
    await h.executeUpdate(actionItemDoneUpdate, { args: [{ by: 'bob', index: 0, note: 'alert added' }] });
    await expect(
      h.executeUpdate(actionItemDoneUpdate, { args: [{ by: 'bob', index: 0 }] }),
    ).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    // AI-2 done by id ends the workflow.
    await h.signal(actionItemDoneSignal, { by: 'carol', id: 'AI-2' });
    const result = (await h.result()) as PostmortemStatus;
    expect(result.status).toBe('done');
    expect(result.actionItems.map((i) => [i.id, i.doneBy])).toEqual([
      ['AI-1', 'bob'],
      ['AI-2', 'carol'],
    ]);
    const rejected = result.events.filter((e) => e.type === 'signal.rejected').map((e) => e.text);
    expect(rejected).toEqual([expect.stringContaining('no action item with id "AI-9"')]);
    const final = await outboxOf(incidentId);
    expect(step(final, 'action-AI-1-overdue')).toHaveLength(0);
    expect(step(final, 'postmortem-actions-done')).toHaveLength(1);
    expect(step(final, 'postmortem-completed')[0]!.text).toContain(
      'AI-2 Runbook for failover (owner carol, due',
    );

    const items = (
      await ledger.pool.query('SELECT * FROM action_items WHERE incident_id = $1 ORDER BY item_index', [
        incidentId,
      ])
    ).rows;
    expect(items.map((i) => [i.id, i.owner, i.done_by, i.overdue_escalated_at === null])).toEqual([
      ['AI-1', 'bob', 'bob', true],
      ['AI-2', 'carol', 'carol', false],
    ]);
    const pm = (await ledger.pool.query('SELECT * FROM postmortems WHERE incident_id = $1', [incidentId]))
      .rows[0];
    expect(pm).toMatchObject({
      status: 'done',
      completed_by: 'alice',
      reminders_sent: 0,
      overdue_escalated_at: null,
    });
    await recordHistory(h, 'postmortem-action-items');
  },
);

test.concurrent(
  'a bad completion payload is recorded as rejected, names the field (6.3), and changes nothing',
  async () => {
    const { h } = await startPostmortem('bad-payload', { severity: 'P1', timeScale: 1 });
    // Handlers first: signals buffered before the first workflow task reach them in registration order.
    await pmStatus(h);
    await h.signal(actionItemDoneSignal, { by: 'bob', index: 0 });
    await h.signal(completePostmortemSignal, {
      by: 'alice',
      documentUrl: 'https://wiki.example.com/pm',
      actionItems: [{ title: 'no owner', dueDate: '2026-12-01' }],
    });
    await h.signal(completePostmortemSignal, {
      by: 'alice',
      documentUrl: 'https://wiki.example.com/pm',
      actionItems: [{ title: 'no date', owner: 'bob' }],
    });
    await h.signal(completePostmortemSignal, { by: 'alice', documentUrl: 'not a url', actionItems: [] });
    await h.signal(completePostmortemSignal, 'garbage');
    const s = await waitFor(
      () => pmStatus(h),
      (x) => x.events.filter((e) => e.type === 'signal.rejected').length === 5,
      { what: 'five rejections' },
    );
    const texts = s.events.filter((e) => e.type === 'signal.rejected').map((e) => e.text);
    expect(texts[0]).toContain('not completed yet');
    expect(texts[1]).toMatch(
      /actionItems\.0\.owner: 6\.3: every action item must be assigned to a specific owner/,
    );
    expect(texts[2]).toMatch(/actionItems\.0\.dueDate: 6\.3: every action item must be given a due date/);
    expect(texts[3]).toContain('documentUrl');
    expect(texts[4]).toContain('invalid completePostmortem payload');
    expect(s).toMatchObject({ status: 'open', completedAt: null, actionItems: [] });
    // The update form rejects synchronously with the reason, before anything is written to history.
    const err = await h
      .executeUpdate(completePostmortemUpdate, {
        args: [
          {
            by: 'alice',
            documentUrl: 'https://wiki.example.com/pm',
            actionItems: [{ title: 'x', owner: '', dueDate: '2026-12-01' }],
          },
        ],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
    expect(String((err as WorkflowUpdateFailedError).cause?.message)).toContain('actionItems.0.owner');
    expect((await pmStatus(h)).events.filter((e) => e.type === 'signal.rejected')).toHaveLength(5);
    await h.executeUpdate(completePostmortemUpdate, {
      args: [{ by: 'alice', documentUrl: 'https://wiki.example.com/pm', actionItems: [] }],
    });
    expect(((await h.result()) as PostmortemStatus).status).toBe('done');
    await recordHistory(h, 'postmortem-rejections');
  },
);

test.concurrent(
  'P3 needs no post-mortem (complete at once); a P2 recommended one lapses at 2 weeks without an eng-lead escalation',
  async () => {
    const p3 = await startPostmortem('p3', { severity: 'P3' });
    const r3 = (await p3.h.result()) as PostmortemStatus;
    expect(r3).toMatchObject({ status: 'not-required', requirement: 'none', dueAt: null });
    const row3 = await waitFor(
      async () =>
        (await ledger.pool.query('SELECT * FROM postmortems WHERE incident_id = $1', [p3.incidentId]))
          .rows[0],
      Boolean,
      { what: 'P3 row' },
    );
    expect(row3).toMatchObject({ status: 'not-required', requirement: 'none', due_at: null });

    // 2 weeks in 2 s.
    const p2 = await startPostmortem('p2', { severity: 'P2', timeScale: (14 * DAY) / 2_000 });
    const r2 = (await p2.h.result()) as PostmortemStatus;
    expect(r2).toMatchObject({
      status: 'lapsed',
      requirement: 'recommended',
      timeline: 'Within 2 weeks',
      overdueEscalatedAt: null,
    });
    expect(Date.parse(r2.dueAt!)).toBe(p2.resolvedAt + 2_000);
    const out = await outboxOf(p2.incidentId); // the workflow awaited its deliveries before returning
    expectAt(step(out, 'postmortem-reminder-50')[0], p2.resolvedAt + 1_000);
    expectAt(step(out, 'postmortem-lapsed')[0], p2.resolvedAt + 2_000);
    expect(out.filter((r) => r.target === 'eng-lead' && r.step.includes('overdue'))).toHaveLength(0);
    const row2 = (
      await ledger.pool.query('SELECT status FROM postmortems WHERE incident_id = $1', [p2.incidentId])
    ).rows[0];
    expect(row2.status).toBe('lapsed');
  },
);

test.concurrent('an invalid start fails at once with the reason', async () => {
  const { h } = await startPostmortem('invalid', { severity: 'P7' });
  const err = await h.result().catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  expect(String((err as WorkflowFailedError).cause?.message)).toContain(
    'invalid postmortemWorkflow input: severity',
  );
});
