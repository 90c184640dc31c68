// The mutating remediations of 3.1-3.4 and 5.1. They run only behind the approval gate (DESIGN "Every
// mutating remediation ... goes through an approval gate"); the decision to ask for one is taken by
// src/playbook/procedures.ts in the workflow, never here.
//
// Mutating calls run at most once per decision even when Temporal retries the activity (worker died after
// the call, before reporting it). How each one is guarded:
// - activateKillSwitch: reads /operations/status first; an active kill switch is never activated again.
// - resumeTrading:      reads /operations/status first; only a killed platform is resumed (resume on a
//                       platform that is not killed is a no-op there anyway: "Trading already active"),
//                       and only the activation the approver was shown (`preconditions`).
// - pauseTrading:       reads /operations/status first; paused or killed is left alone.
// - rollbackModel:      the workflow passes the champion it saw before asking approval; the activity reads
//                       /models/router/status and rolls back only while that champion is still in place
//                       (a second rollback would go two versions back). Status unreadable -> no rollback.
// - reloadModels:       idempotent on the platform (reloads the same artifacts); verified by the caller.
// - restartContainer:   `inspect:<container>` (when allow-listed) gives State.StartedAt; a container
//                       started after the approval (`notStartedAfter`) was already restarted: skipped.
// - terminateBackend:   pg_terminate_backend only for the same pid AND the same query_start
//                       (microseconds) that the approval listed: a retry finds it gone, a recycled pid
//                       running another query is never hit.
//
// Before any of them acts, `preconditions` (src/playbook/safety.ts) are read again and judged by the one
// guard (safety-holds.ts guardCall): a call whose grounds are gone is refused with the reasons, not made.
import { ApplicationFailure } from '@temporalio/common';
import type { Precondition } from '../../playbook/safety';
import { logInfo, withHeartbeat, type PlatformContext } from './context';
import { mustBeOk } from './http';
import { killSwitchBody, reloadBody, rollbackBody, routerStatusBody, simpleOkBody } from './schemas';
import { guardCall, type GuardDeps } from './safety-holds';
import { readOperationsStatus } from './trading-api';

/** What every guarded call takes besides its own input: the grounds to re-check and whose call it is. */
export interface Guarded {
  preconditions?: Precondition[];
  /** The incident the call is made for: its own safety hold is no obstacle. */
  incidentId?: string;
}

/** A call the guard refused: nothing was sent to the platform. */
export interface Refusal {
  applied: false;
  refused: string[];
  message: string;
}

export function createRemediations(ctx: PlatformContext, guardDeps: GuardDeps) {
  const { cfg, withDb } = ctx;
  const { api } = ctx.http;
  const { runCommand, inspectContainer } = ctx.commands;
  const operationsStatus = () => readOperationsStatus(ctx);
  /** The guard rule: null when the call may go ahead, else the refusal to return instead of calling. */
  const refusal = async (what: string, g: Guarded): Promise<Refusal | null> => {
    if (!g.preconditions?.length) return null;
    const { verdict } = await guardCall(guardDeps, g.preconditions, g.incidentId ?? null);
    if (verdict.ok) return null;
    logInfo(`${what} refused by its guard`, { reasons: verdict.reasons });
    return {
      applied: false,
      refused: verdict.reasons,
      message: `${what} not performed: ${verdict.reasons.join('; ')}`,
    };
  };
  return {
    /** 5.1 "Kill all trading": POST /operations/kill-switch unless already active. */
    async activateKillSwitch(
      input: {
        reason: string;
        activatedBy: string;
        closePositions?: boolean;
        notifyTeam?: boolean;
      } & Guarded,
    ): Promise<{
      applied: boolean;
      alreadyActive: boolean;
      activatedAt: string | null;
      message: string;
      refused?: string[];
    }> {
      return withHeartbeat(async () => {
        const no = await refusal('kill switch', input);
        if (no) return { ...no, alreadyActive: false, activatedAt: null };
        const before = mustBeOk('operations status before kill switch', await operationsStatus());
        if (before.kill_switch_active) {
          return {
            applied: false,
            alreadyActive: true,
            activatedAt: before.activated_at ?? null,
            message: `kill switch already active (by ${before.activated_by ?? '?'}: ${before.reason ?? ''})`,
          };
        }
        const r = mustBeOk(
          'POST kill-switch',
          await api(cfg.operationsService, 'killSwitch', killSwitchBody, {
            method: 'POST',
            body: {
              reason: input.reason,
              activated_by: input.activatedBy,
              close_positions: input.closePositions ?? true,
              notify_team: input.notifyTeam ?? true,
            },
          }),
        );
        if (!r.success)
          throw ApplicationFailure.retryable(
            `kill switch not activated: ${r.message ?? ''}`,
            'PlatformError',
          );
        logInfo('kill switch activated', { activatedBy: input.activatedBy });
        return {
          applied: true,
          alreadyActive: false,
          activatedAt: r.activated_at ?? null,
          message: r.message ?? 'kill switch activated',
        };
      });
    },

    /** 5.1 "Resume trading": only a killed platform; the code is CONFIRM_RESUME (checked by the parent and the platform). */
    async resumeTrading(
      input: { resumedBy: string; confirmationCode: string } & Guarded,
    ): Promise<{ applied: boolean; modeBefore: string; message: string; refused?: string[] }> {
      return withHeartbeat(async () => {
        const before = mustBeOk('operations status before resume', await operationsStatus());
        if (before.kill_switch_active) {
          const no = await refusal('resume', input);
          if (no) return { ...no, modeBefore: before.mode };
        }
        if (!before.kill_switch_active) {
          return {
            applied: false,
            modeBefore: before.mode,
            message:
              before.mode === 'paused'
                ? 'kill switch not active; trading is paused and the platform has no unpause'
                : 'kill switch not active: trading already active',
          };
        }
        const r = mustBeOk(
          'POST resume',
          await api(cfg.operationsService, 'resume', simpleOkBody, {
            method: 'POST',
            body: { resumed_by: input.resumedBy, confirmation_code: input.confirmationCode },
          }),
        );
        logInfo('trading resumed', { resumedBy: input.resumedBy });
        return { applied: true, modeBefore: before.mode, message: r.message ?? 'resumed' };
      });
    },

    /** 5.1 "Pause trading (soft)": unless already paused or killed. */
    async pauseTrading(
      input: { pausedBy: string; reason: string } & Guarded,
    ): Promise<{ applied: boolean; modeBefore: string; message: string; refused?: string[] }> {
      return withHeartbeat(async () => {
        const no = await refusal('pause', input);
        if (no) return { ...no, modeBefore: 'unknown' };
        const before = mustBeOk('operations status before pause', await operationsStatus());
        if (before.mode !== 'normal')
          return { applied: false, modeBefore: before.mode, message: `trading already ${before.mode}` };
        const r = mustBeOk(
          'POST pause',
          await api(cfg.operationsService, 'pause', simpleOkBody, {
            method: 'POST',
            body: { paused_by: input.pausedBy, reason: input.reason },
          }),
        );
        return { applied: true, modeBefore: before.mode, message: r.message ?? 'paused' };
      });
    },

    /** 3.2 rollback step 2: POST /models/rollback while `expectedChampion` is still the champion. */
    async rollbackModel(
      input: {
        reason: string;
        initiatedBy: string;
        expectedChampion: string | null;
        targetVersion?: number;
      } & Guarded,
    ): Promise<{
      applied: boolean;
      previousModel: string | null;
      newModel: string | null;
      message: string;
      refused?: string[];
    }> {
      return withHeartbeat(async () => {
        const no = await refusal('rollback', input);
        if (no) return { ...no, previousModel: input.expectedChampion, newModel: null };
        const status = mustBeOk(
          'router status before rollback',
          await api('inference', 'routerStatus', routerStatusBody),
        );
        const champion = status.champion ?? null;
        if (input.expectedChampion !== null && champion !== input.expectedChampion) {
          return {
            applied: false,
            previousModel: input.expectedChampion,
            newModel: champion,
            message: `champion is already ${champion ?? '?'} (was ${input.expectedChampion}): not rolling back again`,
          };
        }
        const r = mustBeOk(
          'POST rollback',
          await api('inference', 'rollback', rollbackBody, {
            method: 'POST',
            body: {
              reason: input.reason,
              initiated_by: input.initiatedBy,
              ...(input.targetVersion !== undefined ? { target_version: input.targetVersion } : {}),
            },
          }),
        );
        if (!r.success)
          throw ApplicationFailure.retryable(
            `rollback reported failure: ${r.message ?? ''}`,
            'PlatformError',
          );
        logInfo('model rolled back', { from: r.previous_model, to: r.new_model });
        return {
          applied: true,
          previousModel: r.previous_model,
          newModel: r.new_model,
          message: r.message ?? 'rolled back',
        };
      });
    },

    /** 5.1 "Force model reload": idempotent on the platform; success is verified afterwards by the caller. */
    async reloadModels(input: Guarded = {}): Promise<{
      applied: boolean;
      reloaded: string[];
      failed: number;
      message: string;
      refused?: string[];
    }> {
      return withHeartbeat(async () => {
        const no = await refusal('model reload', input);
        if (no) return { ...no, reloaded: [], failed: 0 };
        const r = mustBeOk('POST reload', await api('inference', 'reload', reloadBody, { method: 'POST' }));
        return {
          applied: r.success,
          reloaded: r.reloaded_models ?? [],
          failed: r.failed_models?.length ?? 0,
          message: r.message ?? '',
        };
      });
    },

    /** 5.1 "Restart trading/inference API": the allow-listed `restart:<container>`; skipped when already restarted. */
    async restartContainer(
      input: { container: string; notStartedAfter: string } & Guarded,
    ): Promise<{ applied: boolean; message: string; startedAt: string | null; refused?: string[] }> {
      return withHeartbeat(async () => {
        const no = await refusal(`restart of ${input.container}`, input);
        if (no) return { ...no, startedAt: null };
        if (!cfg.commands[`restart:${input.container}`]) {
          throw ApplicationFailure.nonRetryable(
            `restart of ${input.container} is not configured (no \`restart:${input.container}\` command in the allow-list)`,
            'CommandNotConfigured',
          );
        }
        const before = await inspectContainer(input.container);
        if (
          before.state?.startedAt &&
          before.state.status === 'running' &&
          Date.parse(before.state.startedAt) > Date.parse(input.notStartedAfter)
        ) {
          return {
            applied: false,
            message: `${input.container} already restarted at ${before.state.startedAt}`,
            startedAt: before.state.startedAt,
          };
        }
        const r = await runCommand(`restart:${input.container}`);
        if (!r.ok)
          throw ApplicationFailure.retryable(
            `restart of ${input.container} failed: ${r.error}`,
            'CommandFailed',
          );
        const after = await inspectContainer(input.container);
        logInfo('container restarted', { container: input.container });
        return {
          applied: true,
          message: `${input.container} restarted${r.stdout.trim() ? `: ${r.stdout.trim().slice(0, 200)}` : ''}`,
          startedAt: after.state?.startedAt ?? null,
        };
      });
    },

    /** 3.4 "Kill long-running queries": pg_terminate_backend for that pid and that query only. */
    async terminateBackend(
      input: { pid: number; queryStartUs: string } & Guarded,
    ): Promise<{ applied: boolean; message: string; refused?: string[] }> {
      return withHeartbeat(async () => {
        const no = await refusal(`pg_terminate_backend(${input.pid})`, input);
        if (no) return no;
        const r = await withDb((db) =>
          db.query<{ terminated: boolean }>(
            `SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
             WHERE pid = $1 AND (EXTRACT(EPOCH FROM query_start) * 1000000)::bigint = $2::bigint`,
            [input.pid, input.queryStartUs],
          ),
        );
        const row = r.rows[0];
        if (!row)
          return {
            applied: false,
            message: `pid ${input.pid} no longer runs that query (already ended or terminated)`,
          };
        logInfo('backend terminated', { pid: input.pid });
        return {
          applied: row.terminated,
          message: row.terminated
            ? `pid ${input.pid} terminated`
            : `pg_terminate_backend(${input.pid}) returned false`,
        };
      });
    },
  };
}
