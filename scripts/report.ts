// `npm run report [-- --since 2026-11-01] [--until 2026-12-01] [--format text|json] [--include-drills] [--database-url ...]`
// The 6.4 metrics report from the incident ledger. Dates are COT calendar days (America/Bogota); the
// period is [since 00:00 COT, until 00:00 COT), until defaulting to now. Without --since, the period is the
// last 7 days (the 7 x 24 h before until), and the output says so.
import { parseArgs } from 'node:util';
import { ConfigError, loadEnv } from '../src/config';
import { createLedgerPool, DEFAULT_LEDGER_DATABASE_URL, redactUrl } from '../src/ledger/db';
import { computeReport, cotDayStart, formatReport } from '../src/ledger/report';
import { loadReportRows } from '../src/ledger/report-rows';

/** The period when --since is absent: the last 7 days (7 x 24 h before until). */
const DEFAULT_PERIOD_DAYS = 7;
const DAY_MS = 86_400_000;

const USAGE =
  'usage: npm run report [-- --since YYYY-MM-DD] [--until YYYY-MM-DD] [--format text|json] [--include-drills] [--database-url postgres://...]\n' +
  `  --since defaults to ${DEFAULT_PERIOD_DAYS} days before --until (the last ${DEFAULT_PERIOD_DAYS} days when --until is absent)`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      since: { type: 'string' },
      until: { type: 'string' },
      format: { type: 'string', default: 'text' },
      'include-drills': { type: 'boolean', default: false },
      'database-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  if (values.format !== 'text' && values.format !== 'json')
    throw new ConfigError(`--format must be text or json\n${USAGE}`);
  let sinceMs: number;
  let untilMs: number;
  try {
    untilMs = values.until ? cotDayStart(values.until) : Date.now();
    sinceMs = values.since ? cotDayStart(values.since) : untilMs - DEFAULT_PERIOD_DAYS * DAY_MS;
  } catch (err) {
    throw new ConfigError(`${(err as Error).message}\n${USAGE}`);
  }
  if (untilMs <= sinceMs) throw new ConfigError('--until must be after --since');
  // Said in the output: on stdout before the text report, on stderr beside JSON (stdout stays pure JSON).
  const periodNote = values.since
    ? null
    : `No --since given: the last ${DEFAULT_PERIOD_DAYS} days, ${values.until ? `before ${values.until} 00:00 COT` : 'until now'} (--since YYYY-MM-DD for another period).`;

  const url = values['database-url'] ?? loadEnv().LEDGER_DATABASE_URL ?? DEFAULT_LEDGER_DATABASE_URL;
  const pool = createLedgerPool(url, { max: 1 });
  try {
    const rows = await loadReportRows(pool, sinceMs, untilMs).catch((err: Error) => {
      throw new Error(
        `cannot read the ledger at ${redactUrl(url)}: ${err.message} (run \`npm run migrate\` or start the worker once)`,
      );
    });
    const report = computeReport(rows, sinceMs, untilMs, { includeDrills: values['include-drills'] });
    if (values.format === 'json') {
      if (periodNote) console.error(periodNote);
      console.log(JSON.stringify(report, null, 2));
    } else console.log(periodNote ? `${periodNote}\n${formatReport(report)}` : formatReport(report));
  } finally {
    await pool.end();
  }
}

main().catch((err) => {
  console.error(`[report] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
