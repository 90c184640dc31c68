// Replays every recorded history (test/fixtures/histories, written by `npm run record-histories`) against
// the current workflow code: a change that would break running incidents fails here (non-determinism).
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HISTORY_DIR, WORKFLOW_IDS_FILE, recordedWorkflowIds } from './harness/history';

// Top level: recorded by the current code. Sub-folders: earlier versions (local-activity-clock/: before the
// clock and policy were ordinary activities), kept so the patched() branches for running incidents stay proven.
const fixtures = (readdirSync(HISTORY_DIR, { recursive: true }) as string[])
  .filter((f) => f.endsWith('.json') && path.join(HISTORY_DIR, f) !== WORKFLOW_IDS_FILE)
  .sort();
const workflowIds = recordedWorkflowIds();
const { EventType } = temporal.api.enums.v1;
const nameOf = (file: string) => file.replace(/\.json$/, '');

test('there are recorded histories to replay, of the current code and of earlier versions', () => {
  expect(fixtures.filter((f) => !f.includes('/')).length).toBeGreaterThanOrEqual(8);
  expect(fixtures.filter((f) => f.startsWith('local-activity-clock/')).length).toBeGreaterThanOrEqual(8);
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

// Why the current code has no local activities: a local activity's result could reach the workflow on replay
// in an earlier workflow task than on the live run (a task that timed out or heartbeated while it ran), and
// a patched() call after it then answered differently (the CI failure of 2026-11-27). Runs recorded by the
// current code read the clock and policy through ordinary activities and ask patched() in their first
// workflow task only, the one place where live run and replay always agree.
test('histories of the current code: no local activity, and patch markers only in the first workflow task', () => {
  const current = fixtures.filter((f) => !f.includes('/'));
  const problems: string[] = [];
  for (const file of current) {
    const history = historyFromJSON(JSON.parse(readFileSync(path.join(HISTORY_DIR, file), 'utf8')));
    let completedTasks = 0;
    for (const e of history.events ?? []) {
      if (e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) completedTasks++;
      const marker = e.markerRecordedEventAttributes?.markerName;
      if (marker === 'core_local_activity') problems.push(`${file}: local activity at event ${e.eventId}`);
      if (marker === 'core_patch' && completedTasks > 1)
        problems.push(`${file}: patch marker after the first workflow task, at event ${e.eventId}`);
    }
  }
  expect(current.length).toBeGreaterThan(0);
  expect(problems).toEqual([]);
});
