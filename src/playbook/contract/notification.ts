// A message the incident hands to the notification channels: rendered by the pure core, delivered by one
// activity per channel. Types only.
import type { RoleId } from '../roles';
import type { Severity } from '../severity';

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
