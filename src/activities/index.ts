// Activities are built by a factory so the worker injects real clients and tests inject fakes
// (samples-typescript `activities-dependency-injection`).
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { EMPTY_CONTACT_CONFIG, resolveContact, type ContactConfig } from '../playbook/contacts';
import type { PolicyOverrides } from '../playbook/policy';
import type { RoleId } from '../playbook/roles';
import { nameOnCall } from '../playbook/templates';
import type { Dispatcher } from 'undici';
import { resolvePlatformConfig, type PlatformConfig } from '../platform/config';
import { createProcedureActivities } from './platform';
import type { Pool } from 'pg';
import path from 'node:path';
import { PageSpool } from '../ledger/page-spool';
import { createLedgerActivities, pageSpoolDir, recordDeliveries } from './ledger';
import { createHeartbeatActivities } from './heartbeat';
import { createOncallActivities, LiveContacts } from './oncall';
import type { DeliveryResult, NotificationChannel } from './notify/port';
import type { Notification } from '../playbook/contract/notification';
import { unpackBatch, type NotificationBatch } from '../playbook/lifecycle/batch';

export interface ActivityDeps {
  /** Channels by name ("outbox", "slack", "pagerduty"); the policy's `channels` picks among them. */
  channels: Record<string, NotificationChannel>;
  /** Policy overrides from the deployment config, snapshotted by each incident when it opens. */
  policyOverrides: PolicyOverrides;
  /** The trading platform the 3.1-3.4 procedures check and remediate (default: the playbook profile). */
  platform?: PlatformConfig;
  /** undici dispatcher for the platform calls (tests point it anywhere). */
  platformDispatcher?: Dispatcher;
  /** The incident ledger (PostgreSQL); without it the ledger activities skip their writes with a warning. */
  ledger?: Pool | null;
  /** 2.1 contacts and rotations: who a paged role is at send time (the 4.1 "On-Call" line). */
  contacts?: ContactConfig;
  /**
   * Where the `pages` rows wait while the ledger database is unreachable (default: LEDGER_SPOOL_DIR, else
   * data/ledger-spool); one subdirectory per database.
   */
  pageSpoolDir?: string;
  /** Where the one line per delivery goes (default: stdout). */
  logLine?: (line: string) => void;
  /**
   * The contacts with the on-call roster's runtime overrides, shared with the Slack channel's mentions.
   * Default: built here from `contacts`.
   */
  liveContacts?: LiveContacts;
}

/** A value of a log line: bare when it is one plain word, else JSON-quoted (spaces, quotes, newlines). */
const logValue = (v: string) => (/^[\w@:.\-/+]+$/.test(v) ? v : JSON.stringify(v));

/**
 * One line per delivery, with the ids that find it again (incident, step, target, channel, channel ref) and
 * never the message: the SDK's activity logger would print the activity's whole context as a multi-line
 * object, which for a thousand incidents is tens of megabytes of log.
 */
export function deliveryLine(channel: string, n: Notification, r: DeliveryResult): string {
  let attempt = 1;
  try {
    attempt = Context.current().info.attempt;
  } catch {
    // not inside an activity (a direct call)
  }
  const fields: [string, string | undefined][] = [
    ['channel', channel],
    ['incident', n.incidentId],
    ['step', n.step],
    ['target', n.target],
    ['kind', n.kind],
    ['severity', n.severity],
    ['ref', r.ref],
    ...(attempt > 1 ? ([['attempt', String(attempt)]] as [string, string][]) : []),
  ];
  return `notification ${r.outcome} ${fields
    .filter((f): f is [string, string] => f[1] !== undefined)
    .map(([k, v]) => `${k}=${logValue(v)}`)
    .join(' ')}`;
}

export function createActivities(deps: ActivityDeps) {
  const logLine = deps.logLine ?? ((line: string) => void process.stdout.write(`${line}\n`));
  // With a ledger, every delivery is also a row in its `pages` table, through a spool that never holds a
  // page up and retries until the row lands.
  const ledger = deps.ledger;
  const spool = ledger
    ? new PageSpool({
        pool: ledger,
        dir: pageSpoolDir(
          path.resolve(
            deps.pageSpoolDir ?? process.env.LEDGER_SPOOL_DIR ?? path.join('data', 'ledger-spool'),
          ),
          ledger,
        ),
      })
    : null;
  const channels = spool
    ? Object.fromEntries(Object.entries(deps.channels).map(([name, c]) => [name, recordDeliveries(c, spool)]))
    : deps.channels;
  const live = deps.liveContacts ?? new LiveContacts(deps.contacts ?? EMPTY_CONTACT_CONFIG);
  return {
    ...createOncallActivities({
      contacts: deps.contacts ?? EMPTY_CONTACT_CONFIG,
      channels: deps.policyOverrides.channels ?? ['outbox'],
      deliver: (channel, n) => deliverOne(channel, n),
    }),
    ...createProcedureActivities({
      platform: deps.platform ?? resolvePlatformConfig(),
      dispatcher: deps.platformDispatcher,
    }),
    ...createLedgerActivities({ pool: deps.ledger ?? null }),
    ...createHeartbeatActivities({ policyOverrides: deps.policyOverrides }),
    /**
     * Every message one workflow activation composed for one channel (a re-page round, an escalation step
     * with its roles), each under its own idempotency key, in order. A failure stops the batch; the retry
     * sends it again and the keys make the ones already delivered duplicates.
     */
    async deliverNotifications(
      channel: string,
      batch: NotificationBatch,
    ): Promise<{ delivered: number; duplicates: number; at: number }> {
      let delivered = 0;
      let duplicates = 0;
      for (const n of unpackBatch(batch)) {
        const r = await deliverOne(channel, n);
        if (r.outcome === 'duplicate') duplicates += 1;
        else delivered += 1;
      }
      // `at`: the worker's time, recorded in history: it moves the incident's decision clock after an outage.
      return { delivered, duplicates, at: Date.now() };
    },

    /** One delivery to one channel; at least once, made harmless to repeat by the idempotency key. */
    async deliverNotification(channel: string, notification: Notification): Promise<DeliveryResult> {
      return deliverOne(channel, notification);
    },

    /** At incident start: the deployment's policy overrides, recorded in history. */
    async loadPolicyOverrides(): Promise<PolicyOverrides> {
      return deps.policyOverrides;
    },
  };

  async function deliverOne(channel: string, notification: Notification): Promise<DeliveryResult> {
    const impl = channels[channel];
    if (!impl) {
      throw ApplicationFailure.nonRetryable(
        `notification channel "${channel}" is not configured on this worker`,
        'UnknownChannel',
      );
    }
    // 4.1 "On-Call": the person each paged role is right now (rotation, override), resolved at send time.
    // The roster's runtime overrides come first (read at most every few seconds).
    const onCall = notification.onCall;
    const contacts = await live.refresh();
    const named = onCall?.length
      ? {
          ...notification,
          text: nameOnCall(notification.text, onCall, (role) => {
            const c = resolveContact(role as RoleId, Date.now(), contacts);
            return c.name === c.roleName ? null : c.name;
          }),
        }
      : notification;
    const result = await impl.deliver(named);
    logLine(deliveryLine(channel, notification, result));
    return result;
  }
}

export type IncidentActivities = ReturnType<typeof createActivities>;
