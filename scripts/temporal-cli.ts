// `npm run temporal -- <args>`: the Temporal CLI, found or built without downloading a binary.
// `npm run temporal -- --ensure` only makes sure it exists (CI) and prints its path.
import { spawn } from 'node:child_process';
import { ensureTemporalCli } from './lib/temporal-cli';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const cli = await ensureTemporalCli();
  if (args[0] === '--ensure') {
    console.log(cli);
    return;
  }
  // The dev server of `npm start` listens on 127.0.0.1 ("localhost" may resolve to ::1 first).
  const env = { ...process.env, TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233' };
  const child = spawn(cli, args, { stdio: 'inherit', env });
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

main().catch((err: Error) => {
  console.error(`[temporal-cli] ${err.message}`);
  process.exit(1);
});
