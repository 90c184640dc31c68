// 3.1 Trading System Down end to end on the dev server: every row of the resolution table, and the
// unintentionally active kill switch -> resume request, against the simulator and the fake docker.
import type { WorkflowHandle } from '@temporalio/client';
import { uniqueTaskQueue, waitFor } from '../harness/temporal';
import { decide, platformConfig, procState, procedureSuite, resultOf, waitForApproval } from './helpers';

const taskQueue = uniqueTaskQueue('proc-3-1');
/** Nothing answers: the APIs on a closed port, docker failing (daemon down), PostgreSQL not connecting. */
const unreachableQueue = uniqueTaskQueue('proc-3-1-unreachable');
const fails = ['/bin/sh', '-c', 'echo "Cannot connect to the Docker daemon" >&2; exit 1'];
const suite = procedureSuite({
  database: 'usdcop_proc_3_1',
  workers: {
    [taskQueue]: (p) => p.platform,
    [unreachableQueue]: (p) =>
      platformConfig('playbook', p.sim, p.docker, {
        services: {
          trading: { baseUrl: 'http://127.0.0.1:1' },
          inference: { baseUrl: 'http://127.0.0.1:1' },
        },
        database: { url: 'postgres://postgres@127.0.0.1:1/usdcop' },
        commands: Object.fromEntries(
          Object.keys(p.docker.commands()).map((name) => [
            name,
            name.startsWith('restart:') ? ['/bin/true'] : fails,
          ]),
        ),
      }),
  },
  resetDocker: true,
});

const start = (name: string) =>
  suite.start(taskQueue, 'tradingSystemDownProcedure', name, { kind: 'trading-system-down', severity: 'P0' });
const causes = async (h: WorkflowHandle) =>
  (await procState(h)).events
    .filter((e) => e.step === '3.1 resolution' && e.data?.cause)
    .map((e) => e.data!.cause);

test('API container crashed: restart trading-api inference-api (approved) through the allow-list, verified healthy', async () => {
  await suite.p.sim.injectFault({ serviceDown: ['trading'] });
  suite.p.docker.update((s) => {
    s.containers['trading-api']!.state = 'exited';
    s.onRestart = { 'trading-api': { serviceDown: [] } };
  });
  const h = await start('crashed');
  const actionId = await waitForApproval(h, 'restart');
  expect(await causes(h)).toEqual(['api-container-crashed']);
  expect((await procState(h)).pendingApproval?.description).toContain('Restart trading-api, inference-api');
  await decide(h, actionId, 'approved', 'oncall');
  const r = await resultOf(h);
  expect(r).toMatchObject({
    outcome: 'completed',
    summary: expect.stringContaining('API container crashed'),
  });
  expect(suite.p.docker.read().restarts).toEqual(['trading-api', 'inference-api']);
  const s = await procState(h);
  expect(s.events.find((e) => e.step === '3.1 verify: system status: trading-api health')?.outcome).toBe(
    'ok',
  );
});

test("an API reporting the database disconnected while the engine's SELECT 1 answers: no PostgreSQL restart, a human step", async () => {
  await suite.p.sim.injectFault({ databaseDisconnected: true });
  const h = await start('database');
  expect((await resultOf(h)).outcome).toBe('needs-human');
  const s = await procState(h);
  expect(s.approvals).toEqual([]);
  expect(
    s.events.some((e) => /report the database disconnected while the engine's SELECT 1 answers/.test(e.text)),
  ).toBe(true);
  expect(suite.p.docker.read().restarts).toEqual([]);
});

test('Model file corrupted: rollback to the previous model version (approved), verified by the router status', async () => {
  await suite.p.sim.injectFault({ model: 'stub' });
  const h = await start('model');
  const actionId = await waitForApproval(h, 'rollback');
  expect(await causes(h)).toEqual(['model-file-corrupted']);
  await decide(h, actionId, 'approved', 'mlead');
  expect((await resultOf(h)).outcome).toBe('completed');
  expect((await suite.p.sim.state()).applied.rollback).toBe(1);
});

test('Memory exhaustion: restart the OOM-killed container, then the memory-leak check is left to a human', async () => {
  await suite.p.sim.injectFault({ serviceDown: ['inference'] });
  suite.p.docker.update((s) => {
    s.containers['inference-api'] = {
      ...s.containers['inference-api']!,
      state: 'exited',
      oomKilled: true,
      logs: ['ERROR worker died', 'MemoryError: Unable to allocate 2.1 GiB'],
    };
    s.onRestart = { 'inference-api': { serviceDown: [] } };
  });
  const h = await start('memory');
  const actionId = await waitForApproval(h, 'restart');
  expect(await causes(h)).toEqual(['memory-exhaustion']);
  await decide(h, actionId, 'approved', 'oncall');
  expect((await resultOf(h)).outcome).toBe('completed');
  expect(suite.p.docker.read().restarts).toEqual(['inference-api']);
  expect(
    (await procState(h)).events.some(
      (e) => e.text === 'human step: check for memory leaks (memory growth of the restarted containers)',
    ),
  ).toBe(true);
});

test('Network partition: timeouts while the containers run -> check/recreate the Docker network (human step), no restart', async () => {
  await suite.p.sim.injectFault({
    slowResponses: [{ service: 'trading', path: '/api/v1/health', delayMs: 3_000 }],
  });
  const h = await start('partition');
  const r = await resultOf(h);
  expect(r.outcome).toBe('needs-human');
  expect(await causes(h)).toEqual(['network-partition']);
  expect((await procState(h)).events.some((e) => e.text.startsWith('human step: Check Docker network'))).toBe(
    true,
  );
  expect(suite.p.docker.read().restarts).toEqual([]);
});

test('kill switch active unintentionally (everything else healthy): resume request needing CONFIRM_RESUME, approved -> resumed', async () => {
  await suite.p.sim.injectFault({
    killSwitch: { reason: 'Consecutive losses', activated_by: 'risk_monitor' },
  });
  const h = await start('kill-switch');
  const actionId = await waitForApproval(h, 'resume');
  const pending = (await procState(h)).pendingApproval!;
  expect(pending.requiresConfirmationCode).toBe(true);
  expect(pending.description).toMatch(/lift the kill switch set by risk_monitor at \S+: Consecutive losses/);
  // Straight to the child, an approval without the code (or for a request never made) does nothing.
  await decide(h, actionId, 'approved', 'tlead');
  await decide(h, 'resume-99', 'approved', 'tlead', undefined, 'CONFIRM_RESUME');
  await waitFor(
    () => procState(h),
    (x) => x.events.filter((e) => e.text.startsWith('ignored')).length === 2,
    { what: 'both decisions ignored' },
  );
  expect((await procState(h)).pendingApproval?.actionId).toBe(actionId);
  expect((await suite.p.sim.state()).calls.resume).toBe(0);
  await decide(h, actionId, 'approved', 'tlead', undefined, 'CONFIRM_RESUME');
  expect((await resultOf(h)).outcome).toBe('completed');
  const st = await suite.p.sim.state();
  expect(st.applied.resume).toBe(1);
  expect(st.operations.kill_switch_active).toBe(false);
});

test('a healthy platform: no row applies, nothing is done', async () => {
  const h = await start('healthy');
  expect((await resultOf(h)).outcome).toBe('needs-human');
  expect(await causes(h)).toEqual([]);
  const st = await suite.p.sim.state();
  expect(Object.values(st.calls).reduce((a, b) => a + b, 0)).toBe(0);
});

test('an unreachable platform gets no remediation: no restart, no rollback, no resume requested', async () => {
  const h = await suite.start(unreachableQueue, 'tradingSystemDownProcedure', 'unreachable', {
    kind: 'trading-system-down',
    severity: 'P0',
  });
  const r = await resultOf(h);
  expect(r.outcome).toBe('needs-human');
  const s = await procState(h);
  expect(s.approvals).toEqual([]);
  expect(s.events.some((e) => e.step.startsWith('approval:'))).toBe(false);
  const steps = s.events.filter((e) => e.text.startsWith('human step: could not verify')).map((e) => e.text);
  expect(steps.join('\n')).toMatch(/could not verify trading-api/);
  expect(steps.join('\n')).toMatch(/could not verify the database/);
  expect(s.events.some((e) => e.type === 'action')).toBe(false);
});
