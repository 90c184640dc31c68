// Records a finished scenario's history as a replay fixture when RECORD_HISTORIES=1
// (`npm run record-histories`); test/replay.test.ts replays every fixture against the current code.
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const HISTORY_DIR = path.resolve(__dirname, '..', 'fixtures', 'histories');

export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (!process.env.RECORD_HISTORIES) return;
  mkdirSync(HISTORY_DIR, { recursive: true });
  const history = await handle.fetchHistory();
  writeFileSync(path.join(HISTORY_DIR, `${name}.json`), historyToJSON(history));
}
