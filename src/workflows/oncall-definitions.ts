// The Temporal surface of the on-call roster (DESIGN "On-call"): Updates and the query by name.
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type {
  AddOverrideInput,
  CancelOverrideInput,
  OncallResult,
  RosterView,
} from '../playbook/contract/oncall';

/** `addOverride {role, person: {name, ...}, from, to, by, reason?, via?}`: accepted with its id, or refused. */
export const addOverrideUpdate = defineUpdate<OncallResult, [AddOverrideInput]>('addOverride');
/** `cancelOverride {id, by, reason?, via?}`. */
export const cancelOverrideUpdate = defineUpdate<OncallResult, [CancelOverrideInput]>('cancelOverride');
/** `overrides` -> {overrides: in force or to come, changes: the audit}. */
export const rosterQuery = defineQuery<RosterView>('overrides');
