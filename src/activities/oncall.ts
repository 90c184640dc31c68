// The on-call roster's side: who a role is at send time with the runtime overrides (read from the roster
// workflow, a few seconds' cache), the next handover, and the shift-change notice to the channels.
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ContactConfig } from '../playbook/contacts';
import { ONCALL_WORKFLOW_ID, type RuntimeOverride } from '../playbook/contract/oncall';
import type { Notification } from '../playbook/contract/notification';
import { handoverText, nextHandover, onCallAt, withRuntimeOverrides } from '../playbook/oncall';
import { isoOf } from '../playbook/time';
import { rosterQuery } from '../workflows/oncall-definitions';

/** How long the roster's overrides are reused before they are read again. */
const CACHE_MS = 5_000;
/** How long a delivery waits for the roster's answer. */
const READ_TIMEOUT_MS = 1_000;

/**
 * The contacts as paging uses them now: the config's, with the roster's runtime overrides in front. `refresh`
 * (inside an activity, before a delivery) reads the roster at most every 5 s; `current` is what it read last,
 * for code that cannot wait (the Slack channel's mention). The roster away: the config's alone, said once.
 */
export class LiveContacts {
  private merged: ContactConfig;
  private readAt = -Infinity;
  private warned = false;

  constructor(
    private readonly base: ContactConfig,
    private readonly read: () => Promise<RuntimeOverride[] | null> = readRosterFromActivity,
    private readonly now: () => number = Date.now,
  ) {
    this.merged = base;
  }

  current(): ContactConfig {
    return this.merged;
  }

  async refresh(): Promise<ContactConfig> {
    if (this.now() - this.readAt < CACHE_MS) return this.merged;
    try {
      // Bounded: a page never waits long on the roster (a query to a workflow whose worker just went away can
      // hang); past the bound the last overrides read (or the config's alone) are used.
      let timer: NodeJS.Timeout | undefined;
      const overrides = await Promise.race([
        this.read(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${READ_TIMEOUT_MS} ms`)),
            READ_TIMEOUT_MS,
          );
        }),
      ]).finally(() => clearTimeout(timer));
      this.merged = overrides ? withRuntimeOverrides(this.base, overrides) : this.base;
      this.warned = false;
    } catch (err) {
      if (!this.warned)
        console.warn(
          `[oncall] runtime overrides not read (${(err as Error).message}); paging by the config's contacts`,
        );
      this.warned = true;
    }
    this.readAt = this.now();
    return this.merged;
  }
}

/** The roster's overrides through the activity's client; null when no roster runs. */
export async function readRosterFromActivity(): Promise<RuntimeOverride[] | null> {
  let client: Client;
  try {
    client = Context.current().client;
  } catch {
    return null; // not inside an activity (a direct call in a test)
  }
  return readRoster(client);
}

export async function readRoster(client: Client): Promise<RuntimeOverride[] | null> {
  try {
    return (await client.workflow.getHandle(ONCALL_WORKFLOW_ID).query(rosterQuery)).overrides;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

export interface OncallActivityDeps {
  contacts: ContactConfig;
  /** The channels the policy pages on (the notice goes to each; PagerDuty sends nothing for `info`). */
  channels: string[];
  deliver: (channel: string, n: Notification) => Promise<unknown>;
}

export function createOncallActivities(deps: OncallActivityDeps) {
  return {
    /** The next handover after `at` with these overrides, on this worker's contacts; null: none ahead. */
    async oncallNextHandover(input: {
      at: string;
      overrides: RuntimeOverride[];
    }): Promise<{ at: string; changes: { role: string; from: string; to: string }[] } | null> {
      const next = nextHandover(withRuntimeOverrides(deps.contacts, input.overrides), Date.parse(input.at));
      return next ? { at: isoOf(next.at), changes: next.changes } : null;
    },

    /** The shift-change notice for the handover at `at`: who hands over to whom, for each role that changes. */
    async announceHandover(input: { at: string; overrides: RuntimeOverride[] }): Promise<number> {
      const config = withRuntimeOverrides(deps.contacts, input.overrides);
      const at = Date.parse(input.at);
      const before = onCallAt(config, at - 1);
      const after = onCallAt(config, at);
      const changes = after
        .map((a, i) => ({ role: a.role, from: before[i]!.now.name, to: a.now.name }))
        .filter((c) => c.from !== c.to);
      if (changes.length === 0) return 0;
      const n: Notification = {
        idempotencyKey: `oncall:handover-${input.at}:channel`,
        incidentId: ONCALL_WORKFLOW_ID,
        step: `handover-${input.at}`,
        target: 'channel',
        kind: 'info',
        severity: 'P3',
        title: 'On-call shift change',
        text: handoverText(at, changes),
        createdAt: input.at,
        incidentStatus: 'closed',
      };
      for (const channel of deps.channels) await deps.deliver(channel, n);
      return changes.length;
    },
  };
}
