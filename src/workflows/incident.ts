// incidentWorkflow: one incident, from the first alert to close (DESIGN "Lifecycle rules"). A thin
// interpreter of the pure lifecycle core (src/playbook/lifecycle): every handler and timer feeds one input to
// decide(state, input, now), and the effects it returns run here as activities, child workflows and signals.
// Time without a clock activity: decisions are taken against the decision clock in the state, which moves
// to a timer's target when it fires and to the worker time that deliveries report (both in history), so a
// late timer catches up in one step. Date.now() (the workflow task's time) only stamps what people do.
// Why not Date.now() for decisions: the first workflow task a new worker runs after the previous worker was
// SIGKILLed and its task timed out reads the time of the task before on the live run, but the right time on
// replay (test/incident/worker-kill.test.ts recorded it: a re-page decided on it did not replay).
import * as wf from '@temporalio/workflow';
import { nextIncident } from '../playbook/lifecycle/after-close';
import { nextWakeup } from '../playbook/lifecycle/due';
import {
  carriedState,
  openState,
  PATCHES,
  snapshot,
  stripContinued,
  type IncidentState,
  type IncidentWorkflowInput,
  type PatchKey,
} from '../playbook/lifecycle/state';
import { incidentInputSchema, type IncidentInput, type IncidentStatus } from '../playbook/contract/incident';
import { formatIssues } from '../playbook/contract/payload';
import { registerHandlers } from './incident/handlers';
import { continueAsNewDue, historyNow, Visibility } from './incident/history';
import { IncidentShell } from './incident/shell';
import { WakeupTimer } from './incident/wakeup';

// 1.1 (CHANGELOG): a new incident's opening time from its start event.
const PATCH_OPENED_AT = 'opened-at-start-event-v1';

export async function incidentWorkflow(rawInput: IncidentWorkflowInput): Promise<IncidentStatus> {
  const input = startInput(rawInput);
  // State first, then every handler, all before the first await, so a query, signal or update that arrives
  // with the start is served.
  const shell = new IncidentShell(firstState(rawInput, input), input.policy ?? {});
  registerHandlers(shell);
  // The first workflow task: the first page (or, carried on, what the run before had not delivered).
  shell.step({ type: rawInput.continued ? 'resume' : 'open' });
  await mainLoop(shell, input);
  return close(shell, input);
}

/** The start input, validated: a bad start must say why; the workflow fails at once instead of paging with garbage. */
function startInput(rawInput: IncidentWorkflowInput): IncidentInput {
  const parsed = incidentInputSchema.safeParse(stripContinued(rawInput));
  if (parsed.success) return parsed.data;
  if (rawInput.continued) return stripContinued(rawInput) as IncidentInput;
  throw wf.ApplicationFailure.nonRetryable(
    `invalid incidentWorkflow input: ${formatIssues(parsed.error.issues)}`,
    'InvalidIncidentInput',
  );
}

/**
 * The state a run starts from: carried from the run before, or a new incident's.
 * Behind PATCH_OPENED_AT: a new incident opens at its start event (when the alert reached Temporal), not at
 * its first workflow task, so a backlog of new incidents does not push every matrix step and target later.
 * `startTime` is that event's time, from history; not `runStartTime`, which is the time of the first
 * activation the worker runs (it differed on a replay without cache: test/incident/no-cache and
 * TEST_MAX_CACHED_WORKFLOWS=0 caught it). The next incident after a close (continue-as-new without state)
 * opens at its first task, as before. Asked once, before anything else.
 */
function firstState(rawInput: IncidentWorkflowInput, input: IncidentInput): IncidentState {
  const startInfo = wf.workflowInfo();
  const openedAtStartEvent = wf.patched(PATCH_OPENED_AT) && !startInfo.continuedFromExecutionRunId;
  if (rawInput.continued) return carriedState(rawInput.continued);
  const s = openState(input, {
    openedAt: openedAtStartEvent ? startInfo.startTime.getTime() : Date.now(),
    workflowId: startInfo.workflowId,
    carriedAlerts: rawInput.carriedAlerts ?? [],
    // The core's later behaviour changes, asked once when an incident opens (state.ts PATCHES): a run
    // carried on from an older one keeps what that one had.
    patches: Object.fromEntries(
      (Object.entries(PATCHES) as [PatchKey, string][]).map(([key, id]) => [key, wf.patched(id)]),
    ),
  });
  // The worker's /metrics gets one `incidents_opened_total` per incident (a continued run opens nothing).
  wf.metricMeter
    .createCounter(
      'incidents_opened_total',
      'incidents',
      'Incidents opened, by severity and kind (a continue-as-new run is the same incident).',
    )
    .add(1, { severity: s.severity, kind: s.kind });
  return s;
}

/** Waits for an input or the next due time, until the incident closes; continues as new when history is long. */
async function mainLoop(shell: IncidentShell, input: IncidentInput): Promise<void> {
  const visibility = new Visibility();
  const timer = new WakeupTimer(() => (shell.dirty = true));
  for (;;) {
    shell.step({ type: 'tick' });
    visibility.sync(shell.s);
    shell.step({ type: 'ledger.flush', force: false });
    if (shell.s.status === 'closed') return;
    if (continueAsNewDue(shell.s, historyNow())) await continueAsNew(shell, input);
    timer.set(nextWakeup(shell.s, shell.s.clock));
    shell.dirty = false;
    await wf.condition(() => shell.dirty);
    const fired = timer.fired();
    if (fired !== null) shell.step({ type: 'clock', at: fired });
  }
}

async function continueAsNew(shell: IncidentShell, input: IncidentInput): Promise<never> {
  // Give side effects a moment; deliveries still running (a channel down) go to the next run.
  if (shell.inflight.size > 0) await wf.condition(() => shell.inflight.size === 0, '10 seconds');
  await wf.condition(wf.allHandlersFinished);
  shell.step({ type: 'ledger.flush', force: true });
  if (shell.s.ledgerBusy) await wf.condition(() => !shell.s.ledgerBusy, '10 seconds');
  const continued: IncidentState = { ...shell.s, undelivered: shell.undelivered() };
  return wf.continueAsNew<typeof incidentWorkflow>({ ...input, continued });
}

/** Closed: the post-mortem starts, the ledger gets the last of it, and late alerts open the next incident. */
async function close(shell: IncidentShell, input: IncidentInput): Promise<IncidentStatus> {
  shell.step({ type: 'postmortem' });
  await shell.postmortem;
  shell.step({ type: 'ledger.flush', force: true });
  await Promise.allSettled([...shell.inflight]);
  await wf.condition(wf.allHandlersFinished);
  // Anything recorded while draining (late failures, alerts after close).
  shell.step({ type: 'ledger.flush', force: true });
  await Promise.allSettled([...shell.inflight]);
  const next = nextIncident(input, shell.s);
  if (next) await wf.continueAsNew<typeof incidentWorkflow>(next);
  return snapshot(shell.s, null);
}
