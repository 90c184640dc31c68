// The notification port: the workflow hands a rendered message to one channel per activity call, so a
// failing channel never delays paging on another (DESIGN "Side effects"). Types only: workflows import it
// with `import type`.
import type { RoleId } from '../../playbook/roles';
import type { Severity } from '../../playbook/severity';

export type NotificationKind =
  | 'page' // 2.3 initial response and escalation steps
  | 'repage' // unacknowledged: the engaged roles again
  | 'update' // 4.2
  | 'resolved' // 4.3
  | 'acknowledged'
  | 'reopened'
  | 'breach' // 1.1 response / resolution target missed
  | 'severity' // setSeverity or a more severe alert: to the channel and every engaged role
  | 'info';

export interface Notification {
  /** `<incident id>:<step>:<target>`: the same key is delivered at most once per channel. */
  idempotencyKey: string;
  incidentId: string;
  step: string;
  /** A role id, or a channel-level target such as "channel" for broadcast messages. */
  target: RoleId | 'channel';
  kind: NotificationKind;
  severity: Severity;
  title: string;
  /** Rendered playbook template (markdown, section 4). */
  text: string;
  template?: '4.1' | '4.2' | '4.3' | '4.4';
  /** 4.1: the roles this message pages; the delivery names who holds each one now (rotation). */
  onCall?: RoleId[];
  /** Workflow time the message was composed (ISO). */
  createdAt: string;
  /** Incident status at compose time, for channels that mirror it (PagerDuty acknowledge/resolve). */
  incidentStatus: 'triggered' | 'acknowledged' | 'resolved' | 'closed';
}

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
