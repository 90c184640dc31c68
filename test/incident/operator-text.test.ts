// A NUL from an operator on a real dev server with the PostgreSQL ledger: `addNote` signalled through the
// client with "before\u0000after" (what `temporal workflow signal` sends for that JSON) is recorded with U+FFFD,
// every later ledger write lands (the incident row follows the acknowledgement and the resolution), and the
// history does not grow with failed writes.
import { waitFor } from '../harness/temporal';
import { incidentSuite } from '../harness/incident-suite';
import {
  acknowledgeUpdate,
  addNoteSignal,
  resolveUpdate,
  timelineQuery,
} from '../../src/workflows/definitions';
import { freshLedger, type TestLedger } from '../ledger/db';

let ledger: TestLedger;

const suite = incidentSuite({
  name: 'operator-text',
  deps: async () => {
    ledger = await freshLedger('operator_text');
    return { ledger: ledger.pool };
  },
});
afterAll(() => ledger?.close());

test('a NUL in addNote: recorded as U+FFFD, the ledger keeps up, the incident carries on', async () => {
  const h = await suite.client.workflow.start('incidentWorkflow', {
    taskQueue: suite.taskQueue,
    workflowId: `nul-note-${Date.now()}`,
    args: [{ title: 'NUL note', severity: 'P2', timeScale: 600 }],
  });
  const { incidentId } = await suite.waitFor(h, (s) => s.engagedRoles.length > 0, { what: 'first page' });
  await h.signal(addNoteSignal, { by: 'tctl\u0000user', text: 'before\u0000after \u202Egnp.exe' });
  await h.executeUpdate(acknowledgeUpdate, { args: [{ by: 'ana' }] });
  const events = await waitFor(
    () => h.query(timelineQuery),
    (t) => t.some((e) => e.type === 'note'),
    { what: 'the note' },
  );
  expect(events.find((e) => e.type === 'note')).toMatchObject({
    actor: 'tctl\uFFFDuser',
    text: 'before\uFFFDafter gnp.exe',
  });
  const row = () =>
    ledger.pool
      .query<{ status: string; mtta_seconds: number | null }>(
        'SELECT status, mtta_seconds FROM incidents WHERE id = $1',
        [incidentId],
      )
      .then((r) => r.rows[0]);
  await waitFor(row, (r) => r?.status === 'acknowledged', { what: 'the ledger row acknowledged' });
  const notes = await ledger.pool.query<{ text: string; actor: string }>(
    `SELECT text, actor FROM incident_events WHERE incident_id = $1 AND type = 'note'`,
    [incidentId],
  );
  expect(notes.rows).toEqual([{ actor: 'tctl\uFFFDuser', text: 'before\uFFFDafter gnp.exe' }]);
  await h.executeUpdate(resolveUpdate, { args: [{ by: 'ana', resolution: 'fixed' }] });
  await waitFor(row, (r) => r?.status === 'resolved', { what: 'the ledger row resolved' });
  const t = await h.query(timelineQuery);
  expect(t.filter((e) => e.type === 'side-effect.failed' || e.type === 'ledger.failed')).toEqual([]);
  expect((await h.describe()).historyLength).toBeLessThan(150);
});
