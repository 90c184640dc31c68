// `npm run simulator -- --profile deployed`: the simulated platform on fixed ports for demos
// and manual runs of the playbook procedures. Options are validated once, here, at start-up.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { startSimulator } from './index';
import { ProfileSchema } from './schemas';

const port = z.coerce.number().int().min(0).max(65535);
const CliOptions = z.object({
  profile: ProfileSchema.default('playbook'),
  host: z.string().min(1).default('127.0.0.1'),
  tradingPort: port.default(8000),
  inferencePort: port.default(8003), // the real backtest-api's host port
  controlPort: port.default(8099),
  redisPort: port.default(8379), // the Redis relay config/simulator.yaml points the engine at
  databaseUrl: z.string().min(1).optional(),
  redisUrl: z.string().min(1).optional(),
  keepData: z.boolean().default(false),
  logger: z.boolean().default(false),
});

/** A URL to print: the password masked. */
const redact = (url: string) => url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      profile: { type: 'string' },
      host: { type: 'string' },
      'trading-port': { type: 'string' },
      'inference-port': { type: 'string' },
      'control-port': { type: 'string' },
      'redis-port': { type: 'string' },
      'database-url': { type: 'string' },
      'redis-url': { type: 'string' },
      'keep-data': { type: 'boolean' },
      log: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(
      'usage: npm run simulator -- [--profile playbook|deployed] [--host H] [--trading-port 8000] [--inference-port 8003]\n' +
        '       [--control-port 8099] [--redis-port 8379] [--database-url postgres://...] [--redis-url redis://...]\n' +
        '       [--keep-data] [--log]\n' +
        'env: SIM_PROFILE SIM_HOST SIM_TRADING_PORT SIM_INFERENCE_PORT SIM_CONTROL_PORT SIM_REDIS_PORT SIM_DATABASE_URL\n' +
        '     SIM_REDIS_URL',
    );
    return;
  }
  const env = process.env;
  const parsed = CliOptions.safeParse({
    profile: values.profile ?? env.SIM_PROFILE,
    host: values.host ?? env.SIM_HOST,
    tradingPort: values['trading-port'] ?? env.SIM_TRADING_PORT,
    inferencePort: values['inference-port'] ?? env.SIM_INFERENCE_PORT,
    controlPort: values['control-port'] ?? env.SIM_CONTROL_PORT,
    redisPort: values['redis-port'] ?? env.SIM_REDIS_PORT,
    databaseUrl: values['database-url'] ?? env.SIM_DATABASE_URL,
    redisUrl: values['redis-url'] ?? env.SIM_REDIS_URL,
    keepData: values['keep-data'],
    logger: values.log,
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      console.error(`invalid option ${issue.path.join('.')}: ${issue.message}`);
    process.exitCode = 2;
    return;
  }
  const o = parsed.data;
  const sim = await startSimulator({
    profile: o.profile,
    host: o.host,
    tradingPort: o.tradingPort,
    inferencePort: o.inferencePort,
    controlPort: o.controlPort,
    redisPort: o.redisPort,
    ...(o.databaseUrl ? { databaseUrl: o.databaseUrl } : {}),
    ...(o.redisUrl ? { redisUrl: o.redisUrl } : {}),
    resetData: !o.keepData,
    logger: o.logger,
  });
  const c = sim.controlUrl;
  console.log(`trading platform simulator (profile: ${o.profile})
  trading-api    ${sim.tradingUrl}
  inference-api  ${sim.inferenceUrl}
  fault API      ${c}/__sim  (also served under /__sim on both services)
  database       ${redact(sim.databaseUrl)}
  redis (relay)  ${redact(sim.redisUrl)}  (closed by the redisUnreachable fault)

fault API:
  curl -s ${c}/__sim/state | jq .
  curl -s -X POST ${c}/__sim/faults -H 'content-type: application/json' -d '{"killSwitch":{"reason":"Daily loss limit","activated_by":"risk_monitor"}}'
  curl -s -X POST ${c}/__sim/faults -H 'content-type: application/json' -d '{"sharpeRatio":0.25,"driftScore":0.35,"consecutiveLosses":6}'
  curl -s -X POST ${c}/__sim/faults -H 'content-type: application/json' -d '{"staleDataMinutes":45}'
  curl -s -X POST ${c}/__sim/faults -H 'content-type: application/json' -d '{"longRunningQuery":{"seconds":600}}'
  curl -s -X POST ${c}/__sim/faults -H 'content-type: application/json' -d '{"serviceDown":["trading","inference"]}'
  curl -s -X POST ${c}/__sim/faults -H 'content-type: application/json' -d '{"httpErrors":[{"service":"trading","path":"/api/v1/*","status":503}],"slowResponses":[{"path":"/api/v1/health","delayMs":3000}]}'
  curl -s -X POST ${c}/__sim/faults -H 'content-type: application/json' -d '{"redisUnreachable":true,"model":"stub","rollback":"no_target"}'
  curl -s -X DELETE ${c}/__sim/faults      # clear every fault
  curl -s -X POST ${c}/__sim/reset         # clear faults, call counts, reseed the tables`);

  const shutdown = () => {
    void sim.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error('simulator failed to start:', err);
  process.exit(1);
});
