// Every activity's timeouts and retries, in one place: the incident, the post-mortem and the procedures
// call the same activities and must agree on how patiently each kind is retried.
import type { ActivityOptions } from '@temporalio/workflow';

/**
 * Paging and reminders must never be lost: retried with backoff for up to an hour, each channel its own
 * activity so a failing one never delays another (DESIGN "Side effects"). startToClose is short so a
 * delivery whose worker died is retried within seconds.
 */
export const DELIVERY: ActivityOptions = {
  startToCloseTimeout: '15 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
};

/**
 * The ledger is the record for the monthly metrics (6.4): retried patiently (about an hour), never in the
 * paging path. Each write carries the whole record, so a later write repairs one that gave up.
 */
export const LEDGER: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 30,
  },
};

/** The deployment's policy, for a start that did not carry it: read beside the first page, never before it. */
export const SETUP: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '2 minutes',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
};

/**
 * Platform checks: a few seconds each (HTTP/SQL/command timeouts come from the platform config). They
 * heartbeat every second, so a killed worker is noticed within 10 s and the check retried elsewhere.
 */
export const CHECK: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 3,
  },
};

/**
 * Remediations (kill switch, resume, pause, rollback, restart, terminate): guarded inside the activity so a
 * retry after a crash does not act twice (src/activities/platform/remediations.ts); bad requests do not retry.
 */
export const REMEDIATION: ActivityOptions = {
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [
      'PlatformBadRequest',
      'PlatformNotFound',
      'PlatformNotConfigured',
      'PlatformError',
      'CommandNotConfigured',
      'PlatformConfig',
    ],
  },
};
