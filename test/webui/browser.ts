// Finds and launches a headless Chromium for the Web UI test, with nothing downloaded at run time
// (DESIGN "Toolchain decisions"). In this order:
//   1. CHROMIUM_PATH, when set: that browser and no other (a broken explicit choice fails, it is not skipped);
//   2. Debian's `chromium` (or `chromium-browser`) on PATH;
//   3. the Chromium shipped inside the npm package @sparticuz/chromium (a devDependency, so `npm ci` brings
//      it): its brotli-compressed binary is extracted from node_modules into the temp folder once per
//      package version, then reused.
// A candidate that is present but does not launch is reported on stderr and the next one is tried; when none
// launches, the error names every attempt and what to install. Never a silent skip.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** The flags of DESIGN "Toolchain decisions": this network refuses Chromium's background connections. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  // /dev/shm is small in containers.
  '--disable-dev-shm-usage',
];

export type ChromiumSource = 'CHROMIUM_PATH' | 'PATH' | '@sparticuz/chromium';

export interface LaunchedChromium {
  browser: Browser;
  source: ChromiumSource;
  executablePath: string;
}

export const INSTALL_HINT =
  'run `npm ci` (it installs the devDependency @sparticuz/chromium, whose browser is extracted from ' +
  'node_modules, no download), or `apt-get install chromium` (Debian), or set CHROMIUM_PATH to a Chromium binary';

/** The first executable named `name` on `pathVar` (a PATH string), or null. */
export function whichOnPath(name: string, pathVar: string | undefined): string | null {
  for (const dir of (pathVar ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return null;
}

function packagedChromium(): { entry: string; binDir: string; version: string } {
  let entry: string;
  try {
    entry = require.resolve('@sparticuz/chromium');
  } catch {
    throw new Error('the npm package @sparticuz/chromium is not installed (run `npm ci`)');
  }
  // entry: <package>/build/cjs/index.cjs
  const root = path.resolve(path.dirname(entry), '..', '..');
  const { version } = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    version: string;
  };
  return { entry, binDir: path.join(root, 'bin'), version };
}

// Run in a child node: the package's extractor writes into os.tmpdir(), which reads the real environment's
// TMPDIR (a test runner's process.env is a copy, so setting it in-process would not redirect it).
const EXTRACT_SCRIPT = `
const [entry, binDir] = process.argv.slice(1);
require(entry).executablePath(binDir).then(
  (p) => process.stdout.write(p),
  (e) => { process.stderr.write(String(e && e.message || e)); process.exit(1); },
);`;

/**
 * Extracts the Chromium of @sparticuz/chromium (with its fonts and SwiftShader) from node_modules into
 * <base>/incident-response-chromium-<version>/ and returns the binary's path. The package's own extractor
 * runs with TMPDIR set to a private staging folder, renamed into place only once complete, so an
 * interrupted extraction is never reused.
 */
export function extractPackagedChromium(baseDir = os.tmpdir()): string {
  const { entry, binDir, version } = packagedChromium();
  const target = path.join(baseDir, `incident-response-chromium-${version}`);
  const binary = path.join(target, 'chromium');
  if (existsSync(binary)) return binary;
  const staging = `${target}.partial-${process.pid}-${Date.now()}`;
  mkdirSync(staging, { recursive: true });
  try {
    const r = spawnSync(process.execPath, ['-e', EXTRACT_SCRIPT, entry, binDir], {
      env: { ...process.env, TMPDIR: staging },
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.error) throw r.error;
    if (r.status !== 0)
      throw new Error(`extracting ${binDir} failed: ${r.stderr.trim() || `exit ${r.status}`}`);
    if (path.resolve(r.stdout.trim()) !== path.join(staging, 'chromium'))
      throw new Error(`@sparticuz/chromium extracted to ${r.stdout.trim()}, not into ${staging}`);
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
  try {
    renameSync(staging, target);
  } catch (err) {
    // Another process finished first: use its copy.
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(binary)) throw err;
  }
  return binary;
}

export interface FindOptions {
  env?: NodeJS.ProcessEnv;
  /** Where the packaged browser is extracted (default: the OS temp folder). */
  extractDir?: string;
  log?: (line: string) => void;
  launch?: (executablePath: string) => Promise<Browser>;
}

const defaultLaunch = (executablePath: string) =>
  chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });

/** Launches the first Chromium that works, in the order above; throws with every attempt and a hint. */
export async function launchChromium(opts: FindOptions = {}): Promise<LaunchedChromium> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const launch = opts.launch ?? defaultLaunch;
  const failures: string[] = [];
  const attempt = async (source: ChromiumSource, executablePath: string) => {
    try {
      return { browser: await launch(executablePath), source, executablePath };
    } catch (err) {
      const first = ((err as Error).message ?? String(err)).split('\n')[0];
      failures.push(`${source} ${executablePath}: ${first}`);
      return null;
    }
  };
  const fail = () =>
    new Error(`no Chromium could be launched for the Web UI test (${failures.join('; ')}): ${INSTALL_HINT}`);

  const explicit = env.CHROMIUM_PATH;
  if (explicit) {
    if (!existsSync(explicit)) failures.push(`CHROMIUM_PATH ${explicit}: no such file`);
    else {
      const got = await attempt('CHROMIUM_PATH', explicit);
      if (got) return got;
    }
    throw fail();
  }

  const onPath = whichOnPath('chromium', env.PATH) ?? whichOnPath('chromium-browser', env.PATH);
  if (onPath) {
    const got = await attempt('PATH', onPath);
    if (got) return got;
    log(`[webui] ${failures[failures.length - 1]}; trying the Chromium of @sparticuz/chromium`);
  } else failures.push('PATH: no chromium or chromium-browser');

  let packaged: string | null = null;
  try {
    packaged = extractPackagedChromium(opts.extractDir);
  } catch (err) {
    failures.push(`@sparticuz/chromium: ${(err as Error).message}`);
  }
  if (packaged) {
    const got = await attempt('@sparticuz/chromium', packaged);
    if (got) return got;
  }
  throw fail();
}
