// Determinism under full replay: a worker without a workflow cache replays every history from the start
// at each workflow task, so any difference between the live run and its replay fails a task here. The CI
// failure that led to it: a patched() call right after a local activity answered differently on replay.
// A P0 incident goes through paging, an Update, notes, a severity change, an escalation, continue-as-new,
// resolution and close, and no workflow task of any of its runs may fail.
import type { WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { status, waitFor } from '../harness/temporal';
import { incidentSuite } from '../harness/incident-suite';
import {
  acknowledgeUpdate,
  addNoteSignal,
  escalateSignal,
  resolveSignal,
  setSeveritySignal,
  timelineQuery,
} from '../../src/workflows/definitions';

const suite = incidentSuite({ name: 'no-cache', maxCachedWorkflows: 0 });

const { EventType } = temporal.api.enums.v1;

async function failedTasks(h: WorkflowHandle, runId: string): Promise<string[]> {
  const history = await suite.client.workflow.getHandle(h.workflowId, runId).fetchHistory();
  return (
    (history.events ?? [])
      .filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)
      // The server refuses a closing task (continue-as-new) that a signal raced, so the workflow sees the
      // signal first: Temporal's own protocol, not a failure of the code.
      .filter(
        (e) =>
          e.workflowTaskFailedEventAttributes?.cause !==
          temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
      )
      .map((e) => e.workflowTaskFailedEventAttributes?.failure?.message ?? 'workflow task failed')
  );
}

test('an incident replayed at every workflow task runs from page to close, across continue-as-new', async () => {
  // 120x: eng lead at 7.5 s, CTO at 15 s; the reopen window (30 min) is 15 s. Continue-as-new after 200
  // events, which the 220 notes below pass whatever the batching (each signal is an event of its own).
  const h = await suite.client.workflow.start('incidentWorkflow', {
    taskQueue: suite.taskQueue,
    workflowId: `no-cache-${Date.now()}`,
    args: [
      {
        title: 'No-cache replay',
        severity: 'P0',
        timeScale: 120,
        policy: { continueAsNewAfterEvents: 200 },
      },
    ],
  });
  const latest = suite.client.workflow.getHandle(h.workflowId);
  const track = () => status(latest);
  await waitFor(track, (x) => x.engagedRoles.length > 0, { what: 'first page' });
  const ack = await latest.executeUpdate(acknowledgeUpdate, { args: [{ by: 'oncall-primary' }] });
  expect(ack).toMatchObject({ accepted: true });
  for (let i = 0; i < 220; i++)
    await latest.signal(addNoteSignal, { by: 'oncall-primary', text: `note ${i}` });
  await latest.signal(setSeveritySignal, { by: 'oncall-primary', severity: 'P1', reason: 'contained' });
  await latest.signal(escalateSignal, { by: 'oncall-primary', reason: 'need the eng lead now' });
  const escalated = await waitFor(track, (x) => x.engagedRoles.includes('eng-lead'), {
    timeoutMs: 60_000,
    what: 'eng lead',
  });
  expect(escalated.severity).toBe('P1');
  await waitFor(
    async () => (await latest.describe()).runId,
    (runId) => runId !== h.firstExecutionRunId,
    { timeoutMs: 60_000, what: 'continue-as-new' },
  );
  await latest.signal(resolveSignal, { by: 'oncall-primary', resolution: 'rolled back' });
  const closed = await waitFor(track, (x) => x.status === 'closed', { timeoutMs: 90_000, what: 'closed' });
  expect(closed.acknowledgedBy).toBe('oncall-primary');
  const notes = (await latest.query(timelineQuery)).filter((e) => e.type === 'note');
  expect(notes).toHaveLength(220);
  const runs: string[] = [];
  for await (const run of suite.client.workflow.list({ query: `WorkflowId = '${h.workflowId}'` }))
    runs.push(run.runId);
  expect(runs.length).toBeGreaterThan(1);
  for (const runId of runs) expect(await failedTasks(h, runId)).toEqual([]);
});
