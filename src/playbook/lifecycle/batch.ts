// The wire format of one delivery activity: every message one activation composes for one channel, with
// each text once (a re-page round pages several roles with the same 4.1 text; each keeps its own key).
import type { Notification } from '../../activities/notify/port';

export interface NotificationBatch {
  texts: string[];
  notifications: (Omit<Notification, 'text'> & { text: number })[];
}

export function packBatch(notifications: readonly Notification[]): NotificationBatch {
  const texts: string[] = [];
  const index = new Map<string, number>();
  return {
    texts,
    notifications: notifications.map((n) => {
      let i = index.get(n.text);
      if (i === undefined) {
        i = texts.length;
        texts.push(n.text);
        index.set(n.text, i);
      }
      return { ...n, text: i };
    }),
  };
}

export function unpackBatch(batch: NotificationBatch): Notification[] {
  return batch.notifications.map((n) => {
    const text = batch.texts[n.text];
    if (text === undefined) throw new Error(`notification batch: text #${n.text} missing`);
    return { ...n, text };
  });
}
