// `npm run demo -- <scenario>`: one playbook scenario (3.1-3.4) end to end against the simulator. Injects the
// faults, opens the incident, prints findings as they appear, the Web UI link and the exact commands to
// approve or reject what the procedure asks. Needs `INCIDENT_CONFIG=config/simulator.yaml npm start`
// running in another terminal (dev server + worker pointed at the simulator's ports).
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { Finding, IncidentInput, IncidentStatus } from '../src/playbook/contract/incident';
import { statusQuery, timelineQuery } from '../src/workflows/definitions';
import { startSimulator, type FaultPatch, type Simulator } from './simulator';
import { connectClient } from '../src/temporal/connection';

interface Scenario {
  title: string;
  kind: NonNullable<IncidentInput['kind']>;
  severity: NonNullable<IncidentInput['severity']>;
  faults: FaultPatch;
  /** Wait before opening the incident (3.4: a query must run "over 1 minute", shortened in the config). */
  settleMs?: number;
  /** A pre-approval the scenario shows (the worker's config/simulator.yaml gives it). */
  preApproval?: string;
  /** What the demo does while the procedure runs (e.g. TwelveData comes back after the kill switch). */
  onTick?: (sim: Simulator, say: (line: string) => void) => Promise<void>;
}

let recovered = false;
const SCENARIOS: Record<string, Scenario> = {
  'trading-system-down': {
    title: 'Trading system down: kill switch triggered unexpectedly',
    kind: 'trading-system-down',
    severity: 'P0',
    faults: { killSwitch: { reason: 'Triggered unexpectedly', activated_by: 'risk_monitor' } },
  },
  'model-degradation': {
    title: 'Model degradation: Sharpe 0.25, 6 consecutive losses, drift PSI 0.35',
    kind: 'model-degradation',
    severity: 'P1',
    faults: { sharpeRatio: 0.25, driftScore: 0.35, consecutiveLosses: 6 },
  },
  'data-source-down': {
    title: 'Data source down: TwelveData silent for 75 minutes',
    kind: 'data-source-down',
    severity: 'P1',
    faults: { staleDataMinutes: 75, tradingPaused: {} },
    preApproval: 'kill-switch:data-outage-60m',
    async onTick(sim, say) {
      const s = await sim.state();
      if (!recovered && s.operations.kill_switch_active) {
        recovered = true;
        say(
          'simulator: TwelveData is back (fresh bars again); the procedure verifies recovery and asks to resume',
        );
        await sim.injectFault({ staleDataMinutes: 0, tradingPaused: null });
      }
    },
  },
  'database-connection': {
    title: 'Database connection issues: a long-running query',
    kind: 'database-connection',
    severity: 'P2',
    faults: { longRunningQuery: { seconds: 1800 } },
    settleMs: 7_000,
  },
};

const say = (line: string) => console.log(`[demo] ${line}`);

const USAGE = [
  `usage: npm run demo -- <${Object.keys(SCENARIOS).join('|')}>`,
  '',
  'Plays one playbook scenario against the trading platform simulator (ports 8000, 8003, 8099, 8379).',
  'Needs, in another terminal: INCIDENT_CONFIG=config/simulator.yaml npm start',
  '',
  ...Object.entries(SCENARIOS).map(([n, s]) => `  ${n.padEnd(20)} ${s.severity} ${s.title}`),
].join('\n');

async function main(): Promise<void> {
  const name = process.argv[2];
  // --help is a request, not a mistake: usage on stdout, exit 0. A missing or unknown scenario is a usage
  // error: stderr, exit 2.
  if (name === '--help' || name === '-h') {
    console.log(USAGE);
    process.exit(0);
  }
  const scenario = name ? SCENARIOS[name] : undefined;
  if (!scenario) {
    console.error(USAGE);
    process.exit(2);
  }
  const taskQueue = process.env.INCIDENT_TASK_QUEUE ?? 'incident-response';
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const ui = (process.env.TEMPORAL_UI_URL ?? 'http://127.0.0.1:8233').replace(/\/$/, '');

  let client: Client;
  try {
    client = await connectClient();
    await client.workflowService.getSystemInfo({});
  } catch (err) {
    console.error(
      `[demo] cannot connect to Temporal at ${process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233'}: ${(err as Error).message}\n` +
        '[demo] start the dev server and worker first, in another terminal:  INCIDENT_CONFIG=config/simulator.yaml npm start',
    );
    process.exit(1);
  }

  say(
    'starting the trading platform simulator (trading-api :8000, inference-api :8003, faults :8099, Redis relay :8379)',
  );
  let sim: Simulator;
  try {
    sim = await startSimulator({
      profile: 'playbook',
      tradingPort: 8000,
      inferencePort: 8003,
      controlPort: 8099,
      redisPort: 8379,
    });
  } catch (err) {
    console.error(
      `[demo] cannot start the simulator: ${(err as Error).message}\n[demo] is \`npm run simulator\` already running? stop it: the demo starts its own.`,
    );
    process.exit(1);
  }
  const stop = async () => {
    await sim.stop().catch(() => undefined);
    await client.connection.close().catch(() => undefined);
  };
  process.on('SIGINT', () => void stop().then(() => process.exit(130)));

  say(`injecting faults: ${JSON.stringify(scenario.faults)}`);
  await sim.injectFault(scenario.faults);
  if (scenario.settleMs) {
    say(`letting the symptom develop for ${scenario.settleMs / 1000} s`);
    await new Promise((r) => setTimeout(r, scenario.settleMs));
  }

  const workflowId = `demo-${name}-${new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}`;
  const handle = await client.workflow.start('incidentWorkflow', {
    taskQueue,
    workflowId,
    args: [
      {
        title: scenario.title,
        kind: scenario.kind,
        severity: scenario.severity,
        timeScale: 60,
        source: { system: 'demo' },
      },
    ],
  });
  say(
    `incident opened: ${workflowId} (${scenario.severity}, ${scenario.kind}, timeScale 60: a playbook minute per second)`,
  );
  say(`Web UI: ${ui}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}`);
  say(`worker must use the simulator config: INCIDENT_CONFIG=config/simulator.yaml npm start`);

  const outcome = await follow(handle, sim, scenario);
  say(`${outcome}. Resolve the incident when satisfied:`);
  console.log(
    `  npm run -s temporal -- workflow signal --workflow-id ${workflowId} --name resolve --input '{"by":"<you>","rootCause":"...","resolution":"..."}'`,
  );
  await stop();
}

async function follow(h: WorkflowHandle, sim: Simulator, scenario: Scenario): Promise<string> {
  let seen = 0;
  const asked = new Set<string>();
  const started = Date.now();
  let warned = false;
  let policyShown = false;
  for (;;) {
    let s: IncidentStatus;
    try {
      s = await h.query(statusQuery);
    } catch (err) {
      if (Date.now() - started > 15_000 && !warned) {
        warned = true;
        say(
          `no answer from the workflow yet (${(err as Error).message}): is the worker running on this task queue?`,
        );
      }
      await new Promise((r) => setTimeout(r, 1_000));
      continue;
    }
    // Findings from `status` (summary); older workers without it: the procedure events of the timeline.
    const findings: Pick<Finding, 'step' | 'type' | 'outcome' | 'text'>[] = Array.isArray(s.findings)
      ? s.findings
      : (await h.query(timelineQuery))
          .filter((e) => e.type.startsWith('procedure.'))
          .map((e) => ({ step: '', type: 'info' as const, outcome: null, text: e.text }));
    for (const f of findings.slice(seen)) {
      const mark =
        f.outcome === 'ok'
          ? 'ok '
          : f.outcome === 'failed'
            ? 'BAD'
            : f.outcome === 'unavailable'
              ? 'n/a'
              : f.outcome === 'unknown'
                ? ' ? '
                : ' - ';
      console.log(`  [${mark}] ${f.type.padEnd(8)} ${f.step ? `${f.step}: ` : ''}${f.text}`);
    }
    seen = findings.length;
    if (!policyShown) policyShown = await showPolicy(h, scenario);
    for (const a of s.pendingApprovals) {
      if (asked.has(a.actionId)) continue;
      asked.add(a.actionId);
      const code = a.requiresConfirmationCode ? ',"confirmationCode":"CONFIRM_RESUME"' : '';
      console.log(`\n  >>> APPROVAL NEEDED (${a.actionId}): ${a.description}`);
      console.log(
        `  approve: npm run -s temporal -- workflow signal --workflow-id ${h.workflowId} --name approve --input '{"by":"<you>","actionId":"${a.actionId}"${code}}'`,
      );
      console.log(
        `  reject:  npm run -s temporal -- workflow signal --workflow-id ${h.workflowId} --name reject --input '{"by":"<you>","actionId":"${a.actionId}","reason":"..."}'\n`,
      );
    }
    if (scenario.onTick) await scenario.onTick(sim, say);
    if (s.procedure && s.procedure.status !== 'running')
      // The summary is the procedure's own result line ("procedure completed: ..."): said once.
      return s.procedure.summary ?? `procedure ${s.procedure.status}`;
    if (!s.procedure && Date.now() - started > 20_000 && !warned) {
      warned = true;
      say('no procedure started yet: is the worker running and up to date?');
    }
    await new Promise((r) => setTimeout(r, 1_000));
  }
}

/**
 * The demo's start carries no policy (as a CLI start): the worker loads its INCIDENT_CONFIG, and the
 * procedure starts once that policy is in force. Says which one it is, and whether it pre-approves what
 * the scenario shows. False until the policy is in force.
 */
async function showPolicy(h: WorkflowHandle, scenario: Scenario): Promise<boolean> {
  const event = (await h.query(timelineQuery)).find((e) => e.type === 'policy');
  if (!event) return false;
  say(event.text);
  // From the text: an event's data leaves the incident's state once the ledger has it.
  const preApproved = /pre-approved: ([^)]*)\)/.exec(event.text)?.[1]?.split(', ') ?? [];
  if (scenario.preApproval && !preApproved.includes(scenario.preApproval))
    say(
      `the worker's policy does not pre-approve ${scenario.preApproval}: the procedure will ask for approval instead (start the worker with INCIDENT_CONFIG=config/simulator.yaml)`,
    );
  return true;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
