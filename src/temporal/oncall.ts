// The on-call roster workflow runs once per namespace: started by a worker at start-up (or by the first
// override), never twice (its id is fixed).
import type { Client } from '@temporalio/client';
import { ONCALL_WORKFLOW_ID, ONCALL_WORKFLOW_TYPE } from '../playbook/contract/oncall';

export async function ensureOncallRoster(client: Client, taskQueue: string): Promise<void> {
  await client.workflow.start(ONCALL_WORKFLOW_TYPE, {
    workflowId: ONCALL_WORKFLOW_ID,
    taskQueue,
    args: [{}],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    staticSummary: 'On-call roster: runtime overrides and shift changes',
  });
}
