// Section 4 templates as the channels receive them, on a real dev server: 4.1 "On-Call" names the paged role
// and the person the rotation gives it now; 4.3 lists the follow-ups known at resolution and the post-mortem.
import { readOutbox } from '../../src/activities/notify/outbox';
import { parseContactConfig } from '../../src/playbook/contacts';
import { resolvePlatformConfig } from '../../src/platform/config';
import { waitFor } from '../harness/temporal';
import { incidentSuite } from '../harness/incident-suite';
import { procedureEventSignal, resolveUpdate } from '../../src/workflows/definitions';

// One person holds oncall-primary for every week (a one-person rotation), so the name is known at any time.
const contacts = parseContactConfig({
  rotations: { 'oncall-primary': { people: [{ name: 'Ana Ruiz' }], startDate: '2026-01-05' } },
});

// A trading platform that answers nothing (every port closed), so a procedure's checks are all unknown at once.
const nowhere = 'http://127.0.0.1:1';
const platform = resolvePlatformConfig({
  overrides: {
    services: { trading: { baseUrl: nowhere }, inference: { baseUrl: nowhere } },
    database: { url: 'postgres://postgres@127.0.0.1:1/usdcop' },
    redis: { url: 'redis://127.0.0.1:1' },
    commands: {},
  },
});

const suite = incidentSuite({ name: 'communications', deps: { contacts, platform } });

const open = suite.startIncident;

test('4.1 On-Call: the role this page is for, with the rota person; a P3 names team-lead, not oncall-primary', async () => {
  const p1 = await open('on-call-p1', { severity: 'P1', timeScale: 1 });
  const p3 = await open('on-call-p3', { severity: 'P3', timeScale: 1 });
  const pages = await waitFor(
    () => readOutbox(suite.worker.outbox.file),
    (r) =>
      r.some((x) => x.incidentId.startsWith(p1.workflowId) && x.kind === 'page') &&
      r.some((x) => x.incidentId.startsWith(p3.workflowId) && x.kind === 'page'),
    { what: 'the first pages' },
  );
  const p1Page = pages.find((x) => x.incidentId.startsWith(p1.workflowId) && x.kind === 'page')!;
  expect(p1Page.text).toContain('**On-Call**: @oncall-primary (Ana Ruiz)');
  const p3Page = pages.find((x) => x.incidentId.startsWith(p3.workflowId) && x.kind === 'page')!;
  expect(p3Page.text).toContain('**On-Call**: @team-lead');
  expect(p3Page.text).not.toContain('@oncall-primary');
  await Promise.all([p1.terminate(), p3.terminate()]);
});

test('4.3 lists the human steps a procedure left, and the post-mortem it opens', async () => {
  const h = await open('follow-ups', { severity: 'P1', timeScale: 1 });
  // What a procedure child reports (procedureEvent): a step the playbook leaves to a person.
  await h.signal(procedureEventSignal, {
    procedure: '3.1 trading-system-down',
    step: '3.1 resolution: Network partition',
    type: 'decision',
    outcome: 'unknown',
    text: 'human step: Check Docker network (`docker network inspect`), recreate if needed',
  });
  await h.executeUpdate(resolveUpdate, { args: [{ by: 'ana', resolution: 'network recreated' }] });
  const out = await waitFor(
    () => readOutbox(suite.worker.outbox.file),
    (r) => r.some((x) => x.incidentId.startsWith(h.workflowId) && x.kind === 'resolved'),
    { what: 'the 4.3 message' },
  );
  const text = out.find((x) => x.incidentId.startsWith(h.workflowId) && x.kind === 'resolved')!.text;
  expect(text).toContain(
    '- [ ] 3.1 resolution: Network partition: Check Docker network (`docker network inspect`), recreate if needed',
  );
  expect(text).toMatch(
    /\*\*Post-mortem\*\*: workflow postmortem-follow-ups-\d+@\S+ \(opens when the reopen window closes\)/,
  );
  await h.terminate();
});

test("the procedure's end reaches the channel with its human steps; the 30-minute page after it carries the findings", async () => {
  // P0 trading-system-down at 600x: the 3.1 diagnosis ends within a second (nothing answers), the CTO page of
  // playbook minute 30 comes 3 s after opening.
  const h = await open('findings-in-pages', { severity: 'P0', kind: 'trading-system-down', timeScale: 600 });
  const mine = (r: Awaited<ReturnType<typeof readOutbox>>) =>
    r.filter((x) => x.incidentId.startsWith(h.workflowId));
  const out = await waitFor(
    async () => mine(await readOutbox(suite.worker.outbox.file)),
    (r) =>
      r.some((x) => x.target === 'cto' && x.kind === 'page') &&
      r.some((x) => x.step.startsWith('procedure-result-')),
    { what: 'the CTO page and the procedure result', timeoutMs: 30_000 },
  );
  const first = out.find((x) => x.target === 'oncall-primary' && x.kind === 'page')!;
  expect(first.text).toContain('- Investigating');
  const result = out.find((x) => x.step.startsWith('procedure-result-'))!;
  expect(result.target).toBe('channel');
  expect(result.text).toMatch(/procedure needs-human/);
  expect(result.text).toMatch(/- \[ \] 3\.1 diagnosis: could not verify trading-api/);
  const cto = out.find((x) => x.target === 'cto' && x.kind === 'page')!;
  expect(Date.parse(cto.createdAt)).toBeGreaterThan(Date.parse(result.createdAt));
  expect(cto.text).toMatch(/- Procedure tradingSystemDownProcedure needs-human/);
  expect(cto.text).toMatch(/- Needs a human: 3\.1 diagnosis: could not verify trading-api/);
  expect(cto.text).not.toContain('- Investigating');
  await h.terminate();
});

test('3.3 "Activate kill switch, notify team": the procedure\'s notify event goes out on the channel', async () => {
  const h = await open('notify-team', { severity: 'P1', timeScale: 1 });
  // As the 3.3 procedure reports it after the kill switch (data-source-down.ts).
  await h.signal(procedureEventSignal, {
    procedure: '3.3 data-source-down',
    step: '3.3 mitigation: notify team',
    type: 'action',
    outcome: 'ok',
    text: 'kill switch active: data source down 75 minutes',
    data: { notify: 'team' },
  });
  const out = await waitFor(
    () => readOutbox(suite.worker.outbox.file),
    (r) => r.some((x) => x.incidentId.startsWith(h.workflowId) && x.step.startsWith('procedure-notify-')),
    { what: 'the notify-team message' },
  );
  const m = out.find((x) => x.incidentId.startsWith(h.workflowId) && x.step.startsWith('procedure-notify-'))!;
  expect(m).toMatchObject({ target: 'channel', kind: 'info' });
  expect(m.text).toContain(
    '**3.3 mitigation: notify team**: kill switch active: data source down 75 minutes',
  );
  await h.terminate();
});
