// The allow-listed commands (`cfg.commands`: a name -> an argument vector, from the deployment config) and
// the checks built on them: 3.1 step 4 container status (`docker ps`, `docker inspect`), 3.1/3.3/3.4 logs.
// The engine runs nothing else: a name missing from the allow-list is a finding `unavailable`, not a guess.
import { spawn } from 'node:child_process';
import { z } from 'zod';
import {
  DISK_FULL_PATTERN,
  LOG_ERROR_PATTERN,
  OUT_OF_MEMORY_PATTERN,
  type ContainerFacts,
  type ContainerState,
} from '../../playbook/procedures';
import type { PlatformConfig } from '../../platform/config';
import type { CheckFinding } from './finding';
import { messageOf } from './http';

export interface CommandResult {
  configured: boolean;
  ok: boolean;
  exitCode: number | null;
  stdout: string;
  stderr: string;
  error: string | null;
}

export interface InspectState {
  status: ContainerState;
  oomKilled: boolean | null;
  startedAt: string | null;
}

export function createCommandRunner(cfg: PlatformConfig) {
  function runCommand(name: string): Promise<CommandResult> {
    const argv = cfg.commands[name];
    if (!argv)
      return Promise.resolve({
        configured: false,
        ok: false,
        exitCode: null,
        stdout: '',
        stderr: '',
        error: `command "${name}" is not configured`,
      });
    const [file, ...args] = argv as [string, ...string[]];
    return new Promise((resolve) => {
      let stdout = '';
      let stderr = '';
      const cap = 1_000_000;
      // spawn with an argument vector and no shell: nothing from input is ever parsed as shell syntax.
      const child = spawn(file, args, {
        shell: false,
        timeout: cfg.commandTimeoutMs,
        stdio: ['ignore', 'pipe', 'pipe'],
        killSignal: 'SIGKILL',
      });
      child.stdout.on('data', (d: Buffer) => {
        if (stdout.length < cap) stdout += d.toString();
      });
      child.stderr.on('data', (d: Buffer) => {
        if (stderr.length < cap) stderr += d.toString();
      });
      child.on('error', (err) =>
        resolve({
          configured: true,
          ok: false,
          exitCode: null,
          stdout,
          stderr,
          error: `${file}: ${messageOf(err)}`,
        }),
      );
      child.on('close', (code, signal) =>
        resolve({
          configured: true,
          ok: code === 0,
          exitCode: code,
          stdout,
          stderr,
          error:
            code === 0
              ? null
              : signal
                ? `${file} killed by ${signal} (timeout ${cfg.commandTimeoutMs} ms?)`
                : `${file} exited ${code}: ${stderr.trim().slice(-300)}`,
        }),
      );
    });
  }

  /** `inspect:<container>`: the state, OOMKilled (3.1 memory exhaustion) and StartedAt (the restart guard). */
  async function inspectContainer(
    container: string,
  ): Promise<{ configured: boolean; state: InspectState | null; error: string | null }> {
    const r = await runCommand(`inspect:${container}`);
    if (!r.configured) return { configured: false, state: null, error: r.error };
    if (!r.ok) return { configured: true, state: null, error: r.error };
    try {
      const parsed = z
        .array(
          z.looseObject({
            State: z.looseObject({
              Status: z.string(),
              OOMKilled: z.boolean().optional(),
              StartedAt: z.string().optional(),
            }),
          }),
        )
        .min(1)
        .parse(JSON.parse(r.stdout));
      const st = parsed[0]!.State;
      return {
        configured: true,
        state: {
          status: containerState(st.Status),
          oomKilled: st.OOMKilled ?? null,
          startedAt: st.StartedAt ?? null,
        },
        error: null,
      };
    } catch (err) {
      return { configured: true, state: null, error: `unexpected docker inspect output: ${messageOf(err)}` };
    }
  }

  return { runCommand, inspectContainer };
}

export type CommandRunner = ReturnType<typeof createCommandRunner>;

function containerState(raw: string): ContainerState {
  const s = raw.toLowerCase();
  for (const st of ['running', 'exited', 'restarting', 'dead', 'paused', 'created'] as const)
    if (s.startsWith(st)) return st;
  if (s.startsWith('up')) return 'running';
  return 'unknown';
}

export function createCommandChecks({ cfg, commands }: { cfg: PlatformConfig; commands: CommandRunner }) {
  const { runCommand, inspectContainer } = commands;
  return {
    /** 3.1 step 4: container status via the allow-listed `container-status` and `inspect:<container>`. */
    async checkContainers(): Promise<CheckFinding<{ containers: ContainerFacts[] | null }>> {
      const wanted = [
        cfg.containers.apis.trading,
        cfg.containers.apis.inference,
        cfg.containers.database,
        cfg.containers.redis,
      ];
      const ps = await runCommand('container-status');
      const found = new Map<string, ContainerFacts>();
      if (ps.ok) {
        for (const line of ps.stdout.split('\n')) {
          if (!line.trim()) continue;
          try {
            const row = z
              .looseObject({ Names: z.string(), State: z.string().optional(), Status: z.string().optional() })
              .parse(JSON.parse(line));
            const name = row.Names.split(',')[0]!.replace(/^\//, '');
            if (wanted.includes(name))
              found.set(name, {
                name,
                state: containerState(row.State ?? row.Status ?? ''),
                oomKilled: null,
              });
          } catch {
            // a line that is not a container row: ignore
          }
        }
      }
      // inspect gives OOMKilled (3.1 memory exhaustion) and the state when `docker ps` is not configured.
      for (const name of wanted) {
        const ins = await inspectContainer(name);
        if (ins.state)
          found.set(name, {
            name,
            state: found.get(name)?.state ?? ins.state.status,
            oomKilled: ins.state.oomKilled,
          });
      }
      if (!ps.configured && found.size === 0) {
        return {
          check: 'containers',
          outcome: 'unavailable',
          text: 'container status: not configured (no `container-status` or `inspect:<container>` command in the allow-list)',
          data: { containers: null },
        };
      }
      if (!ps.ok && found.size === 0)
        return {
          check: 'containers',
          outcome: 'unknown',
          text: `container status failed: ${ps.error}`,
          data: { containers: null },
        };
      const containers = wanted.map(
        (n) => found.get(n) ?? { name: n, state: 'unknown' as const, oomKilled: null },
      );
      return {
        check: 'containers',
        outcome: 'answered',
        text: `containers: ${containers.map((c) => `${c.name} ${c.state}${c.oomKilled ? ' (OOM-killed)' : ''}`).join(', ')}`,
        data: { containers },
      };
    },

    /** 3.1/3.3/3.4 logs: `docker logs <c> --tail N` (allow-listed), grepped here, never through a shell. */
    async checkContainerLogs(
      container: string,
      filter: 'errors' | 'twelvedata' = 'errors',
    ): Promise<
      CheckFinding<{
        container: string;
        filter: 'errors' | 'twelvedata';
        lines: string[];
        outOfMemory: boolean;
        diskFull: boolean;
      }>
    > {
      const check = `logs:${container}`;
      const r = await runCommand(`logs:${container}`);
      const empty = { container, filter, lines: [], outOfMemory: false, diskFull: false };
      if (!r.configured)
        return {
          check,
          outcome: 'unavailable',
          text: `logs of ${container}: not configured (no \`logs:${container}\` command in the allow-list)`,
          data: empty,
        };
      if (!r.ok) return { check, outcome: 'unknown', text: `logs of ${container}: ${r.error}`, data: empty };
      const all = `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => l.trim());
      const pattern = filter === 'twelvedata' ? /twelvedata/i : LOG_ERROR_PATTERN;
      const lines = all
        .filter((l) => pattern.test(l))
        .slice(-20)
        .map((l) => l.slice(0, 500));
      const outOfMemory = all.some((l) => OUT_OF_MEMORY_PATTERN.test(l));
      const diskFull = all.some((l) => DISK_FULL_PATTERN.test(l));
      return {
        check,
        outcome: 'answered',
        text: `logs of ${container}: ${lines.length} ${filter === 'errors' ? 'ERROR/CRITICAL/Exception' : 'twelvedata'} lines${outOfMemory ? ', out of memory' : ''}${diskFull ? ', disk full' : ''}${lines.length ? `; last: ${lines[lines.length - 1]}` : ''}`,
        data: { container, filter, lines, outOfMemory, diskFull },
      };
    },
  };
}
