import { testClient, startTestWorker, uniqueTaskQueue, status, waitFor } from '../harness/temporal';
import { readOutbox } from '../../src/activities/notify/outbox';

test('smoke: P0 opens, pages, acks, resolves', async () => {
  const taskQueue = uniqueTaskQueue('smoke');
  const w = await startTestWorker({ taskQueue });
  const { client, close } = await testClient();
  try {
    const h = await client.workflow.start('incidentWorkflow', {
      taskQueue,
      workflowId: `smoke-${Date.now()}`,
      args: [{ title: 'API down', severity: 'P0', timeScale: 600 }],
    });
    const s1 = await waitFor(() => status(h), (s) => s.engagedRoles.length >= 2, { what: 'eng-lead' });
    console.log(JSON.stringify(s1, null, 2));
    await h.signal('acknowledge', { by: 'oncall-primary' });
    await h.signal('resolve', { by: 'oncall-primary' });
    const s2 = await waitFor(() => status(h), (s) => s.status === 'resolved');
    console.log(s2.metrics, await h.query('timeline'));
    console.log(await readOutbox(w.outbox.file));
  } finally {
    await close();
    await w.stop();
  }
});
