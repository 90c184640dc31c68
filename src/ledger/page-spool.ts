// The `pages` rows of the ledger, written so that a page never waits on the database and a row is never
// lost to it. A delivery appends its row to a local spool file (one JSON line, a fraction of a millisecond)
// and returns; a background drain inserts the spooled rows in batches (idempotent on (channel, key)) and
// retries with backoff while the database hangs or refuses, then empties the file. A worker killed during
// an outage leaves its file behind; the next spool started on the same host adopts it.
import { randomUUID } from 'node:crypto';
import { appendFile, mkdir, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { LedgerStore, type PageRow } from './store';

export interface PageSpoolOptions {
  pool: pg.Pool;
  /** Directory of the spool files (created if absent). */
  dir: string;
  warn?: (message: string) => void;
  /** Wait before the first retry after a failed drain; doubles up to `maxRetryMs`. */
  initialRetryMs?: number;
  maxRetryMs?: number;
  /** One insert attempt is abandoned after this long (a hung database), and retried. */
  attemptTimeoutMs?: number;
  /** Rows per insert statement. */
  batchSize?: number;
}

// Data exceptions (22) and integrity violations (23): the database will refuse that row forever.
const REFUSED = /^(22|23)/;
const FILE_RE = /^pages-(.+)-(\d+)-([0-9a-f]{8})\.jsonl$/;
/** Spools alive in this process, by id: their files are never adopted by a sibling. */
const LIVE = new Set<string>();

const host = () => os.hostname().replace(/[^A-Za-z0-9.]/g, '_') || 'host';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  // The abandoned attempt may still settle later: its rejection is expected, and its success harmless.
  p.catch(() => undefined);
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

function parseLines(text: string): PageRow[] {
  const rows: PageRow[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line) as PageRow;
      if (typeof r.channel === 'string' && typeof r.idempotencyKey === 'string') rows.push(r);
    } catch {
      // A line torn by a crash mid-write: its delivery was retried and spooled again.
    }
  }
  return rows;
}

export class PageSpool {
  readonly file: string;
  private readonly id = randomUUID().slice(0, 8);
  private readonly store: LedgerStore;
  private readonly warn: (message: string) => void;
  private readonly initialRetryMs: number;
  private readonly maxRetryMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly batchSize: number;
  /** Rows not yet confirmed by the database; every one of them is also in the file. */
  private pending: PageRow[] = [];
  private fileOps: Promise<unknown> = Promise.resolve();
  private fileFailed = false;
  private draining: Promise<void> | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs: number;
  private failingSince: number | null = null;
  private readonly ready: Promise<void>;
  private closed = false;

  constructor(private readonly opts: PageSpoolOptions) {
    this.store = new LedgerStore(opts.pool);
    this.warn = opts.warn ?? ((m) => console.warn(m));
    this.initialRetryMs = opts.initialRetryMs ?? 1_000;
    this.maxRetryMs = opts.maxRetryMs ?? 15_000;
    this.attemptTimeoutMs = opts.attemptTimeoutMs ?? 10_000;
    this.batchSize = opts.batchSize ?? 500;
    this.retryMs = this.initialRetryMs;
    this.file = path.join(opts.dir, `pages-${host()}-${process.pid}-${this.id}.jsonl`);
    LIVE.add(this.id);
    this.ready = this.adopt().catch((err: Error) =>
      this.warn(`[ledger] page spool ${opts.dir}: cannot adopt earlier spool files (${err.message})`),
    );
    void this.ready.then(() => this.kick());
  }

  /** Rows waiting for the database. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Spools one row (durable once this resolves) and starts a drain; never throws, never waits on the database. */
  async add(row: PageRow): Promise<void> {
    await this.ready;
    await this.locked(async () => {
      try {
        await appendFile(this.file, `${JSON.stringify(row)}\n`, { flag: 'a' });
      } catch (err) {
        if (!this.fileFailed)
          this.warn(
            `[ledger] page spool ${this.file} not writable (${(err as Error).message}): page rows kept in memory until the database takes them`,
          );
        this.fileFailed = true;
      }
      this.pending.push(row);
    });
    this.kick();
  }

  /** Resolves once every row spooled so far is in the database, or rejects after `timeoutMs`. */
  async flush(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.ready;
    while (this.pending.length > 0) {
      if (Date.now() >= deadline)
        throw new Error(`page spool: ${this.pending.length} row(s) still pending after ${timeoutMs} ms`);
      if (!this.retryTimer) await this.drain();
      if (this.pending.length > 0) await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops retrying (rows stay in the file for the next spool on this host). */
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    LIVE.delete(this.id);
  }

  /** Drains now unless a retry is already scheduled (a database that just failed is not hammered). */
  private kick(): void {
    if (this.retryTimer || this.closed) return;
    void this.drain();
  }

  private drain(): Promise<void> {
    if (!this.draining) this.draining = this.drainLoop().finally(() => (this.draining = null));
    return this.draining;
  }

  private async drainLoop(): Promise<void> {
    await this.ready;
    while (this.pending.length > 0 && !this.closed) {
      const batch = this.pending.slice(0, this.batchSize);
      let refused: PageRow[] = [];
      try {
        refused = await this.insert(batch);
      } catch (err) {
        this.failed(err as Error);
        return;
      }
      this.recovered();
      for (const r of refused)
        this.warn(
          `[ledger] page ${r.idempotencyKey} on ${r.channel} refused by the database; it will not be recorded`,
        );
      await this.locked(() => this.compact(new Set(batch)));
    }
  }

  /** Inserts a batch; a row the database refuses for good is isolated and returned, never retried forever. */
  private async insert(batch: PageRow[]): Promise<PageRow[]> {
    try {
      await withTimeout(this.store.recordPages(batch), this.attemptTimeoutMs, 'page insert');
      return [];
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== 'string' || !REFUSED.test(code)) throw err;
    }
    const refused: PageRow[] = [];
    for (const row of batch) {
      try {
        await withTimeout(this.store.recordPages([row]), this.attemptTimeoutMs, 'page insert');
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code !== 'string' || !REFUSED.test(code)) throw err;
        refused.push(row);
      }
    }
    return refused;
  }

  private failed(err: Error): void {
    if (this.failingSince === null) {
      this.failingSince = Date.now();
      this.warn(
        `[ledger] pages not recorded yet (${err.message}): ${this.pending.length} row(s) spooled in ${this.file}, retried until the database takes them`,
      );
    }
    if (this.closed) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.maxRetryMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.drain();
    }, wait);
    this.retryTimer.unref();
  }

  private recovered(): void {
    this.retryMs = this.initialRetryMs;
    if (this.failingSince === null) return;
    this.warn(
      `[ledger] the database takes page rows again after ${Math.round((Date.now() - this.failingSince) / 1000)} s; spooled rows are being written`,
    );
    this.failingSince = null;
  }

  /** Drops written rows; the file keeps exactly the rows still pending (none: the file is removed). */
  private async compact(written: Set<PageRow>): Promise<void> {
    this.pending = this.pending.filter((r) => !written.has(r));
    if (this.fileFailed) return;
    try {
      if (this.pending.length === 0) {
        await unlink(this.file).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
      } else {
        const tmp = `${this.file}.tmp`;
        await writeFile(tmp, this.pending.map((r) => `${JSON.stringify(r)}\n`).join(''));
        await rename(tmp, this.file);
      }
    } catch (err) {
      // Harmless: rows left in the file are written again later, and the database skips them.
      this.warn(`[ledger] page spool ${this.file} not compacted: ${(err as Error).message}`);
    }
  }

  /** Files of spools on this host whose process is gone: claimed by rename (one adopter wins), then drained. */
  private async adopt(): Promise<void> {
    await mkdir(this.opts.dir, { recursive: true });
    const mine = host();
    for (const name of await readdir(this.opts.dir)) {
      const m = FILE_RE.exec(name);
      if (!m || m[1] !== mine || LIVE.has(m[3]!)) continue;
      const pid = Number(m[2]);
      if (pid !== process.pid && alive(pid)) continue;
      // Claimed under a name of this process, so a crash half-way leaves it adoptable again.
      const claimId = randomUUID().slice(0, 8);
      const claimed = path.join(this.opts.dir, `pages-${mine}-${process.pid}-${claimId}.jsonl`);
      LIVE.add(claimId);
      try {
        try {
          await rename(path.join(this.opts.dir, name), claimed);
        } catch {
          continue; // another spool took it
        }
        const rows = parseLines(await readFile(claimed, 'utf8'));
        if (rows.length > 0) {
          await appendFile(this.file, rows.map((r) => `${JSON.stringify(r)}\n`).join(''), { flag: 'a' });
          this.pending.push(...rows);
        }
        await unlink(claimed);
        this.warn(`[ledger] adopted ${rows.length} spooled page row(s) from ${name}`);
      } finally {
        LIVE.delete(claimId);
      }
    }
  }

  private locked<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.fileOps.then(fn);
    this.fileOps = run.catch(() => undefined);
    return run;
  }
}
