// `npm run check:rules`: the engine's own Prometheus alert rules (config/prometheus) checked with promtool:
// syntax (check rules), the example scrape config (check config), and the rules' unit tests (test rules).
// promtool is built once from the Go module proxy (github.com/prometheus/prometheus/cmd/promtool) into
// .temporal/tools, like the Temporal CLI: nothing is downloaded as a binary. PROMTOOL_PATH uses another.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { goInstall, isExecutable, PROJECT_ROOT } from './lib/temporal-cli';

export const PROMTOOL_MODULE = 'github.com/prometheus/prometheus/cmd/promtool@v0.316.0';
const TOOLS_DIR = path.join(PROJECT_ROOT, '.temporal', 'tools');
const RULES_DIR = path.join(PROJECT_ROOT, 'config', 'prometheus');

async function ensurePromtool(): Promise<string> {
  const given = process.env.PROMTOOL_PATH;
  if (given) {
    if (!isExecutable(given)) throw new Error(`PROMTOOL_PATH=${given} is not an executable file`);
    return given;
  }
  const built = path.join(TOOLS_DIR, 'promtool');
  if (!isExecutable(built)) await goInstall(PROMTOOL_MODULE, TOOLS_DIR, 'promtool');
  return built;
}

async function main(): Promise<void> {
  const promtool = await ensurePromtool();
  const steps: [string, string[]][] = [
    ['check rules', ['check', 'rules', 'engine-rules.yml']],
    ['check config', ['check', 'config', 'prometheus.yml']],
    ['test rules', ['test', 'rules', 'engine-rules.test.yml']],
  ];
  for (const [what, args] of steps) {
    const r = spawnSync(promtool, args, { cwd: RULES_DIR, encoding: 'utf8' });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
    if (r.status !== 0) {
      console.error(`[check:rules] promtool ${what} failed:\n${out}`);
      process.exit(1);
    }
    console.log(`[check:rules] promtool ${what}: ok`);
  }
}

main().catch((err: Error) => {
  console.error(`[check:rules] ${err.message}`);
  process.exit(1);
});
