// The wire format of one delivery activity: every message one decision composed for one channel. Each text
// is sent once (a re-page round pages several roles with the same text), the fields every message shares
// (incident, title, severity, status, time) once, and an idempotency key only where it is not the usual
// `<incident id>:<step>:<target>`: the history holds each round in a fraction of the bytes.
import type { Notification } from '../contract/notification';

const SHARED = ['incidentId', 'title', 'severity', 'incidentStatus', 'createdAt'] as const;
type Shared = Pick<Notification, (typeof SHARED)[number]>;
type Item = Partial<Omit<Notification, 'text'>> & { text: number };

export interface NotificationBatch {
  shared: Partial<Shared>;
  texts: string[];
  notifications: Item[];
}

const usualKey = (n: Pick<Notification, 'incidentId' | 'step' | 'target'>) =>
  `${n.incidentId}:${n.step}:${n.target}`;

export function packBatch(notifications: readonly Notification[]): NotificationBatch {
  const shared: Partial<Shared> = {};
  const first = notifications[0];
  if (first)
    for (const f of SHARED)
      if (notifications.every((n) => n[f] === first[f])) (shared as Record<string, unknown>)[f] = first[f];
  const texts: string[] = [];
  const index = new Map<string, number>();
  return {
    shared,
    texts,
    notifications: notifications.map((n) => {
      let i = index.get(n.text);
      if (i === undefined) {
        i = texts.length;
        texts.push(n.text);
        index.set(n.text, i);
      }
      const item: Record<string, unknown> = { ...n, text: i };
      for (const f of SHARED) if (f in shared) delete item[f];
      if (n.idempotencyKey === usualKey(n)) delete item.idempotencyKey;
      return item as Item;
    }),
  };
}

export function unpackBatch(batch: NotificationBatch): Notification[] {
  return batch.notifications.map((item) => {
    const text = batch.texts[item.text];
    if (text === undefined) throw new Error(`notification batch: text #${item.text} missing`);
    const n = { ...batch.shared, ...item, text } as Notification;
    return { ...n, idempotencyKey: item.idempotencyKey ?? usualKey(n) };
  });
}
