// The Temporal surface of postmortemWorkflow (playbook 6.1-6.3): its signals, Updates and query by name. The
// payloads are the contract in src/playbook/contract/postmortem.ts.
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type {
  ActionItemDoneInput,
  CompletePostmortemInput,
  PostmortemActionResult,
  PostmortemStatus,
} from '../playbook/contract/postmortem';

export const completePostmortemSignal = defineSignal<[unknown]>('completePostmortem');
export const actionItemDoneSignal = defineSignal<[unknown]>('actionItemDone');

export const completePostmortemUpdate = defineUpdate<PostmortemActionResult, [CompletePostmortemInput]>(
  'completePostmortem',
);
export const actionItemDoneUpdate = defineUpdate<PostmortemActionResult, [ActionItemDoneInput]>(
  'actionItemDone',
);

export const postmortemStatusQuery = defineQuery<PostmortemStatus>('postmortemStatus');
