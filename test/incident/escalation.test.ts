// 2.3 escalation matrix on a real dev server with compressed time: the roles engaged, in order, at the
// scaled times, and nothing after resolution.
import { ESCALATION_MATRIX } from '../../src/playbook/escalation';
import type { Severity } from '../../src/playbook/severity';
import type { IncidentStatus } from '../../src/playbook/contract/incident';
import { resolveSignal } from '../../src/workflows/definitions';
import { readOutbox } from '../../src/activities/notify/outbox';
import { recordHistory } from '../harness/history';
import { status } from '../harness/temporal';
import { incidentSuite } from '../harness/incident-suite';

const suite = incidentSuite({ name: 'escalation' });

/** Real seconds a step may fire late (workflow task latency on a loaded 2-core machine). */
const LATE_SECONDS = 1.5;

function playbookMinutes(s: IncidentStatus, atIso: string): number {
  return ((Date.parse(atIso) - Date.parse(s.openedAt)) * s.timeScale) / 60_000;
}

async function open(id: string, severity: Severity, timeScale: number) {
  return suite.client.workflow.start('incidentWorkflow', {
    taskQueue: suite.taskQueue,
    workflowId: `${id}-${Date.now()}`,
    args: [{ title: `${severity} escalation schedule`, severity, timeScale }],
  });
}

test.concurrent.each([
  ['P0', 300],
  ['P1', 300],
  ['P2', 600],
] as [Severity, number][])(
  '%s: every step of the matrix at its scaled time, in order',
  async (severity, timeScale) => {
    const steps = ESCALATION_MATRIX[severity];
    const last = steps[steps.length - 1];
    const h = await open(`schedule-${severity}`, severity, timeScale);
    const s = await suite.waitFor(h, (x) => x.engagedRoles.length === steps.length, {
      timeoutMs: ((last.afterMinutes * 60) / timeScale + 10) * 1000,
      what: `all ${severity} steps`,
    });
    expect(s.engagedRoles).toEqual(steps.flatMap((st) => st.roles));
    steps.forEach((step, i) => {
      const at = playbookMinutes(s, s.engagements[i].at);
      expect(at).toBeGreaterThanOrEqual(step.afterMinutes);
      expect(at).toBeLessThan(step.afterMinutes + (LATE_SECONDS * timeScale) / 60);
    });
    expect(s.nextEscalation).toBeNull();
    await h.signal(resolveSignal, { by: 'oncall-primary' });
    await recordHistory(h, `escalation-${severity}`);
  },
);

test.concurrent('P3: the team lead only, nobody later', async () => {
  const h = await open('schedule-P3', 'P3', 600);
  const s = await suite.waitFor(h, (x) => x.engagedRoles.length > 0);
  expect(s.engagedRoles).toEqual(['team-lead']);
  expect(s.nextEscalation).toBeNull();
  // P3 response is the next business day: never earlier than 18:00 COT of a later day.
  expect(Date.parse(s.sla.responseDeadline)).toBeGreaterThan(Date.parse(s.openedAt));
  await new Promise((r) => setTimeout(r, 2000));
  expect((await status(h)).engagedRoles).toEqual(['team-lead']);
});

test.concurrent('resolution cancels the steps still to come', async () => {
  const timeScale = 300; // P1: secondary at 3 s, eng lead at 6 s, trading lead at 12 s
  const h = await open('cancel-P1', 'P1', timeScale);
  await suite.waitFor(h, (x) => x.engagedRoles.includes('oncall-secondary'), { what: 'secondary' });
  await h.signal(resolveSignal, { by: 'oncall-secondary', resolution: 'restarted inference-api' });
  const resolved = await suite.waitFor(h, (x) => x.status === 'resolved');
  expect(resolved.nextEscalation).toBeNull();
  // Past the eng lead (30 min) and trading lead (60 min) times.
  await new Promise((r) =>
    setTimeout(r, (60 * 60 * 1000) / timeScale - (Date.now() - Date.parse(resolved.openedAt)) + 1500),
  );
  const later = await status(h);
  expect(later.engagedRoles).toEqual(['oncall-primary', 'oncall-secondary']);
  const roles = (await readOutbox(suite.worker.outbox.file))
    .filter((r) => r.incidentId.startsWith(`${h.workflowId}@`) && r.kind === 'page')
    .map((r) => r.target);
  expect(roles.sort()).toEqual(['oncall-primary', 'oncall-secondary']);
  await recordHistory(h, 'resolution-cancels-escalation');
});
