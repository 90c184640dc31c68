import { z } from 'zod';
import { ESCALATION_MATRIX, type EscalationMatrix } from './escalation';
import { ROLE_IDS, type RoleId } from './roles';
import { SEVERITY_TABLE, SEVERITIES, type Severity, type Target } from './severity';
import { HOLIDAY_CALENDARS, type HolidayCalendar } from './holidays';

/**
 * The policy in force for one incident. It is snapshotted into the workflow state when the incident opens
 * (DESIGN lifecycle), so a config change or a deploy never rewrites a running incident's plan.
 * Durations are playbook minutes; the workflow divides them by the incident's timeScale.
 */
export interface IncidentPolicy {
  version: string;
  escalationMatrix: EscalationMatrix;
  /**
   * Roles an escalation may reach past the last step of a severity's matrix (none by default: 2.3 ends
   * there, and the way up is a higher severity). A deployment may name, say, `trading-lead` for P2.
   */
  escalationBeyondMatrix: Record<Severity, RoleId[]>;
  responseTarget: Record<Severity, Target>;
  resolutionTarget: Record<Severity, Target>;
  /** Until acknowledged, engaged roles are paged again at this cadence (null = no re-page). */
  repageEveryMinutes: Record<Severity, number | null>;
  /** Status-update (4.2) reminders to the acknowledger until resolved (null = none). */
  statusUpdateEveryMinutes: Record<Severity, number | null>;
  /**
   * Real seconds, not playbook time: the least interval between two pages to one role (re-page rounds, 4.2
   * reminders), whatever the timeScale. A scaled clock is for drills; the people and channels on the other
   * end are not. 0 = no floor.
   */
  minPageIntervalSeconds: number;
  /** An approval request unanswered this long is escalated (and again after each period). */
  approvalTimeoutMinutes: number;
  /** After `resolve`, a re-firing alert reopens the incident for this long. */
  reopenWindowMinutes: number;
  /** 3.1 "Financial losses >$1000: Immediate CTO notification". */
  ctoLossThresholdUsd: number;
  businessDayEndHour: number;
  holidays: string[];
  /** Public holidays skipped besides `holidays`: Colombia's (the desk is in Bogotá) unless set to `none`. */
  holidayCalendar: HolidayCalendar;
  /** Notification channels, each delivered by its own activity so one failing never delays another. */
  channels: string[];
  /**
   * 4.1 "Updates: This thread / #trading-incidents": the chat channel people follow the incident in (the
   * deployment's Slack channel). Absent in a policy snapshotted before it existed: the playbook's.
   */
  updatesChannel: string;
  /** Actions the config pre-approves where the playbook prescribes them (e.g. "kill-switch:data-outage-60m"). */
  preApprovedActions: string[];
  /** Continue-as-new once the history has this many events (carrying the whole state). */
  continueAsNewAfterEvents: number;
  /**
   * 6.4 MTTD: detection counts from the alert's `startsAt`, but never from earlier than this many real minutes
   * before the incident opened (DEFAULT_POLICY says why). Absent in a policy snapshotted before it existed.
   */
  detectionLookbackMinutes: number;
  /**
   * Who may approve or reject each mutating remediation (by its action: `kill-switch`, `resume`, ...; `*` for
   * any other), as the role of a verified Slack or PagerDuty origin. A typed decision (Web UI, `temporal`,
   * tctl) carries no role: it is taken as before and recorded as typed, unverified. Absent in a policy
   * snapshotted before it existed.
   */
  approvalAuthority: Record<string, RoleId[]>;
}

/**
 * The playbook's commands name the on-call as who runs each remediation ("resumed_by": "oncall" in 3.1
 * step 5 and 3.3 recovery, "initiated_by": "oncall_engineer" in the 3.2 rollback, the 3.3 ">60 minutes:
 * Activate kill switch" and "Manual pause confirmation" rows, 3.4 "Identify and terminate"), so both on-call
 * roles (2.1, 24/7, one rotation each) keep authority over what their procedure asks. Beside them, the lead
 * who owns what the action touches: the Trading Lead for trading itself (kill switch, pause, resume), the ML
 * Lead for the model (3.2 rollback), the Engineering Lead for services and the database (3.1 restarts, 3.4
 * terminating a backend). The CTO, who is engaged for P0 and for losses over $1000 (2.3, 3.1), may decide
 * any. Left out on purpose: leads outside their domain (the ML Lead cannot stop trading, the Trading Lead
 * cannot restart services) and the P3 Team Lead, whom no procedure with a remediation engages.
 */
const ON_CALL: RoleId[] = ['oncall-primary', 'oncall-secondary'];
export const DEFAULT_APPROVAL_AUTHORITY: Record<string, RoleId[]> = {
  'kill-switch': [...ON_CALL, 'trading-lead', 'cto'],
  pause: [...ON_CALL, 'trading-lead', 'cto'],
  resume: [...ON_CALL, 'trading-lead', 'cto'],
  rollback: [...ON_CALL, 'ml-lead', 'cto'],
  restart: [...ON_CALL, 'eng-lead', 'cto'],
  'terminate-backend': [...ON_CALL, 'eng-lead', 'cto'],
  // A model reload, a cache flush, anything a later procedure asks: engineering.
  '*': [...ON_CALL, 'eng-lead', 'cto'],
};

/** 4.1 "Updates:" channel of a policy (one snapshotted before it existed: the playbook's). */
export const updatesChannelOf = (policy: IncidentPolicy): string =>
  (policy.updatesChannel as string | undefined) ?? PLAYBOOK_UPDATES_CHANNEL;

/** The roles that may decide `action` under `policy` (null: a policy older than approval authority). */
export function approvalAuthorityFor(policy: IncidentPolicy, action: string): RoleId[] | null {
  const table = policy.approvalAuthority as Record<string, RoleId[]> | undefined;
  if (!table) return null;
  return table[action] ?? table['*'] ?? null;
}

/** 4.1's channel, as the playbook names it. */
export const PLAYBOOK_UPDATES_CHANNEL = '#trading-incidents';

export const DEFAULT_POLICY: IncidentPolicy = {
  version: 'playbook-1.0.0',
  escalationMatrix: ESCALATION_MATRIX,
  escalationBeyondMatrix: { P0: [], P1: [], P2: [], P3: [] },
  responseTarget: mapSeverities((s) => SEVERITY_TABLE[s].responseTarget),
  resolutionTarget: mapSeverities((s) => SEVERITY_TABLE[s].resolutionTarget),
  // Re-page cadence is our choice (the playbook is silent): P0/P1 every 5 min, P2 every 15 min, P3 not at all
  // (its response target is the next business day).
  repageEveryMinutes: { P0: 5, P1: 5, P2: 15, P3: null },
  statusUpdateEveryMinutes: { P0: 30, P1: 60, P2: null, P3: null },
  // 1 s: binds only past timeScale 300 for the 5-minute re-page (300x drills keep their 1 s cadence, 60x their
  // 5 s), and keeps 100,000x to a round a second instead of hundreds.
  minPageIntervalSeconds: 1,
  approvalTimeoutMinutes: 15,
  reopenWindowMinutes: 30,
  ctoLossThresholdUsd: 1000,
  businessDayEndHour: 18,
  holidays: [],
  holidayCalendar: 'CO',
  channels: ['outbox'],
  updatesChannel: PLAYBOOK_UPDATES_CHANNEL,
  preApprovedActions: [],
  continueAsNewAfterEvents: 8000,
  // 6.4 "MTTD: time from issue start to first alert". An alert's `startsAt` within the hour before the
  // incident opened is that start: the rule's `for:`, Alertmanager's group wait and a delivery that
  // lagged (an ingress down for 40 minutes is 40 minutes of detection, and the metric must show it). Older,
  // the alert has been firing since before this incident (a long-firing alert re-sent after the previous
  // incident on its key closed, a silence that ended, a rule that fired for months unrouted): that is not
  // this incident's detection delay, and a 324-day MTTD would swamp every mean. So detection is bounded at an
  // hour before opening; the timeline keeps "alert firing since" with the real start. Real minutes: the
  // alert pipeline runs in real time whatever the incident's timeScale.
  detectionLookbackMinutes: 60,
  approvalAuthority: DEFAULT_APPROVAL_AUTHORITY,
};

export function mapSeverities<T>(fn: (s: Severity) => T): Record<Severity, T> {
  return { P0: fn('P0'), P1: fn('P1'), P2: fn('P2'), P3: fn('P3') };
}

const roleSchema = z.enum(ROLE_IDS);
const severityRecord = <T extends z.ZodType>(schema: T) =>
  z.object({ P0: schema, P1: schema, P2: schema, P3: schema }).partial();
const targetSchema = z.union([
  z.object({ kind: z.literal('duration'), minutes: z.number().positive(), label: z.string() }),
  z.object({ kind: z.literal('businessDays'), days: z.number().int().positive(), label: z.string() }),
]);

/** Overrides a deployment config may make; anything left out keeps the playbook default. */
export const policyOverridesSchema = z
  .object({
    version: z.string().min(1),
    escalationMatrix: severityRecord(
      z
        .array(z.object({ afterMinutes: z.number().min(0), roles: z.array(roleSchema).min(1) }).strict())
        .min(1),
    ),
    escalationBeyondMatrix: severityRecord(z.array(roleSchema)),
    responseTarget: severityRecord(targetSchema),
    resolutionTarget: severityRecord(targetSchema),
    repageEveryMinutes: severityRecord(z.number().positive().nullable()),
    statusUpdateEveryMinutes: severityRecord(z.number().positive().nullable()),
    minPageIntervalSeconds: z.number().min(0).max(3600),
    approvalTimeoutMinutes: z.number().positive(),
    reopenWindowMinutes: z.number().min(0),
    ctoLossThresholdUsd: z.number().min(0),
    businessDayEndHour: z.number().int().min(0).max(23),
    holidays: z.array(z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'holidays are YYYY-MM-DD')),
    holidayCalendar: z.enum(HOLIDAY_CALENDARS),
    channels: z.array(z.string().min(1)).min(1),
    updatesChannel: z.string().min(1).max(200),
    detectionLookbackMinutes: z.number().min(0).max(10_080),
    preApprovedActions: z.array(z.string().min(1)),
    continueAsNewAfterEvents: z.number().int().min(200),
    /**
     * The public key (PEM, RSA 2048 bits or more) that verifies the ingress's signature on an action's
     * origin (docs/channels.md "Identity"). Read by the incident from its worker's config only: a value in a
     * start input is ignored, so nobody can bring their own. Not part of the incident's policy snapshot.
     */
    originVerifyKey: z.string().min(1).max(20_000),
    /** Merged over DEFAULT_APPROVAL_AUTHORITY, action by action. */
    approvalAuthority: z.record(z.string().min(1).max(100), z.array(roleSchema).min(1)),
  })
  .strict()
  .partial();
export type PolicyOverrides = z.infer<typeof policyOverridesSchema>;

export function resolvePolicy(all: PolicyOverrides = {}): IncidentPolicy {
  // Trust material, not a rule of the incident: the incident takes it from its worker (state.originKey).
  const { originVerifyKey: _key, ...overrides } = all;
  const merged = <T>(base: Record<Severity, T>, over?: Partial<Record<Severity, T>>): Record<Severity, T> =>
    mapSeverities((s) => (over?.[s] !== undefined ? (over[s] as T) : base[s]));
  return {
    ...DEFAULT_POLICY,
    ...overrides,
    escalationMatrix: merged(DEFAULT_POLICY.escalationMatrix, overrides.escalationMatrix),
    escalationBeyondMatrix: merged(DEFAULT_POLICY.escalationBeyondMatrix, overrides.escalationBeyondMatrix),
    responseTarget: merged(DEFAULT_POLICY.responseTarget, overrides.responseTarget),
    resolutionTarget: merged(DEFAULT_POLICY.resolutionTarget, overrides.resolutionTarget),
    repageEveryMinutes: merged(DEFAULT_POLICY.repageEveryMinutes, overrides.repageEveryMinutes),
    statusUpdateEveryMinutes: merged(
      DEFAULT_POLICY.statusUpdateEveryMinutes,
      overrides.statusUpdateEveryMinutes,
    ),
    approvalAuthority: { ...DEFAULT_POLICY.approvalAuthority, ...overrides.approvalAuthority },
  };
}

export { SEVERITIES };
