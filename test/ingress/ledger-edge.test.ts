// Issue 12 item 7 end to end: an Alertmanager alert with `\u0000` and lone surrogates in its labels and
// annotations goes through the ingress (real HTTP), the dev server and a worker with a real PostgreSQL
// ledger. Its incident row and every timeline event are written, and the 6.4 report counts it. Without the
// ingress sanitizing, PostgreSQL refuses the same text (the control below), which is how that incident went
// missing from the report.
import type { Client } from '@temporalio/client';
import { startTestWorker, testClient, uniqueTaskQueue, waitFor, type TestWorker } from '../harness/temporal';
import { statusQuery, timelineQuery } from '../../src/workflows/definitions';
import { startIngress, type RunningIngress } from '../../src/ingress/start';
import { TemporalIncidentStarter } from '../../src/ingress/starter';
import { computeReport } from '../../src/ledger/report';
import { loadReportRows } from '../../src/ledger/report-rows';
import { LedgerStore } from '../../src/ledger/store';
import { freshLedger, type TestLedger } from '../ledger/db';
import { snapshot } from '../ledger/fixtures';
import { closeAllApps, defaultRules, expectAllClean, httpClient, testConfig } from './helpers';

const TOKEN = 'ledger-edge-token-51ab';
const taskQueue = uniqueTaskQueue('ingress-ledger');

let client: Client;
let closeClient: () => Promise<void>;
let ledger: TestLedger;
let worker: TestWorker;
let ingress: RunningIngress;

beforeAll(async () => {
  ledger = await freshLedger('ingress_edge');
  ({ client, close: closeClient } = await testClient());
  worker = await startTestWorker({ taskQueue, deps: { ledger: ledger.pool } });
  ingress = await startIngress(
    testConfig({ taskQueue, timeScale: 1, bearerTokens: TOKEN, rateLimitBurst: 1000 }),
    { starter: new TemporalIncidentStarter({ taskQueue, timeoutMs: 10_000, client }), rules: defaultRules() },
  );
});

afterAll(async () => {
  await ingress?.close();
  await closeAllApps();
  await worker?.stop();
  await closeClient?.();
  await ledger?.close();
});

test('control: PostgreSQL refuses NUL in text and \\u0000 in jsonb, as the game day saw', async () => {
  const store = new LedgerStore(ledger.pool);
  const bad = snapshot({ id: 'control-nul', openedAt: '2026-01-17T10:00:00.000Z' });
  await expect(store.upsertIncident({ ...bad, title: 'svc\u0000down' })).rejects.toThrow(
    /invalid byte sequence for encoding "UTF8": 0x00|unsupported Unicode escape sequence/,
  );
});

test('a label with \\u0000 and lone surrogates: the ledger rows are written and the 6.4 report counts it', async () => {
  const openedFrom = Date.now() - 1000;
  // JSON as a sender's encoder writes it: the escapes travel on the wire as they are.
  const body = String.raw`{"version":"4","groupKey":"{}:{alertname=\"EdgeCase\"}","status":"firing","receiver":"incident-ingress",
    "truncatedAlerts":0,"externalURL":"http://alertmanager:9093","groupLabels":{},"commonLabels":{},"commonAnnotations":{},
    "alerts":[{"status":"firing",
      "labels":{"alertname":"EdgeCase\u0000Probe","severity":"critical","service":"edge\u0000svc\ud800","pod":"p\udc00od"},
      "annotations":{"summary":"feed stalled \ud83d\ude00 then \ud800 and \u0000","description":"trace\u0000\udfff"},
      "startsAt":"${new Date(openedFrom).toISOString()}","endsAt":"0001-01-01T00:00:00Z",
      "generatorURL":"http://prometheus:9090/graph?g0.expr=x\u0000","fingerprint":"edge\u0000fp"}]}`;
  const http = httpClient(ingress.app);
  const res = await http.inject({
    method: 'POST',
    url: '/v1/alerts/alertmanager',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    payload: body,
  });
  expect(res.statusCode).toBe(200);
  const { workflowId } = res.json().incidents[0];
  const handle = client.workflow.getHandle(workflowId);
  const s = await waitFor(
    () => handle.query(statusQuery),
    (x) => x.alerts.received === 1 && x.firstPagedAt !== null,
    { what: 'incident open and paged' },
  );
  expect(s.title).toBe('EdgeCase\uFFFDProbe (edge\uFFFDsvc\uFFFD): feed stalled 😀 then \uFFFD and \uFFFD');
  expectAllClean(s);

  // The incident row, and every timeline event so far, are in the ledger (the writes used to fail 93 times).
  const timeline = await handle.query(timelineQuery);
  const row = await waitFor(
    async () => {
      const inc = await ledger.pool.query('SELECT * FROM incidents WHERE id = $1', [s.incidentId]);
      const ev = await ledger.pool.query(
        'SELECT count(*)::int AS n FROM incident_events WHERE incident_id = $1',
        [s.incidentId],
      );
      return { incident: inc.rows[0] as Record<string, unknown> | undefined, events: ev.rows[0].n as number };
    },
    (x) => x.incident !== undefined && x.events >= timeline.length,
    { what: 'incident row and events in the ledger' },
  );
  expect(row.incident).toMatchObject({ title: s.title, severity: 'P1', time_scale: 1 });
  expect(JSON.stringify(row.incident?.snapshot)).toContain('edge\uFFFDsvc\uFFFD');
  const texts = (
    await ledger.pool.query('SELECT text FROM incident_events WHERE incident_id = $1 ORDER BY seq', [
      s.incidentId,
    ])
  ).rows.map((r) => r.text as string);
  expect(texts).toContain('Alert firing: EdgeCase\uFFFDProbe: feed stalled 😀 then \uFFFD and \uFFFD');

  // 6.4: the report counts it (a real incident, timeScale 1), MTTD included.
  const rows = await loadReportRows(ledger.pool, openedFrom - 60_000, Date.now() + 60_000);
  expect(rows.incidents.map((r) => r.id)).toEqual([s.incidentId]);
  const report = computeReport(rows, openedFrom - 60_000, Date.now() + 60_000);
  expect(report.incidents).toMatchObject({ total: 1, bySeverity: { P1: 1 } });
  expect(report.metrics.P1.mttd.n).toBe(1);

  await handle.terminate('test done');
});
