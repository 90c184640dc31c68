// The decision clock and the policy read, shared by incidentWorkflow and postmortemWorkflow, and the patch
// that chose ordinary activities for them.
import * as wf from '@temporalio/workflow';
import type { IncidentActivities } from '../activities';

/**
 * patched() id of the clock and policy read by ordinary activities. Asked in the run's first activation,
 * before any await: the one place that is the same workflow task on the live run and on every replay.
 * Local activities (before this patch) could resolve on replay in an earlier workflow task than on the live
 * run when a task had timed out or heartbeated, and a patched() call right after one then answered
 * differently on replay (a CI failure, 2026-11-27).
 */
export const PATCH_ACTIVITY_CLOCK = 'activity-clock-v1';

const ordinary = wf.proxyActivities<IncidentActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});
/** Only for histories recorded before PATCH_ACTIVITY_CLOCK. */
const legacyLocal = wf.proxyLocalActivities<IncidentActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 5 },
});

export type ClockActivities = Pick<IncidentActivities, 'currentTime' | 'loadPolicyOverrides'>;

/**
 * Call once, in the run's first activation, before any await. `current`: the run is recorded by this code
 * (every older patch of the workflow counts as present); `activities`: where to read the clock and policy.
 */
export function clockActivities(): { current: boolean; activities: ClockActivities } {
  const current = wf.patched(PATCH_ACTIVITY_CLOCK);
  return { current, activities: current ? ordinary : legacyLocal };
}
