// The outbox shared by two worker processes (issue 10 item 7): each instance stands for one process with
// its own memory. A record written by one is seen by the other before it writes, so an activity retried on
// the other worker after a crash writes nothing twice.
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OutboxChannel, readOutbox } from '../../src/activities/notify/outbox';
import type { Notification } from '../../src/playbook/contract/notification';

const quiet = () => undefined;
const note = (key: string): Notification =>
  ({
    idempotencyKey: key,
    incidentId: 'i-1',
    severity: 'P1',
    kind: 'generic',
    target: 'oncall-primary',
    step: 'page',
    text: `page ${key}`,
  }) as unknown as Notification;

test('a key written by another process is not written again; new keys from both are kept', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'outbox-')), 'outbox.jsonl');
  const a = new OutboxChannel(file, quiet);
  const b = new OutboxChannel(file, quiet);
  // Both have read the file (b before a wrote k1), as two running workers have.
  expect((await b.deliver(note('k0'))).outcome).toBe('delivered');
  expect((await a.deliver(note('k1'))).outcome).toBe('delivered');
  // a "crashed" after writing k1; the retry runs on b.
  expect((await b.deliver(note('k1'))).outcome).toBe('duplicate');
  expect((await a.deliver(note('k0'))).outcome).toBe('duplicate');
  expect((await b.deliver(note('k2'))).outcome).toBe('delivered');
  expect((await a.deliver(note('k2'))).outcome).toBe('duplicate');
  expect((await readOutbox(file)).map((r) => r.idempotencyKey)).toEqual(['k0', 'k1', 'k2']);
});

test('after a torn last line (a crash mid-write) the next record starts a line of its own', async () => {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'outbox-')), 'outbox.jsonl');
  writeFileSync(file, '{"idempotencyKey":"k0","channel":"outbox"}\n{"idempotencyKey":"k1","chan');
  const a = new OutboxChannel(file, quiet);
  expect((await a.deliver(note('k1'))).outcome).toBe('delivered');
  // Another process sees the retried k1 (and nothing twice).
  const b = new OutboxChannel(file, quiet);
  expect((await b.deliver(note('k1'))).outcome).toBe('duplicate');
  expect((await readOutbox(file)).map((r) => r.idempotencyKey)).toEqual(['k0', 'k1']);
});
