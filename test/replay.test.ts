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
});

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
test('baseline incident histories schedule the first page in the first workflow task', () => {
  const problems: string[] = [];
  for (const file of fixtures.filter(
    (f) => !path.basename(f).startsWith('postmortem') && !f.includes('-child'),
  )) {
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORY_DIR, file), 'utf8')));
    const events = history.events ?? [];
    const firstDone = events.findIndex((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    // Signals and Updates delivered with the start come first; then the first command: the page.
    const messages = [
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
      EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED,
    ];
    const next = events.slice(firstDone + 1).find((e) => !messages.includes(e.eventType!));
    if (file.includes('/')) {
      // 1.1: the patch marker, then the first page scheduled in that same task: the outbox's local activity
      // (its marker, recorded when it completes, may land in a later task; it names its schedule time) or a
      // channel's activity.
      // Before the next task started (the worker's clock stamps the marker, the server's the events).
      const nextTask = events.find(
        (e, i) => i > firstDone && e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
      );
      const doneAt = nextTask ? timeOf(nextTask) : Infinity;
      const first = events.find(
        (e) =>
          localActivityType(e) === 'deliverNotifications' ||
          e.activityTaskScheduledEventAttributes?.activityType?.name === 'deliverNotifications',
      );
      const scheduledAt = first?.markerRecordedEventAttributes
        ? localActivityScheduledAt(first)
        : first
          ? timeOf(first)
          : undefined;
      if (
        next?.markerRecordedEventAttributes?.markerName !== 'core_patch' ||
        scheduledAt === undefined ||
        scheduledAt > doneAt
      )
        problems.push(`${file}: first page scheduled at ${scheduledAt}, next task started at ${doneAt}`);
    } else if (next?.activityTaskScheduledEventAttributes?.activityType?.name !== 'deliverNotifications')
      problems.push(
        `${file}: the first command is ${next?.eventType} ${next?.activityTaskScheduledEventAttributes?.activityType?.name ?? ''}`,
      );
  }
  expect(problems).toEqual([]);
});

// 1.1 histories: the same incidents recorded with the outbox written by a local activity (one at a time) and the
// incident opened at its run's start; each has its patch marker, and its outbox writes are local activities.
test('1.1 histories carry the patch and write the outbox by local activity', () => {
  const v11 = fixtures.filter(
    (f) => f.startsWith('1.1-local-outbox/') && !f.includes('postmortem') && !f.includes('-child'),
  );
  expect(v11.length).toBeGreaterThanOrEqual(15);
  const problems: string[] = [];
  for (const file of v11) {
    const events =
      historyFromJSON(JSON.parse(readFileSync(path.join(HISTORY_DIR, file), 'utf8'))).events ?? [];
    const patch = events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch');
    const local = events.filter((e) => localActivityType(e) === 'deliverNotifications').length;
    const clockActivities = events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'currentTime',
    ).length;
    if (!patch || local === 0 || clockActivities > 0)
      problems.push(`${file}: patch ${patch}, local ${local}, clock ${clockActivities}`);
  }
  expect(problems).toEqual([]);
});

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
interface LocalActivityMarker {
  activity_type?: string;
  original_schedule_time?: { seconds?: number | string; nanos?: number };
}

/** What core records of a local activity in its marker's `data` payload; undefined for any other event. */
function localActivityMarker(e: HistoryEvent): LocalActivityMarker | undefined {
  const a = e.markerRecordedEventAttributes;
  if (a?.markerName !== 'core_local_activity') return undefined;
  const data = a.details?.data?.payloads?.[0]?.data;
  if (!data) return undefined;
  try {
    return JSON.parse(Buffer.from(data).toString('utf8')) as LocalActivityMarker;
  } catch {
    return undefined;
  }
}

const localActivityType = (e: HistoryEvent) => localActivityMarker(e)?.activity_type;

function localActivityScheduledAt(e: HistoryEvent): number | undefined {
  const t = localActivityMarker(e)?.original_schedule_time;
  return t ? Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6) : undefined;
}

const timeOf = (e: HistoryEvent) =>
  Number(e.eventTime?.seconds ?? 0) * 1000 + Math.floor((e.eventTime?.nanos ?? 0) / 1e6);
