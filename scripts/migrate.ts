// `npm run migrate [-- up|down [count]]`: creates the ledger database if absent and runs its migrations
// (node-pg-migrate, files in migrations/). The worker does the same at start; this is for operators.
import { parseArgs } from 'node:util';
import { ConfigError, loadEnv } from '../src/config';
import { DEFAULT_LEDGER_DATABASE_URL, migrateLedger, redactUrl } from '../src/ledger/db';

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { 'database-url': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    console.log(
      'usage: npm run migrate -- [up|down] [count] [--database-url postgres://...]\n  default: up (all pending); down: 1',
    );
    return;
  }
  const direction = positionals[0] ?? 'up';
  if (direction !== 'up' && direction !== 'down')
    throw new ConfigError(`unknown direction "${direction}" (up or down)`);
  const count =
    positionals[1] === undefined ? (direction === 'down' ? 1 : undefined) : Number(positionals[1]);
  if (count !== undefined && (!Number.isInteger(count) || count < 1))
    throw new ConfigError(`count must be a positive integer, got "${positionals[1]}"`);
  const url = values['database-url'] ?? loadEnv().LEDGER_DATABASE_URL ?? DEFAULT_LEDGER_DATABASE_URL;
  const { created, applied } = await migrateLedger(url, { direction, count });
  console.log(
    `[migrate] ${redactUrl(url)}${created ? ' (database created)' : ''}: ${direction} ${applied.length ? applied.join(', ') : '- nothing to do'}`,
  );
}

main().catch((err) => {
  console.error(`[migrate] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
