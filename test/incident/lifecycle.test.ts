// The lifecycle on a real dev server, for what only a server shows: signals, Updates and queries over the
// wire, timers at compressed time, the close after the reopen window, continue-as-new, search attributes,
// and recorded histories that must replay. The rules themselves are proven by test/playbook/lifecycle*.
import { ApplicationFailure, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { IncidentStatus, TimelineEvent, AcknowledgeInput } from '../../src/playbook/contract/incident';
import {
  acknowledgeSignal,
  acknowledgeUpdate,
  addNoteSignal,
  alertFiredSignal,
  alertResolvedSignal,
  approveUpdate,
  escalateSignal,
  postExternalStatusUpdate,
  postUpdateUpdate,
  reportLossSignal,
  resolveSignal,
  resolveUpdate,
  setSeveritySignal,
  statusQuery,
  timelineQuery,
} from '../../src/workflows/definitions';
import { status, waitFor } from '../harness/temporal';
import { incidentSuite } from '../harness/incident-suite';
import { readOutbox } from '../../src/activities/notify/outbox';
import type { NotificationChannel } from '../../src/activities/notify/port';
import { recordHistory } from '../harness/history';

/** A channel that is slow to deliver 4.3 (resolved) messages: keeps a closing run busy for a while. */
const slowResolved: NotificationChannel = {
  name: 'slow',
  async deliver(n) {
    if (n.kind === 'resolved') await new Promise((r) => setTimeout(r, 6000));
    return { channel: 'slow', idempotencyKey: n.idempotencyKey, outcome: 'delivered' };
  },
};

const suite = incidentSuite({ name: 'lifecycle', deps: { channels: { slow: slowResolved } } });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timeline = (h: WorkflowHandle) => h.query(timelineQuery);
const ofType = (events: TimelineEvent[], type: string) => events.filter((e) => e.type === type);

const open = suite.startIncident;

test.concurrent('acknowledgement stops re-paging but not the escalation matrix', async () => {
  // P1 at 300x: re-page every 5 min = 1 s, secondary at 3 s, eng lead at 6 s.
  const h = await open('ack-stops-repage', { severity: 'P1', timeScale: 300 });
  await waitFor(
    () => timeline(h),
    (t) => ofType(t, 'repage').length >= 1,
    { what: 'a re-page' },
  );
  await h.signal(acknowledgeSignal, { by: 'alice', note: 'looking' });
  const acked = await suite.waitFor(h, (s) => s.status === 'acknowledged');
  expect(acked.acknowledgedBy).toBe('alice');
  const repagesAtAck = ofType(await timeline(h), 'repage').length;
  const s = await suite.waitFor(h, (x) => x.engagedRoles.includes('eng-lead'), {
    what: 'eng lead after ack',
  });
  expect(s.engagedRoles).toEqual(['oncall-primary', 'oncall-secondary', 'eng-lead']);
  expect(ofType(await timeline(h), 'repage')).toHaveLength(repagesAtAck);
  // Re-pages went to the roles engaged at the time, with their own idempotency keys.
  const repages = (await readOutbox(suite.worker.outbox.file)).filter(
    (r) => r.incidentId.startsWith(`${h.workflowId}@`) && r.kind === 'repage',
  );
  expect(repages.length).toBeGreaterThanOrEqual(1);
  expect(new Set(repages.map((r) => r.idempotencyKey)).size).toBe(repages.length);
  expect(s.sla.responseBreachedAt).toBeNull();
  await h.signal(resolveSignal, { by: 'alice' });
  await recordHistory(h, 'ack-stops-repage');
});

test.concurrent(
  'an unacknowledged P0 breaches its response target; resolution records MTTA and MTTR and closes after the reopen window',
  async () => {
    // P0 at 600x: response target 5 min = 0.5 s; resolution target 30 min = 3 s; reopen window 30 min = 3 s.
    const h = await open('breach-and-close', {
      severity: 'P0',
      timeScale: 600,
      detectedAt: new Date(Date.now() - 1000).toISOString(),
    });
    const breached = await suite.waitFor(h, (s) => s.sla.responseBreachedAt !== null, {
      what: 'response breach',
    });
    expect(breached.breaches.map((b) => b.type)).toEqual(['response']);
    await h.signal(acknowledgeSignal, { by: 'bob' });
    await sleep(300);
    await h.signal(resolveSignal, {
      by: 'bob',
      rootCause: 'OOM',
      resolution: 'restart',
      financialImpactUsd: 0,
      missedTrades: 2,
    });
    const r = await suite.waitFor(h, (s) => s.status === 'resolved');
    const ms = (a: string | null, b: string | null) => Date.parse(b!) - Date.parse(a!);
    expect(r.metrics.mttaSeconds).toBe(Math.round((ms(r.firstPagedAt, r.acknowledgedAt) * 600) / 1000));
    expect(r.metrics.mttrSeconds).toBe(Math.round((ms(r.firstPagedAt, r.resolvedAt) * 600) / 1000));
    expect(r.metrics.mttdSeconds).toBeGreaterThanOrEqual(600 - 60); // detected ~1 s (= 10 playbook min) before opening
    expect(r.metrics.mttrSeconds!).toBeGreaterThan(r.metrics.mttaSeconds!);
    expect(r.reopenUntil).not.toBeNull();
    expect(Date.parse(r.reopenUntil!) - Date.parse(r.resolvedAt!)).toBe((30 * 60_000) / 600);
    const result = (await h.result()) as IncidentStatus;
    expect(result.status).toBe('closed');
    expect(Date.parse(result.closedAt!)).toBeGreaterThanOrEqual(Date.parse(r.reopenUntil!));
    const resolvedMsg = (await readOutbox(suite.worker.outbox.file)).find(
      (x) => x.incidentId.startsWith(`${h.workflowId}@`) && x.template === '4.3',
    );
    expect(resolvedMsg?.text).toContain('- Missed trades: 2');
    expect(resolvedMsg?.text).toContain('**Root Cause**: OOM');
    await recordHistory(h, 'breach-resolve-close');
  },
);

test.concurrent('a re-firing alert inside the reopen window reopens the incident and re-pages', async () => {
  const alert = { fingerprint: 'fp-1', name: 'TradingAPIDown', summary: 'trading-api unreachable' };
  const h = await open('reopen', { severity: 'P0', timeScale: 300 });
  await h.signal(alertFiredSignal, { alert });
  await h.signal(acknowledgeSignal, { by: 'carol' });
  await h.signal(alertResolvedSignal, { alert });
  await h.signal(resolveSignal, { by: 'carol' });
  await suite.waitFor(h, (s) => s.status === 'resolved');
  await h.signal(alertFiredSignal, { alert });
  const s = await suite.waitFor(h, (x) => x.reopenCount === 1);
  expect(s.status).toBe('triggered');
  expect(s.resolvedAt).toBeNull();
  expect(s.alerts).toMatchObject({ received: 2, resolved: 1, firing: 1 });
  const t = await timeline(h);
  expect(ofType(t, 'alerts.cleared')).toHaveLength(1);
  expect(ofType(t, 'reopened')).toHaveLength(1);
  // The status shows the reopen as soon as it is decided; its page is written by the delivery after.
  const reopenPages = await waitFor(
    async () =>
      (await readOutbox(suite.worker.outbox.file)).filter(
        (r) => r.incidentId.startsWith(`${h.workflowId}@`) && r.kind === 'reopened',
      ),
    (pages) => pages.length > 0,
    { what: 'the reopen page' },
  );
  expect(reopenPages.map((r) => r.target)).toEqual(['oncall-primary']);
  await h.signal(resolveSignal, { by: 'carol' });
  await recordHistory(h, 'reopen');
});

test.concurrent(
  'setSeverity up fires overdue steps at once; down keeps engaged roles and follows the new matrix',
  async () => {
    // Up: P2 at 600x; at ~20 playbook minutes raise to P0: eng lead (15 min) is overdue -> at once; CTO at 30.
    const up = await open('severity-up', { severity: 'P2', timeScale: 600 });
    await sleep(2000);
    await up.signal(setSeveritySignal, { by: 'dave', severity: 'P0', reason: 'losses' });
    const raised = await suite.waitFor(up, (s) => s.engagedRoles.includes('eng-lead'));
    expect(raised.severity).toBe('P0');
    const engLeadAt = raised.engagements.find((e) => e.role === 'eng-lead')!;
    expect(engLeadAt.step).toBe('escalate-P0-15m');
    const raisedCto = await suite.waitFor(up, (s) => s.engagedRoles.includes('cto'));
    const ctoMinutes =
      ((Date.parse(raisedCto.engagements.find((e) => e.role === 'cto')!.at) -
        Date.parse(raisedCto.openedAt)) *
        600) /
      60_000;
    expect(ctoMinutes).toBeGreaterThanOrEqual(30);
    expect(raisedCto.engagedRoles).toEqual(['oncall-primary', 'eng-lead', 'cto']);

    // Down: P0 at 300x, after the eng lead (3 s) lower to P2: the CTO (30 min, 6 s) never comes, the
    // secondary comes at 60 min (12 s), the eng lead is not paged again at 120 min.
    const down = await open('severity-down', { severity: 'P0', timeScale: 300 });
    await suite.waitFor(down, (s) => s.engagedRoles.includes('eng-lead'));
    await down.signal(setSeveritySignal, { by: 'dave', severity: 'P2', reason: 'contained' });
    const lowered = await suite.waitFor(down, (s) => s.engagedRoles.includes('oncall-secondary'), {
      what: 'secondary at 60 min',
    });
    expect(lowered.engagedRoles).toEqual(['oncall-primary', 'eng-lead', 'oncall-secondary']);
    expect(lowered.nextEscalation).toBeNull();
    const engLeadPages = (await readOutbox(suite.worker.outbox.file)).filter(
      (r) => r.incidentId.startsWith(`${down.workflowId}@`) && r.target === 'eng-lead' && r.kind === 'page',
    );
    expect(engLeadPages).toHaveLength(1);
    await Promise.all([up.signal(resolveSignal, { by: 'dave' }), down.signal(resolveSignal, { by: 'dave' })]);
    await recordHistory(up, 'severity-up');
    await recordHistory(down, 'severity-down');
  },
);

test.concurrent('a loss over $1000 engages the CTO at once; escalate fires the next step early', async () => {
  const h = await open('loss', { severity: 'P1', timeScale: 1 });
  await h.signal(reportLossSignal, { by: 'trader', amountUsd: 800 });
  const small = await suite.waitFor(h, (x) => x.lossUsd === 800 && x.engagedRoles.length > 0, {
    what: 'the $800 loss recorded',
  });
  expect(small.engagedRoles).toEqual(['oncall-primary']);
  await h.signal(reportLossSignal, { by: 'trader', amountUsd: 1500 });
  const s = await suite.waitFor(h, (x) => x.engagedRoles.includes('cto'));
  expect(s.lossUsd).toBe(1500);
  await h.signal(escalateSignal, { by: 'erin', reason: 'need help' });
  const e = await suite.waitFor(h, (x) => x.engagedRoles.includes('oncall-secondary'));
  expect(e.engagedRoles).toEqual(['oncall-primary', 'cto', 'oncall-secondary']);
  expect(e.nextEscalation).toMatchObject({ roles: ['eng-lead'], step: 'escalate-P1-30m' });
  await h.signal(resolveSignal, { by: 'erin' });
  await recordHistory(h, 'loss-and-escalate');
});

test.concurrent('malformed signals are recorded as rejected and the incident keeps escalating', async () => {
  const h = await open('bad-signals', { severity: 'P0', timeScale: 600 });
  await h.signal(acknowledgeSignal, {});
  await h.signal(acknowledgeSignal, 'alice');
  await h.signal(acknowledgeSignal, { by: 42 });
  await h.signal(setSeveritySignal, { by: 'x', severity: 'P9', reason: 'r' });
  await h.signal(reportLossSignal, { by: 'x', amountUsd: 'lots' });
  await h.signal(addNoteSignal, { by: 'x', text: 'real note' });
  const t = await waitFor(
    () => timeline(h),
    (x) => ofType(x, 'note').length === 1,
  );
  const rejected = ofType(t, 'signal.rejected');
  expect(rejected).toHaveLength(5);
  expect(rejected[0].text).toMatch(/invalid acknowledge payload: by: /);
  expect(rejected[1].text).toMatch(/invalid acknowledge payload: \(payload\)/);
  expect(rejected[3].text).toMatch(/severity/);
  const s = await suite.waitFor(h, (x) => x.engagedRoles.includes('cto'), { what: 'escalation to continue' });
  expect(s.status).toBe('triggered');
  expect(s.severity).toBe('P0');
  expect(s.lossUsd).toBe(0);
  await h.signal(resolveSignal, { by: 'x' });
  await recordHistory(h, 'bad-signals');
});

test.concurrent('updates validate input and state and answer synchronously', async () => {
  const h = await open('updates', { severity: 'P2', timeScale: 1 });
  await expect(h.executeUpdate(acknowledgeUpdate, { args: [{ by: '' }] })).rejects.toThrow(
    WorkflowUpdateFailedError,
  );
  const err = await h
    // Deliberately without `by`: the validator must refuse it.
    .executeUpdate(acknowledgeUpdate, { args: [{} as AcknowledgeInput] })
    .catch((e: unknown) => e as WorkflowUpdateFailedError);
  expect(String((err as WorkflowUpdateFailedError).cause?.message)).toMatch(
    /invalid acknowledge payload: by/,
  );
  const ok = await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'frank' }] });
  expect(ok).toMatchObject({ accepted: true, action: 'acknowledge', status: 'acknowledged' });
  const again = await h
    .executeUpdate(acknowledgeUpdate, { args: [{ by: 'frank' }] })
    .catch((e: unknown) => e as WorkflowUpdateFailedError);
  expect(String((again as WorkflowUpdateFailedError).cause?.message)).toMatch(
    /already acknowledged by frank/,
  );
  // A refusal, not a crash: a non-retryable ActionRejected without a stack trace (the Web UI shows it).
  const cause = (again as WorkflowUpdateFailedError).cause as ApplicationFailure;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause.type).toBe('ActionRejected');
  expect(cause.nonRetryable).toBe(true);
  expect(cause.stack ?? '').not.toMatch(/incident\.ts|at /);
  const approve = await h
    .executeUpdate(approveUpdate, { args: [{ by: 'frank', actionId: 'nope' }] })
    .catch((e: unknown) => e as Error);
  expect(String((approve as WorkflowUpdateFailedError).cause?.message)).toMatch(/no pending approval/);
  // Validator rejections are not written to history; the incident is untouched.
  expect(ofType(await timeline(h), 'signal.rejected')).toHaveLength(0);
  const resolved = await h.executeUpdate(resolveUpdate, { args: [{ by: 'frank', resolution: 'fixed' }] });
  expect(resolved).toMatchObject({ status: 'resolved' });
  await recordHistory(h, 'updates');
});

test.concurrent('the status query has the contract shape; search attributes follow the status', async () => {
  const h = await open('shape', {
    assessment: { tradingStoppedOrLosingMoney: false, majorFeatureBroken: true },
    kind: 'model-degradation',
    timeScale: 1,
  });
  // Answered from the first workflow task on; the first page follows the policy snapshot.
  await status(h);
  const s = await suite.waitFor(h, (x) => x.engagedRoles.length > 0);
  for (const key of [
    'incidentId',
    'title',
    'kind',
    'severity',
    'status',
    'acknowledgedBy',
    'acknowledgedAt',
    'resolvedBy',
    'resolvedAt',
    'engagedRoles',
    'nextEscalation',
    'pendingApprovals',
    'sla',
    'metrics',
    'alerts',
  ])
    expect(s).toHaveProperty(key);
  expect(s).toMatchObject({
    workflowId: h.workflowId,
    kind: 'model-degradation',
    severity: 'P1',
    status: 'triggered',
    acknowledgedBy: null,
    engagedRoles: ['oncall-primary'],
  });
  expect(s.incidentId).toMatch(new RegExp(`^${h.workflowId}@\\d{8}T\\d{6}\\.\\d{3}Z$`));
  expect(s.nextEscalation).toMatchObject({ roles: ['oncall-secondary'] });
  expect(Date.parse(s.nextEscalation!.at) - Date.parse(s.openedAt)).toBe(15 * 60_000);
  expect(Date.parse(s.sla.responseDeadline) - Date.parse(s.openedAt)).toBe(15 * 60_000);
  expect(Date.parse(s.sla.resolutionDeadline) - Date.parse(s.openedAt)).toBe(120 * 60_000);
  // MTTD ends when the first page is delivered (the outbox, this incident's only channel): moments after opening.
  expect(s.metrics).toEqual({ mttdSeconds: expect.any(Number), mttaSeconds: null, mttrSeconds: null });
  expect(s.metrics.mttdSeconds).toBeLessThan(10);
  const t = await timeline(h);
  expect(t[0]).toMatchObject({ actor: 'system', type: 'classified' });
  expect(
    t.every((e) => typeof e.at === 'string' && typeof e.actor === 'string' && typeof e.text === 'string'),
  ).toBe(true);
  const query = `WorkflowId='${h.workflowId}' AND IncidentSeverity='P1' AND IncidentStatus='triggered' AND IncidentKind='model-degradation'`;
  await waitFor(
    async () => {
      const found = [];
      for await (const w of suite.client.workflow.list({ query })) found.push(w);
      return found.length;
    },
    (n) => n === 1,
    { what: 'visibility' },
  );
  await h.signal(acknowledgeSignal, { by: 'gina' });
  const ackQuery = `WorkflowId='${h.workflowId}' AND IncidentStatus='acknowledged'`;
  await waitFor(
    async () => {
      const found = [];
      for await (const w of suite.client.workflow.list({ query: ackQuery })) found.push(w);
      return found.length;
    },
    (n) => n === 1,
    { what: 'visibility after ack' },
  );
  const described = await h.describe();
  expect(await described.staticDetails()).toBeUndefined();
  await h.signal(resolveSignal, { by: 'gina' });
});

test.concurrent(
  'the acknowledger is reminded of 4.2 status updates at the severity cadence; 4.4 goes out on request',
  async () => {
    // P0 at 600x: an update is due 30 playbook minutes (3 s) after the acknowledgement or the last update.
    const h = await open('status-updates', { severity: 'P0', timeScale: 600 });
    await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'hana' }] });
    const acked = await status(h);
    expect(Date.parse(acked.nextStatusUpdateDue!) - Date.parse(acked.acknowledgedAt!)).toBe(3000);
    await sleep(1500);
    await h.executeUpdate(postUpdateUpdate, {
      args: [{ by: 'hana', status: 'Mitigating', theory: 'bad deploy', progress: ['rolled back'] }],
    });
    const updated = await status(h);
    expect(Date.parse(updated.nextStatusUpdateDue!) - Date.parse(updated.lastUpdate!.at)).toBe(3000);
    const t = await waitFor(
      () => timeline(h),
      (x) => ofType(x, 'update.reminder').length >= 1,
      { what: 'a reminder' },
    );
    const reminder = ofType(t, 'update.reminder')[0];
    expect(Date.parse(reminder.at) - Date.parse(updated.lastUpdate!.at)).toBeGreaterThanOrEqual(3000);
    await h.executeUpdate(postExternalStatusUpdate, {
      args: [{ by: 'hana', currentStatus: 'Degraded', summary: 'Prices delayed', impact: 'Signals paused' }],
    });
    const records = await waitFor(
      () => readOutbox(suite.worker.outbox.file),
      (r) => r.some((x) => x.incidentId.startsWith(`${h.workflowId}@`) && x.template === '4.4'),
    );
    const external = records.find(
      (x) => x.incidentId.startsWith(`${h.workflowId}@`) && x.template === '4.4',
    )!;
    expect(external.text).toContain('**Current Status**: Degraded');
    expect(
      records.find((x) => x.incidentId.startsWith(`${h.workflowId}@`) && x.template === '4.2')?.text,
    ).toContain('**Current Theory**: bad deploy');
    await h.signal(resolveSignal, { by: 'hana' });
    await recordHistory(h, 'status-updates');
  },
);

test.concurrent('a long incident continues as new with its whole state and keeps escalating', async () => {
  // Re-paging every playbook minute at 600x (0.1 s) fills 200 history events within a few seconds; the
  // real-time floor on paging (1 s by default) is lowered to let it.
  const h = await open('continue-as-new', {
    severity: 'P1',
    timeScale: 600,
    policy: { repageEveryMinutes: { P1: 1 }, continueAsNewAfterEvents: 200, minPageIntervalSeconds: 0.1 },
  });
  const firstRunId = h.firstExecutionRunId;
  await h.signal(alertFiredSignal, { alert: { fingerprint: 'fp-can', name: 'InferenceAPIDown' } });
  await h.signal(addNoteSignal, { by: 'ivan', text: 'before continue-as-new' });
  const handleLatest = suite.client.workflow.getHandle(h.workflowId);
  await waitFor(
    async () => (await handleLatest.describe()).runId,
    (runId) => runId !== firstRunId,
    { timeoutMs: 30_000, what: 'a new run' },
  );
  const s = await suite.waitFor(handleLatest, (x) => x.engagedRoles.includes('trading-lead'), {
    timeoutMs: 30_000,
    what: 'trading lead at 60 min',
  });
  expect(s.engagedRoles).toEqual(['oncall-primary', 'oncall-secondary', 'eng-lead', 'trading-lead']);
  expect(s.alerts.received).toBe(1);
  const t = await timeline(handleLatest);
  expect(t.find((e) => e.type === 'note')?.text).toBe('before continue-as-new');
  expect(ofType(t, 'opened')).toHaveLength(1);
  const records = (await readOutbox(suite.worker.outbox.file)).filter((r) =>
    r.incidentId.startsWith(`${h.workflowId}@`),
  );
  expect(new Set(records.map((r) => r.idempotencyKey)).size).toBe(records.length);
  expect(records.filter((r) => r.kind === 'page' && r.target === 'oncall-primary')).toHaveLength(1);
  // The README's operator queries list incidents, not runs: two runs or more, one incident.
  const runs = `WorkflowId='${h.workflowId}'`;
  await waitFor(
    () => suite.client.workflow.count(runs),
    (c) => c.count >= 2,
    { timeoutMs: 30_000, what: 'both runs in visibility' },
  );
  expect(
    (await suite.client.workflow.count(`${runs} AND (ExecutionStatus='Running' OR IncidentStatus='closed')`))
      .count,
  ).toBe(1);
  expect(
    (
      await suite.client.workflow.count(
        `${runs} AND ExecutionStatus='Running' AND IncidentStatus!='resolved'`,
      )
    ).count,
  ).toBe(1);
  await handleLatest.signal(resolveSignal, { by: 'ivan' });
  await recordHistory(suite.client.workflow.getHandle(h.workflowId, firstRunId), 'continue-as-new-first-run');
});

test.concurrent(
  'an alert that fires after close, while the run is finishing, opens a new incident on the same id',
  async () => {
    // P2 at 600x: the reopen window (30 min) is 3 s; the slow channel keeps the closed run busy until 6 s.
    const h = await open('after-close', {
      severity: 'P2',
      timeScale: 600,
      policy: { channels: ['outbox', 'slow'] },
    });
    await h.signal(resolveSignal, { by: 'jo' });
    await suite.waitFor(h, (x) => x.status === 'closed', { what: 'closed' });
    await h.signal(alertFiredSignal, { alert: { fingerprint: 'fp-late', name: 'DatabaseQuerySlow' } });
    const latest = suite.client.workflow.getHandle(h.workflowId);
    const fresh = await waitFor(
      async () => (await latest.describe()).runId,
      (runId) => runId !== h.firstExecutionRunId,
      { what: 'a new incident run' },
    );
    expect(fresh).not.toBe(h.firstExecutionRunId);
    const s = await suite.waitFor(latest, (x) => x.engagedRoles.length > 0);
    expect(s).toMatchObject({ status: 'triggered', reopenCount: 0, alerts: { received: 1, firing: 1 } });
    // A new incident: its own id and its own pages (the first incident's idempotency keys do not silence it).
    const firstIncident = await suite.client.workflow
      .getHandle(h.workflowId, h.firstExecutionRunId)
      .query(statusQuery);
    expect(s.incidentId).not.toBe(firstIncident.incidentId);
    const pages = await waitFor(
      () => readOutbox(suite.worker.outbox.file),
      (r) => r.some((x) => x.incidentId === s.incidentId && x.kind === 'page'),
      { what: 'the new incident paged' },
    );
    expect(
      pages.filter((x) => x.incidentId === s.incidentId && x.kind === 'page').map((x) => x.target),
    ).toEqual(['oncall-primary']);
    const first = (
      await suite.client.workflow.getHandle(h.workflowId, h.firstExecutionRunId).query(timelineQuery)
    ).map((e) => e.type);
    expect(first).toContain('alert.after-close');
    await latest.signal(resolveSignal, { by: 'jo' });
  },
);

test.concurrent(
  'a more severe alert joining the incident raises its severity; a milder one never lowers it',
  async () => {
    const h = await open('alert-raises', { severity: 'P2', timeScale: 600 });
    await h.signal(alertFiredSignal, {
      alert: { fingerprint: 'stale', name: 'MarketDataStale' },
      severity: 'P2',
    });
    await h.signal(alertFiredSignal, {
      alert: { fingerprint: 'very-stale', name: 'MarketDataVeryStaleCritical' },
      severity: 'P1',
    });
    await h.signal(alertFiredSignal, { alert: { fingerprint: 'gap', name: 'OHLCVDataGap' }, severity: 'P3' });
    const s = await suite.waitFor(h, (x) => x.alerts.received === 3);
    expect(s.severity).toBe('P1');
    // Re-planned as P1: the secondary comes at 15 playbook minutes (1.5 s), not at P2's 60.
    const later = await suite.waitFor(h, (x) => x.engagedRoles.includes('oncall-secondary'), {
      what: 'P1 secondary',
    });
    const minutes =
      ((Date.parse(later.engagements.find((e) => e.role === 'oncall-secondary')!.at) -
        Date.parse(later.openedAt)) *
        600) /
      60_000;
    expect(minutes).toBeLessThan(60);
    expect(ofType(await timeline(h), 'severity')).toHaveLength(1);
    await h.signal(resolveSignal, { by: 'kim' });
    await recordHistory(h, 'alert-raises-severity');
  },
);
