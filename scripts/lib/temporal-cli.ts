// Finds the Temporal CLI (dev server + Web UI) without downloading a binary (DESIGN "Toolchain decisions"):
// TEMPORAL_CLI_PATH, `temporal` on PATH, the project's own build in .temporal/bin, or a `go install` build.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const CLI_BUILD_DIR = path.join(PROJECT_ROOT, '.temporal', 'bin');

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return null;
}

export function findTemporalCli(): { path: string; source: string } | null {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file`);
    return { path: fromEnv, source: 'TEMPORAL_CLI_PATH' };
  }
  const found = onPath('temporal');
  if (found) return { path: found, source: 'PATH' };
  const built = path.join(CLI_BUILD_DIR, 'temporal');
  if (isExecutable(built)) return { path: built, source: 'project build (.temporal/bin)' };
  return null;
}

function findGo(): string | null {
  return onPath('go') ?? (isExecutable('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : null);
}

/** Builds the CLI with `go install` into .temporal/bin, printing progress; the first build takes minutes. */
export async function buildTemporalCli(
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<string> {
  await goInstall(TEMPORAL_CLI_MODULE, CLI_BUILD_DIR, 'temporal-cli', log);
  return path.join(CLI_BUILD_DIR, 'temporal');
}

/**
 * `go install module@version` into `gobin` with progress every 20 s (Go modules come from the module proxy;
 * nothing else is downloaded). Used for the CLI and for `npm run cluster`'s server, schema tool and UI.
 */
export async function goInstall(
  module: string,
  gobin: string,
  label: string,
  log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Promise<void> {
  const go = findGo();
  if (!go) {
    throw new Error(
      [
        `Go is needed to build ${module} (nothing is downloaded as a binary).`,
        'Do one of:',
        '  - install Go 1.24 or newer (Debian: `apt-get install golang-go`, or /usr/local/go), then run this again;',
        ...(label === 'temporal-cli'
          ? [
              '  - put a `temporal` binary (CLI v1.5.x) on PATH;',
              '  - set TEMPORAL_CLI_PATH=/path/to/temporal.',
            ]
          : []),
      ].join('\n'),
    );
  }
  mkdirSync(gobin, { recursive: true });
  log(`[${label}] building ${module} with ${go} into ${gobin} (first build: several minutes on 2 cores)`);
  const started = Date.now();
  const ticker = setInterval(
    () => log(`[${label}] still building... ${Math.round((Date.now() - started) / 1000)}s`),
    20_000,
  );
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(go, ['install', module], {
        env: { ...process.env, GOBIN: gobin, GOFLAGS: process.env.GOFLAGS ?? '-buildvcs=false' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const relay = (chunk: Buffer) =>
        chunk
          .toString()
          .split('\n')
          .filter((l) => l.trim())
          .forEach((l) => log(`[go] ${l}`));
      child.stdout.on('data', relay);
      child.stderr.on('data', relay);
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0
          ? resolve()
          : reject(new Error(`go install ${module} failed with exit code ${code}; see the [go] lines above`)),
      );
    });
  } finally {
    clearInterval(ticker);
  }
  log(`[${label}] built in ${Math.round((Date.now() - started) / 1000)}s`);
}

export async function ensureTemporalCli(log?: (line: string) => void): Promise<string> {
  return findTemporalCli()?.path ?? (await buildTemporalCli(log));
}

export function runCliSync(cli: string, args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cli, args, { encoding: 'utf8' });
  return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
