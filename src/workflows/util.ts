// What the workflows share that needs the Temporal workflow API (the pure helpers live in src/playbook).
import * as wf from '@temporalio/workflow';

/** The message that explains a failure: an activity's cause rather than "Activity task failed". */
export function errorMessage(err: unknown): string {
  if (err instanceof wf.ActivityFailure && err.cause) return errorMessage(err.cause);
  if (err instanceof Error) return err.message;
  return String(err);
}
