// The notification port: the workflow hands a rendered message to one channel per activity call, so a
// failing channel never delays paging on another (DESIGN "Side effects"). The message itself is the
// contract's Notification (src/playbook/contract/notification.ts).
import type { Notification } from '../../playbook/contract/notification';

export interface DeliveryResult {
  channel: string;
  idempotencyKey: string;
  /** `duplicate`: this key was already delivered on this channel, nothing was sent again. */
  outcome: 'delivered' | 'duplicate';
  /** Channel reference (Slack ts, PagerDuty dedup_key, outbox line number). */
  ref?: string;
}

export interface NotificationChannel {
  readonly name: string;
  deliver(notification: Notification): Promise<DeliveryResult>;
}
