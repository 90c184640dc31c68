// Bare Temporal workflows the benchmarks measure the engine against: the least the same job can cost on
// Temporal with nothing of ours in the bundle. Bundled by the bench scripts only (never by the worker).
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

export interface BenchActivities {
  benchPage(incidentId: string): Promise<void>;
}

const { benchPage } = proxyActivities<BenchActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});
export const benchAlertSignal = defineSignal<[unknown]>('alertFired');
export const benchAcknowledgeSignal = defineSignal<[unknown]>('acknowledge');

/** `npm run bench:ingress`: a bare client signalWithStart of a workflow that runs one activity. */
export async function benchBaselineWorkflow(incidentId: string): Promise<void> {
  let fired = false;
  setHandler(benchAlertSignal, () => {
    fired = true;
  });
  await condition(() => fired);
  await benchPage(incidentId);
}

export interface BarePagerInput {
  id: string;
  /** Real milliseconds between re-pages while unacknowledged. */
  repageMs: number;
}

/**
 * `npm run bench:scale`: the shape of an open incident with nothing of ours: page at once, then re-page on a
 * timer until an `acknowledge` signal arrives. Its first round (start, page, the task after it) and a
 * re-page round (timer, page, the task after it) are what the incident's are compared with.
 */
export async function barePagerWorkflow(input: BarePagerInput): Promise<void> {
  let acknowledged = false;
  setHandler(benchAcknowledgeSignal, () => {
    acknowledged = true;
  });
  await benchPage(input.id);
  while (!acknowledged) {
    if (await condition(() => acknowledged, input.repageMs)) break;
    await benchPage(input.id);
  }
}
