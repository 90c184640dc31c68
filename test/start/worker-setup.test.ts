// What `npm run worker` says before it polls: the channels it pages on, the ledger, the platform, and a
// warning where the platform is only the playbook's default hosts or a secret's variable is missing.
import { resolvePlatformConfig } from '../../src/platform/config';
import { setupSummary } from '../../src/worker';

const base = {
  channels: { outbox: 'file data/outbox.jsonl', slack: 'Web API, #trading-incidents' },
  ledger: 'postgres://postgres:s3cret@127.0.0.1:5432/incident_ledger',
};

test('an unconfigured platform is said at start, with the hosts the procedures would probe', () => {
  const lines = setupSummary({
    ...base,
    platform: resolvePlatformConfig(),
    platformConfigured: false,
    env: {},
  });
  expect(lines[0]).toBe('channels: outbox (file data/outbox.jsonl), slack (Web API, #trading-incidents)');
  expect(lines[1]).toMatch(/^ledger: postgres:\/\/postgres:\*+@127\.0\.0\.1:5432\/incident_ledger$/);
  expect(lines.join('\n')).not.toContain('s3cret');
  expect(lines[2]).toContain('platform: profile playbook, trading http://trading-api:8000');
  expect(lines.some((l) => l.startsWith('WARNING: no `platform` section'))).toBe(true);
});

test('a configured platform: no warning, unless a secret variable is missing (named, never its value)', () => {
  const platform = resolvePlatformConfig({
    profile: 'deployed',
    overrides: {
      services: {
        trading: {
          baseUrl: 'http://10.0.0.5:8000',
          auth: { scheme: 'x-api-key', secretEnv: 'TRADING_API_KEY' },
        },
      },
      redis: { url: 'redis://redis:6379', passwordEnv: 'REDIS_PASSWORD' },
    },
  });
  const ok = setupSummary({
    ...base,
    ledger: null,
    platform,
    platformConfigured: true,
    env: { TRADING_API_KEY: 'k', REDIS_PASSWORD: 'p' },
  });
  expect(ok.filter((l) => l.startsWith('WARNING'))).toEqual([]);
  expect(ok[1]).toContain('ledger: none');
  expect(ok[2]).toContain('profile deployed, trading http://10.0.0.5:8000');
  const missing = setupSummary({
    ...base,
    platform,
    platformConfigured: true,
    env: { TRADING_API_KEY: 'k' },
  });
  expect(missing.filter((l) => l.startsWith('WARNING'))).toEqual([
    'WARNING: these variables are not set, so those checks will answer unknown: redis.passwordEnv REDIS_PASSWORD',
  ]);
});
