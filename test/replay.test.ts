// Replays every recorded history (test/fixtures/histories, written by `npm run record-histories`) against
// the current workflow code: a change that would break running incidents fails here (non-determinism).
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { HISTORY_DIR, WORKFLOW_IDS_FILE, recordedWorkflowIds } from './harness/history';

const fixtures = readdirSync(HISTORY_DIR)
  .filter((f) => f.endsWith('.json') && path.join(HISTORY_DIR, f) !== WORKFLOW_IDS_FILE)
  .sort();
const workflowIds = recordedWorkflowIds();

test('there are recorded histories to replay', () => {
  expect(fixtures.length).toBeGreaterThanOrEqual(8);
});

test('every recorded incident history replays deterministically', async () => {
  const histories = fixtures.map((file) => ({
    workflowId: workflowIds[path.basename(file, '.json')] ?? path.basename(file, '.json'),
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
