// In-memory part of the simulated platform: injected faults, the model registry and the log of
// mutating calls. Everything the playbook reads through SQL lives in db.ts instead.
import type { ActiveFaults, MutatingCall, Profile, Service } from './schemas';
import { MUTATING_CALLS } from './schemas';

export interface ModelVersion {
  model_id: string;
  version: number;
  archived_at: string;
  sharpe_ratio: number;
}

export interface CallRecord {
  call: MutatingCall;
  service: Service;
  method: string;
  path: string;
  status: number;
  body: unknown;
  at: string;
}

/** Healthy metrics the champion reports while no Sharpe fault is set (3.2: above 0.8 = no action). */
export const HEALTHY_SHARPE = 1.42;
export const CHAMPION_ID = 'ppo_primary';
export const SHADOW_ID = 'ppo_shadow';

export class ModelRegistry {
  champion: ModelVersion = {
    model_id: CHAMPION_ID,
    version: 3,
    archived_at: '',
    sharpe_ratio: HEALTHY_SHARPE,
  };
  targets: ModelVersion[] = [];
  loadedAt = new Date().toISOString();

  constructor() {
    this.reset();
  }

  reset(): void {
    const day = 86_400_000;
    this.champion = { model_id: CHAMPION_ID, version: 3, archived_at: '', sharpe_ratio: HEALTHY_SHARPE };
    this.targets = [
      {
        model_id: CHAMPION_ID,
        version: 2,
        archived_at: new Date(Date.now() - 7 * day).toISOString(),
        sharpe_ratio: 1.18,
      },
      {
        model_id: CHAMPION_ID,
        version: 1,
        archived_at: new Date(Date.now() - 30 * day).toISOString(),
        sharpe_ratio: 0.97,
      },
    ];
    this.loadedAt = new Date().toISOString();
  }

  static label(m: ModelVersion): string {
    return `${m.model_id}_v${m.version}`;
  }
}

export function emptyCounts(): Record<MutatingCall, number> {
  const counts = {} as Record<MutatingCall, number>;
  for (const c of MUTATING_CALLS) counts[c] = 0;
  return counts;
}

export interface SimCore {
  readonly profile: Profile;
  faults: ActiveFaults;
  readonly models: ModelRegistry;
  readonly calls: CallRecord[];
  readonly apiKey: string | undefined;
}

/** A path pattern of the fault API: exact, or a prefix when it ends with `*`. */
export function pathMatches(pattern: string, path: string): boolean {
  return pattern.endsWith('*') ? path.startsWith(pattern.slice(0, -1)) : pattern === path;
}
