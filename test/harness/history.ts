// Records a finished scenario's history as a replay fixture when RECORD_HISTORIES=1
// (`npm run record-histories`); test/replay.test.ts replays every fixture against the current code.
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const HISTORY_DIR = path.resolve(__dirname, '..', 'fixtures', 'histories');
/** Fixture name -> the workflow id it ran under (workflow code reads its id; the history does not hold it). */
export const WORKFLOW_IDS_FILE = path.join(HISTORY_DIR, 'workflow-ids.json');

export function recordedWorkflowIds(): Record<string, string> {
  return existsSync(WORKFLOW_IDS_FILE)
    ? (JSON.parse(readFileSync(WORKFLOW_IDS_FILE, 'utf8')) as Record<string, string>)
    : {};
}

/**
 * Histories of a version after the 1.0 baseline go to a sub-folder named after it: RECORD_HISTORIES_VERSION
 * (e.g. `1.1-deliveries-local-first`). The baseline at the top is never rewritten by a later design.
 */
export async function recordHistory(handle: WorkflowHandle, fixture: string): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  const version = process.env.RECORD_HISTORIES_VERSION;
  if (version !== undefined && !/^[0-9][\w.-]*$/.test(version))
    throw new Error(`RECORD_HISTORIES_VERSION=${version}: a version like 1.1-short-name`);
  const name = version ? `${version}/${fixture}` : fixture;
  mkdirSync(path.dirname(path.join(HISTORY_DIR, name)), { recursive: true });
  // Fixtures of earlier versions are the proof that running incidents still replay: never overwritten
  // unless asked (RECORD_HISTORIES=overwrite).
  if (existsSync(path.join(HISTORY_DIR, `${name}.json`)) && process.env.RECORD_HISTORIES !== 'overwrite') return;
  const history = await handle.fetchHistory();
  writeFileSync(path.join(HISTORY_DIR, `${name}.json`), historyToJSON(history));
  const ids = { ...recordedWorkflowIds(), [name]: handle.workflowId };
  writeFileSync(
    WORKFLOW_IDS_FILE,
    `${JSON.stringify(Object.fromEntries(Object.entries(ids).sort()), null, 2)}\n`,
  );
}
