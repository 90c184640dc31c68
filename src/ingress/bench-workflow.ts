// Baseline for `npm run bench:ingress`: the least a webhook-to-page path can cost on Temporal, i.e. a
// bare client signalWithStart of a workflow that runs one activity. Bundled by the bench script only.
import { condition, defineSignal, proxyActivities, setHandler } from '@temporalio/workflow';

export interface BenchActivities {
  benchPage(incidentId: string): Promise<void>;
}

const { benchPage } = proxyActivities<BenchActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 3 },
});
export const benchAlertSignal = defineSignal<[unknown]>('alertFired');

export async function benchBaselineWorkflow(incidentId: string): Promise<void> {
  let fired = false;
  setHandler(benchAlertSignal, () => {
    fired = true;
  });
  await condition(() => fired);
  await benchPage(incidentId);
}
