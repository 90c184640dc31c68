// Environment and deployment config, validated once at start-up with a clear error on a bad value.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { policyOverridesSchema } from './playbook/policy';
import { TASK_QUEUE } from './workflows/definitions';

const ROOT = path.resolve(__dirname, '..');

const envSchema = z.object({
  INCIDENT_TASK_QUEUE: z.string().min(1).default(TASK_QUEUE),
  /** Deployment config (YAML); absent keeps the playbook defaults. */
  INCIDENT_CONFIG: z.string().min(1).optional(),
  OUTBOX_FILE: z.string().min(1).default(path.join(ROOT, 'data', 'outbox.jsonl')),
  /** Prebuilt workflow bundle (npm run build); absent bundles src/workflows at start. */
  WORKFLOW_BUNDLE_PATH: z.string().min(1).optional(),
});
export type Env = z.infer<typeof envSchema>;

export const deploymentConfigSchema = z
  .object({
    /** Overrides of the playbook policy (matrix, targets, cadences, channels, pre-approvals). */
    policy: policyOverridesSchema.optional(),
    outbox: z.object({ file: z.string().min(1) }).strict().optional(),
  })
  .strict();
export type DeploymentConfig = z.infer<typeof deploymentConfigSchema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `  - ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
}

export function loadEnv(env: NodeJS.ProcessEnv = process.env): Env {
  const r = envSchema.safeParse(env);
  if (!r.success) throw new ConfigError(`invalid environment:\n${describe(r.error)}`);
  return r.data;
}

export function loadDeploymentConfig(file: string | undefined): DeploymentConfig {
  if (!file) return {};
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`cannot read deployment config ${file}: ${(err as Error).message}`);
  }
  const r = deploymentConfigSchema.safeParse(raw ?? {});
  if (!r.success) throw new ConfigError(`invalid deployment config ${file}:\n${describe(r.error)}`);
  return r.data;
}
