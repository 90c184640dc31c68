// Which channels each message goes to, and how they are batched: one delivery per channel for everything one
// input composed (a round with all its roles), pages first.
import type { Notification } from '../contract/notification';
import type { Effect } from './draft';

export interface Delivery {
  channel: string;
  notifications: Notification[];
}

/**
 * The deliveries for a decision's `notify` effects: each on its own `channels` or the policy's, in the order
 * channels first appear. A message is not sent back to the channel it came from (`except`) when `noEcho()`
 * says so: the shell's answer for this worker's version, asked only where it matters (where such a message
 * is delivered), so a history in which an older worker did send it still replays.
 */
export function fanOut(
  effects: readonly Effect[],
  policyChannels: readonly string[],
  noEcho: () => boolean,
): Delivery[] {
  const byChannel = new Map<string, Notification[]>();
  for (const e of effects) {
    if (e.type !== 'notify') continue;
    for (const channel of e.channels ?? policyChannels) {
      if (e.except === channel && noEcho()) continue;
      const list = byChannel.get(channel) ?? [];
      list.push(e.notification);
      byChannel.set(channel, list);
    }
  }
  return [...byChannel].map(([channel, notifications]) => ({ channel, notifications }));
}
