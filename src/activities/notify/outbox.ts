// The local outbox: an append-only JSONL file, one record per delivery, keyed by the idempotency key so a
// retried or re-run activity never writes a second record (DESIGN "Side effects").
import { appendFile, mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { DeliveryResult, NotificationChannel } from './port';
import type { Notification } from '../../playbook/contract/notification';

export interface OutboxRecord extends Notification {
  channel: 'outbox';
  deliveredAt: string;
}

export class OutboxChannel implements NotificationChannel {
  readonly name = 'outbox';
  private keys: Set<string> | null = null;
  /** Bytes of the file already read into `keys`. */
  private offset = 0;
  /** The file ends without a newline (a torn record). */
  private tornTail = false;
  private lines = 0;
  /** Serializes appends within this process so two deliveries of one key cannot both write. */
  private queue: Promise<unknown> = Promise.resolve();

  /**
   * `logLine` echoes each record's headline (e.g. to a console watched during a demo); silent by default, as
   * the delivery activity already logs one line per delivery on every channel.
   */
  constructor(
    readonly file: string,
    private readonly logLine: (line: string) => void = () => undefined,
  ) {}

  deliver(n: Notification): Promise<DeliveryResult> {
    const run = this.queue.then(() => this.deliverNow(n));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async deliverNow(n: Notification): Promise<DeliveryResult> {
    const keys = await this.loadKeys();
    if (keys.has(n.idempotencyKey)) {
      this.logLine(`[outbox] duplicate ${n.idempotencyKey}: already delivered, not written again`);
      return { channel: this.name, idempotencyKey: n.idempotencyKey, outcome: 'duplicate' };
    }
    const record: OutboxRecord = { ...n, channel: 'outbox', deliveredAt: new Date().toISOString() };
    // One write of one line, O_APPEND: concurrent writers never interleave within a record. After a torn
    // last line (a crash mid-write) the record starts on a line of its own, or it would be lost with it.
    await appendFile(this.file, `${this.tornTail ? '\n' : ''}${JSON.stringify(record)}\n`, { flag: 'a' });
    this.tornTail = false;
    keys.add(n.idempotencyKey);
    // Our own line is counted when the next delivery reads the tail.
    this.logLine(
      `[outbox] ${n.severity} ${n.kind} -> ${n.target} (${n.idempotencyKey}): ${n.text.split('\n')[0]}`,
    );
    return {
      channel: this.name,
      idempotencyKey: n.idempotencyKey,
      outcome: 'delivered',
      ref: `line:${this.lines + 1}`,
    };
  }

  /**
   * Keys already in the file. Read whole once, then only what was appended since (by any process): a worker
   * that crashed after writing but before reporting completion has its record found here when the activity is
   * retried, by a new worker or by another one already running beside it, and nothing is written twice.
   */
  private async loadKeys(): Promise<Set<string>> {
    if (!this.keys) {
      await mkdir(path.dirname(this.file), { recursive: true });
      this.keys = new Set<string>();
    }
    let handle;
    try {
      handle = await open(this.file, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return this.keys;
    }
    try {
      const { size } = await handle.stat();
      if (size <= this.offset) return this.keys;
      const buf = Buffer.alloc(size - this.offset);
      const { bytesRead } = await handle.read(buf, 0, buf.length, this.offset);
      // Whole lines only: a line being written by another process right now is read next time.
      const end = buf.subarray(0, bytesRead).lastIndexOf(0x0a) + 1;
      this.tornTail = end < bytesRead;
      for (const line of buf.subarray(0, end).toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        try {
          const key = (JSON.parse(line) as { idempotencyKey?: unknown }).idempotencyKey;
          if (typeof key === 'string') this.keys.add(key);
        } catch {
          // A torn line from a crash mid-write: skip it; the retry writes a whole record.
        }
        this.lines += 1;
      }
      this.offset += end;
    } finally {
      await handle.close();
    }
    return this.keys;
  }
}

/** Reads every record of an outbox file (tests, tooling). */
export async function readOutbox(file: string): Promise<OutboxRecord[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return text
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as OutboxRecord];
      } catch {
        return [];
      }
    });
}
