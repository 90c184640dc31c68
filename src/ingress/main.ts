// `npm run ingress`: the alert ingress alone, for running replicas apart from the workers (README "Run in
// production"). Connects to Temporal from the TEMPORAL_* variables lazily, so it starts, and answers 503,
// while Temporal is away; SIGINT/SIGTERM close it after the requests in flight.
import { ConfigError, loadEnv } from '../config';
import { IngressConfigError, loadIngressConfig } from './config';
import { startIngress } from './start';

async function main(): Promise<void> {
  const env = loadEnv();
  // The worker's task queue unless INGRESS_TASK_QUEUE says otherwise: incidents go where workers poll.
  const config = loadIngressConfig(
    process.env,
    process.env.INGRESS_TASK_QUEUE ? {} : { taskQueue: env.INCIDENT_TASK_QUEUE },
  );
  const ingress = await startIngress(config);
  console.log(
    `[ingress] listening on ${ingress.url} for task queue ${config.taskQueue} (Temporal ${process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233'})`,
  );
  let closing = false;
  const close = (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`[ingress] ${signal}: closing`);
    ingress.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error('[ingress] close failed:', err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => close('SIGINT'));
  process.on('SIGTERM', () => close('SIGTERM'));
}

main().catch((err: Error) => {
  console.error(
    err instanceof ConfigError || err instanceof IngressConfigError ? `[ingress] ${err.message}` : err,
  );
  process.exit(1);
});
