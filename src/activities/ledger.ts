// Ledger activities: idempotent writes to the PostgreSQL incident ledger. Each one is
// harmless to repeat, so Temporal's at-least-once execution (retries, a worker killed after the write but
// before reporting completion) never leaves a duplicate or a changed row.
import { createHash } from 'node:crypto';
import path from 'node:path';
import { log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type pg from 'pg';
import type { ActionItemRecord, ApprovalRecord, PostmortemRecord } from '../playbook/contract/records';
import type { PageSpool } from '../ledger/page-spool';
import { LedgerStore, pageRow } from '../ledger/store';
import type { LedgerWrite } from '../playbook/contract/records';
import type { DeliveryResult, NotificationChannel } from './notify/port';
import type { Notification } from '../playbook/contract/notification';

export interface LedgerDeps {
  /** The ledger database; null when this worker runs without one (the writes are then skipped, with a warning). */
  pool: pg.Pool | null;
}

type Skipped = { skipped: true };

// SQLSTATE classes that no retry can fix: data exceptions (22), integrity violations (23), syntax/undefined
// objects (42). Anything else (connection refused, admin shutdown, serialization) is retried by the policy.
const PERMANENT = /^(22|23|42)/;

async function write<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    if (typeof code === 'string' && PERMANENT.test(code)) {
      throw ApplicationFailure.nonRetryable(
        `ledger ${what}: ${message} (SQLSTATE ${code})`,
        'LedgerRejected',
      );
    }
    throw ApplicationFailure.retryable(
      `ledger ${what}: ${message}${typeof code === 'string' ? ` (${code})` : ''}`,
      'LedgerUnavailable',
    );
  }
}

export function createLedgerActivities({ pool }: LedgerDeps) {
  const store = pool ? new LedgerStore(pool) : null;
  let warned = false;
  const skip = (what: string): Skipped => {
    if (!warned) {
      warned = true;
      log.warn('no ledger database on this worker: ledger writes are skipped', { what });
    }
    return { skipped: true };
  };

  return {
    /**
     * One batched incident write: the timeline events from `fromSeq`, then the incident row
     * versioned by `upTo`. Both halves are idempotent, so a retried write is harmless.
     */
    async ledgerWriteIncident(w: LedgerWrite): Promise<{ inserted: number; changed: boolean } | Skipped> {
      if (!store) return skip('ledgerWriteIncident');
      if (!Number.isInteger(w.fromSeq) || w.fromSeq < 0)
        throw ApplicationFailure.nonRetryable(
          `fromSeq must be an integer >= 0, got ${w.fromSeq}`,
          'LedgerRejected',
        );
      const { inserted } = await write('append events', () =>
        store.appendEvents(w.incidentId, w.fromSeq, w.events),
      );
      const { changed } = await write('upsert incident', () => store.upsertIncident(w.snapshot, w.upTo));
      return { inserted, changed };
    },

    /** An approval request and/or its decision (first decision wins). */
    async ledgerRecordApproval(
      incidentId: string,
      approval: ApprovalRecord,
    ): Promise<{ changed: boolean } | Skipped> {
      if (!store) return skip('ledgerRecordApproval');
      return write('record approval', () => store.recordApproval(incidentId, approval));
    },

    /** The post-mortem row, and its action items when given, in one transaction. */
    async ledgerRecordPostmortem(
      record: PostmortemRecord,
      actionItems: ActionItemRecord[] = [],
    ): Promise<{ changed: number } | Skipped> {
      if (!store) return skip('ledgerRecordPostmortem');
      return write('record post-mortem', () => store.recordPostmortemWithItems(record, actionItems));
    },
  };
}

export type LedgerActivities = ReturnType<typeof createLedgerActivities>;

/**
 * Wraps a channel so each delivery is also a row of the ledger's `pages` table. The row goes to the spool
 * (a local file, drained into the database in the background and retried until it lands), so the delivery
 * never waits on the database and a database outage never loses the record of a page that went out.
 */
export function recordDeliveries(channel: NotificationChannel, spool: PageSpool): NotificationChannel {
  return {
    name: channel.name,
    async deliver(n: Notification): Promise<DeliveryResult> {
      const result = await channel.deliver(n);
      await spool.add(pageRow(result.channel, n, new Date().toISOString(), result.ref));
      return result;
    },
  };
}

/**
 * Where a pool's page spool lives: one directory per database (server and name), so rows left by a worker
 * that died are adopted only by a worker writing to the same ledger.
 */
export function pageSpoolDir(root: string, pool: pg.Pool): string {
  const o = (pool as unknown as { options: pg.PoolConfig }).options;
  let where = `${o.host ?? ''}:${o.port ?? ''}/${o.database ?? ''}`;
  let name = o.database ?? 'ledger';
  if (o.connectionString) {
    try {
      const u = new URL(o.connectionString);
      where = `${u.hostname}:${u.port}/${u.pathname}`;
      name = decodeURIComponent(u.pathname.replace(/^\//, '')) || name;
    } catch {
      where = o.connectionString;
    }
  }
  const hash = createHash('sha256').update(where).digest('hex').slice(0, 8);
  return path.join(root, `${name.replace(/[^A-Za-z0-9_.-]/g, '_')}-${hash}`);
}
