// docs/channels.md shows a complete deployment config: it must load as written (with the secrets from the
// environment), and mean what it says.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { deploymentPolicy, loadDeploymentConfig } from '../../src/config';

const doc = readFileSync(path.resolve(__dirname, '../../docs/channels.md'), 'utf8');
const block = doc.split('<!-- deployment-example -->')[1]?.match(/```yaml\n([\s\S]*?)```/)?.[1];

test('the deployment example of docs/channels.md loads, with its secrets from the environment', () => {
  expect(block).toBeDefined();
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'deployment-example-')), 'incident.yaml');
  writeFileSync(file, block!);
  const d = loadDeploymentConfig(file, {
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    PAGERDUTY_ROUTING_KEY: 'R0UTINGKEY',
  });
  expect(d.slack).toMatchObject({
    mode: 'web-api',
    channel: '#trading-incidents',
    botToken: 'xoxb-test-token',
  });
  expect(d.pagerduty).toMatchObject({ routingKey: 'R0UTINGKEY', component: 'usdcop-trading' });
  expect(d.contacts?.requireKnownUsers).toBe(true);
  expect(d.contacts?.rotations['oncall-primary']?.people.map((p) => p.name)).toEqual([
    'Juan Pérez',
    'María López',
  ]);
  expect(d.policy?.preApprovedActions).toEqual(['kill-switch:data-outage-60m']);
  // Without the bot token the web-api mode cannot work: the error names the key.
  expect(() => loadDeploymentConfig(file, {})).toThrow(/botToken/);
});

test('4.1 "Updates:" names the Slack channel the deployment posts to, unless the policy says otherwise', () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'deployment-example-')), 'incident.yaml');
  writeFileSync(file, block!);
  const d = loadDeploymentConfig(file, { SLACK_BOT_TOKEN: 'xoxb-t', PAGERDUTY_ROUTING_KEY: 'k' });
  expect(deploymentPolicy(d).updatesChannel).toBe('#trading-incidents');
  expect(
    deploymentPolicy({ ...d, slack: { ...d.slack!, channel: '#usdcop-ops' } } as never).updatesChannel,
  ).toBe('#usdcop-ops');
  expect(deploymentPolicy({ ...d, policy: { updatesChannel: '#war-room' } }).updatesChannel).toBe(
    '#war-room',
  );
});
