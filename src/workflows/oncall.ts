// oncallRoster: the runtime overrides of the 2.1 roles, durable and audited (every change is an Update in this
// workflow's history, with who and through what), and the shift-change notice at each handover. Who a role is
// stays the paging activity's answer at send time (rotation, config overrides, these overrides).
import * as wf from '@temporalio/workflow';
import type { IncidentActivities } from '../activities';
import {
  addOverrideSchema,
  cancelOverrideSchema,
  type RuntimeOverride,
  type OncallChange,
} from '../playbook/contract/oncall';
import {
  addOverride,
  cancelOverride,
  emptyRoster,
  prune,
  rosterView,
  type RosterCore,
} from '../playbook/oncall';
import { DELIVERY } from './activity-options';
import { addOverrideUpdate, cancelOverrideUpdate, rosterQuery } from './oncall-definitions';
import { errorMessage } from './util';

const announce = wf.proxyActivities<IncidentActivities>(DELIVERY);
const plan = wf.proxyActivities<IncidentActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute' },
});

/** Events after which the roster continues as new. */
const HISTORY_LIMIT = 2_000;
/** With no handover ahead, the plan is looked at again after this (the config may change with a deploy). */
const RECHECK_MS = 6 * 3600 * 1000;

export interface OncallRosterInput {
  carried?: { overrides: RuntimeOverride[]; changes: OncallChange[]; seq: number };
}

export async function oncallRoster(input: OncallRosterInput = {}): Promise<void> {
  const core: RosterCore = input.carried
    ? { overrides: input.carried.overrides, changes: input.carried.changes, seq: input.carried.seq }
    : emptyRoster();
  let changed = false;

  wf.setHandler(
    addOverrideUpdate,
    (raw) => {
      changed = true;
      return addOverride(core, addOverrideSchema.parse(raw), Date.now());
    },
    { validator: (raw) => void addOverrideSchema.parse(raw) },
  );
  wf.setHandler(
    cancelOverrideUpdate,
    (raw) => {
      changed = true;
      return cancelOverride(core, cancelOverrideSchema.parse(raw), Date.now());
    },
    { validator: (raw) => void cancelOverrideSchema.parse(raw) },
  );
  wf.setHandler(rosterQuery, () => rosterView(core, Date.now()));

  for (;;) {
    prune(core, Date.now());
    if (wf.workflowInfo().continueAsNewSuggested || wf.workflowInfo().historyLength >= HISTORY_LIMIT) {
      await wf.condition(wf.allHandlersFinished);
      return wf.continueAsNew<typeof oncallRoster>({ carried: core });
    }
    changed = false;
    const next = await plan.oncallNextHandover({
      at: new Date(Date.now()).toISOString(),
      overrides: core.overrides,
    });
    const wait = next ? Math.max(1, Date.parse(next.at) - Date.now()) : RECHECK_MS;
    if (await wf.condition(() => changed, Math.min(wait, RECHECK_MS))) continue;
    if (!next || Date.now() < Date.parse(next.at)) continue;
    try {
      await announce.announceHandover({ at: next.at, overrides: core.overrides });
    } catch (err) {
      wf.log.warn('oncallRoster: the shift-change notice failed', { error: errorMessage(err) });
    }
  }
}
