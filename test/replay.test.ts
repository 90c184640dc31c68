// Replays every recorded history (test/fixtures/histories, written by `npm run record-histories`) against
// the current workflow code: a change that would break running incidents fails here (non-determinism).
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HISTORY_DIR, WORKFLOW_IDS_FILE, recordedWorkflowIds } from './harness/history';

// The 1.0 baseline (CHANGELOG): recorded by the current design. From here on every workflow change goes behind
// patched() and keeps these histories replaying; a changed design records new ones beside them, in a
// sub-folder named after the version they prove.
const fixtures = (readdirSync(HISTORY_DIR, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.json') && path.join(HISTORY_DIR, f) !== WORKFLOW_IDS_FILE)
  .sort();
const workflowIds = recordedWorkflowIds();
const { EventType } = temporal.api.enums.v1;
const nameOf = (file: string) => file.replace(/\.json$/, '');

test('there are recorded histories to replay', () => {
  expect(fixtures.filter((f) => !f.includes('/')).length).toBeGreaterThanOrEqual(8);
});

// Its own bound: every recorded history (90 and growing) replays in one worker, about a minute on a quiet
// machine, more while the rest of the suite's worker processes wind down.
test('every recorded incident history replays deterministically', async () => {
  const histories = fixtures.map((file) => ({
    workflowId: workflowIds[nameOf(file)] ?? path.basename(file, '.json'),
    history: historyFromJSON(JSON.parse(readFileSync(path.join(HISTORY_DIR, file), 'utf8'))),
  }));
  const failures: string[] = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: { codePath: process.env.WORKFLOW_BUNDLE_PATH! } },
    histories,
  )) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
}, 300_000);

// The baseline has no local activity, no patch marker and no clock activity: time-based decisions take the
// decision clock (timer targets, times that deliveries report), so a history is what the code does.
test('baseline histories: no local activity, no patch marker, no clock activity', () => {
  const problems: string[] = [];
  for (const file of fixtures.filter((f) => !f.includes('/'))) {
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORY_DIR, file), 'utf8')));
    for (const e of history.events ?? []) {
      const marker = e.markerRecordedEventAttributes?.markerName;
      if (marker === 'core_local_activity') problems.push(`${file}: local activity at event ${e.eventId}`);
      if (marker === 'core_patch') problems.push(`${file}: patch marker at event ${e.eventId}`);
      const activity = e.activityTaskScheduledEventAttributes?.activityType?.name;
      if (activity === 'currentTime') problems.push(`${file}: clock activity at event ${e.eventId}`);
    }
  }
  expect(problems).toEqual([]);
});

// The first page goes out in the first workflow task: the incident's first completed task schedules it.
test('incident histories schedule the first page in the first workflow task', () => {
  const problems: string[] = [];
  for (const file of fixtures.filter(
    (f) => !path.basename(f).startsWith('postmortem') && !f.includes('-child'),
  )) {
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORY_DIR, file), 'utf8')));
    const events = history.events ?? [];
    // Heartbeat monitors and the outbound ping are no incidents.
    const type = events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
    if (type !== 'incidentWorkflow') continue;
    const firstDone = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    // Signals and Updates delivered with the start come first; then the first command: the page.
    // A later version's histories (a sub-folder) start with their patch markers.
    const messages = [
      EventType.EVENT_TYPE_MARKER_RECORDED,
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED,
    ];
    // ...and the SDK's upsert of TemporalChangeVersion beside each patch marker.
    if (file.includes('/')) messages.push(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES);
    const next = events.slice(firstDone + 1).find((e) => !messages.includes(e.eventType!));
    if (next?.activityTaskScheduledEventAttributes?.activityType?.name !== 'deliverNotifications')
      problems.push(
        `${file}: the first command is ${next?.eventType} ${next?.activityTaskScheduledEventAttributes?.activityType?.name ?? ''}`,
      );
  }
  expect(problems).toEqual([]);
});

// 1.1: the incident opens at its run's start (behind `opened-at-start-event-v1`); still no local activity.
test('1.1 histories carry their patch and no local activity', () => {
  const v11 = fixtures.filter((f) => f.startsWith('1.1-opened-at-start-event/'));
  expect(v11.filter((f) => !f.includes('postmortem')).length).toBeGreaterThanOrEqual(15);
  const problems: string[] = [];
  for (const file of v11.filter((f) => !f.includes('postmortem') && !f.includes('-child'))) {
    const events =
      historyFromJSON(JSON.parse(readFileSync(path.join(HISTORY_DIR, file), 'utf8'))).events ?? [];
    const markers = events.map((e) => e.markerRecordedEventAttributes?.markerName).filter(Boolean);
    if (!markers.includes('core_patch')) problems.push(`${file}: no patch marker`);
    if (markers.includes('core_local_activity')) problems.push(`${file}: a local activity`);
  }
  expect(problems).toEqual([]);
});

test('1.2 histories: an acknowledgement from PagerDuty carries the no-echo patch and schedules no PagerDuty delivery for it', () => {
  const file = '1.2-two-way-channels/pagerduty-ack-no-echo.json';
  expect(fixtures).toContain(file);
  const events = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORY_DIR, file), 'utf8'))).events ?? [];
  const text = (p: { data?: Uint8Array | null } | undefined) => Buffer.from(p?.data ?? []).toString('utf8');
  const patches = events
    .flatMap((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? [])
    .map((p) => JSON.parse(text(p)) as { id: string });
  expect(patches.map((p) => p.id)).toContain('no-echo-to-origin-v1');
  // The acknowledgement arrived as an Update from PagerDuty, and no delivery of its "ACK" went to PagerDuty.
  const update = events.find((e) => e.workflowExecutionUpdateAcceptedEventAttributes);
  expect(
    text(update?.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.args?.payloads?.[0]),
  ).toContain('"channel":"pagerduty"');
  const deliveries = events
    .map((e) => e.activityTaskScheduledEventAttributes)
    .filter((a) => a?.activityType?.name === 'deliverNotifications')
    .map((a) => text(a?.input?.payloads?.[0]) + text(a?.input?.payloads?.[1]));
  expect(deliveries.some((d) => d.includes('"pagerduty"') && d.includes('"kind":"acknowledged"'))).toBe(
    false,
  );
  expect(deliveries.some((d) => d.includes('"kind":"acknowledged"'))).toBe(true);
});

// 1.3: the incidents carry this round's patches; the guarded resume procedures carry theirs, and their
// histories show the resume withdrawn at the call (no resume activity completed with a platform call).
test('1.3 histories carry their patches; the guarded resume procedures withdrew without a platform call', () => {
  const text = (p: { data?: Uint8Array | null } | undefined) => Buffer.from(p?.data ?? []).toString('utf8');
  const read = (file: string) =>
    historyFromJSON(JSON.parse(readFileSync(path.join(HISTORY_DIR, file), 'utf8'))).events ?? [];
  const patchesOf = (file: string) =>
    read(file)
      .flatMap((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? [])
      .map((p) => (JSON.parse(text(p)) as { id: string }).id);
  const v13 = fixtures.filter((f) => f.startsWith('1.3-remediation-safety/'));
  expect(v13.length).toBeGreaterThanOrEqual(20);
  expect(patchesOf('1.3-remediation-safety/escalation-P1.json')).toEqual(
    expect.arrayContaining(['procedure-after-policy-v1', 'paging-floor-v1', 'ledger-backoff-v1']),
  );
  const replaced = '1.3-remediation-safety/procedure-3.1-resume-replaced-activation-child.json';
  expect(patchesOf(replaced)).toContain('unique-action-ids-v1');
  const stale = '1.3-remediation-safety/procedure-3.3-resume-stale-again-child.json';
  expect(patchesOf(stale)).toEqual(
    expect.arrayContaining(['data-recovery-guards-v1', 'unique-action-ids-v1']),
  );
  for (const file of [replaced, stale]) {
    const results = read(file)
      .map((e) => e.activityTaskCompletedEventAttributes?.result?.payloads?.[0])
      .filter(Boolean)
      .map((p) => text(p));
    expect(results.some((r) => r.includes('"refused"'))).toBe(true);
  }
});

// 1.5: heartbeat monitors (a silence, its clearing, two silences, a worker kill, continue-as-new under steady
// beats) and the engine's outbound ping replay with the rest.
test('1.5 histories hold the heartbeat monitors and the outbound ping; the steady-beat run continued as new', () => {
  const v15 = fixtures.filter((f) => f.startsWith('1.5-heartbeats/'));
  const typeOf = (file: string) => {
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORY_DIR, file), 'utf8')));
    return {
      type: history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name,
      last: history.events?.at(-1)?.eventType,
    };
  };
  const types = v15.map((f) => typeOf(f).type);
  expect(types.filter((t) => t === 'heartbeatMonitor').length).toBeGreaterThanOrEqual(4);
  expect(types).toContain('engineHeartbeat');
  expect(typeOf('1.5-heartbeats/heartbeat-continue-as-new.json').last).toBe(
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
  );
});
