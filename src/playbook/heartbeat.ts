// The heartbeat monitor's pure core: a beat pushes the deadline back; the deadline passing with no beat is a
// silence, which opens an incident (once per silence, never once per missed period); a beat during a silence
// clears it. The workflow (src/workflows/heartbeat.ts) keeps the clock, the timer and the activities.
import {
  heartbeatTitle,
  MONITORING_GAP,
  monitorSpecSchema,
  type Beat,
  type HeartbeatMonitorInput,
  type MonitorCarried,
  type MonitorSpec,
  type MonitorState,
  type MonitorStatus,
} from './contract/heartbeat';
import type { Severity } from './severity';
import { isoOf } from './time';

/** A beat claiming a time further ahead of the monitor's clock than this is taken at the monitor's clock. */
const AHEAD_TOLERANCE_MS = 5_000;

export interface MonitorCore {
  spec: MonitorSpec;
  createdBy: string;
  createdAt: number;
  lastBeatAt: number | null;
  lastBeatSource: string | null;
  beats: number;
  /** Beats refused (a payload that is not a beat): counted, never a beat. */
  rejected: number;
  silences: number;
  silence: { since: number; fingerprint: string; incidentWorkflowId: string | null } | null;
  lastSilence: { since: number; endedAt: number; incidentWorkflowId: string | null } | null;
  incidentTimeScale: number;
  /** Side effects to run, in order (the workflow runs each as an activity). */
  effects: MonitorEffect[];
}

/** The incident a silence opens: everything the activity needs to start it through the normal path. */
export interface OpenSilence {
  type: 'open';
  name: string;
  severity: Severity;
  kind: typeof MONITORING_GAP;
  title: string;
  fingerprint: string;
  /** The deadline that passed: when the silence began. */
  since: string;
  lastBeatAt: string | null;
  lastBeatSource: string | null;
  periodSeconds: number;
  graceSeconds: number;
  runbook?: string;
  timeScale: number;
}

export interface ClearSilence {
  type: 'clear';
  name: string;
  fingerprint: string;
  /** Where the silence's incident runs (null: its opening has not answered yet; the activity works it out). */
  incidentWorkflowId: string | null;
  since: string;
  resumedAt: string;
  source: string | null;
}

export type MonitorEffect = OpenSilence | ClearSilence;

export function initMonitor(input: HeartbeatMonitorInput, now: number): MonitorCore {
  const spec = monitorSpecSchema.parse(input.spec);
  const c = input.carried;
  const ms = (iso: string | null | undefined) => (iso ? Date.parse(iso) : null);
  return {
    spec,
    createdBy: input.createdBy,
    createdAt: ms(c?.createdAt) ?? now,
    lastBeatAt: ms(c?.lastBeatAt),
    lastBeatSource: c?.lastBeatSource ?? null,
    beats: c?.beats ?? 0,
    rejected: c?.rejected ?? 0,
    silences: c?.silences ?? 0,
    silence: c?.silence
      ? {
          since: Date.parse(c.silence.since),
          fingerprint: c.silence.fingerprint,
          incidentWorkflowId: c.silence.incidentWorkflowId,
        }
      : null,
    lastSilence: c?.lastSilence
      ? {
          since: Date.parse(c.lastSilence.since),
          endedAt: Date.parse(c.lastSilence.endedAt),
          incidentWorkflowId: c.lastSilence.incidentWorkflowId,
        }
      : null,
    incidentTimeScale: input.incidentTimeScale ?? 1,
    effects: [],
  };
}

/** What the next run carries (continue-as-new). Effects are run before a run continues. */
export function carry(m: MonitorCore): MonitorCarried {
  return {
    createdAt: isoOf(m.createdAt),
    lastBeatAt: m.lastBeatAt === null ? null : isoOf(m.lastBeatAt),
    lastBeatSource: m.lastBeatSource,
    beats: m.beats,
    rejected: m.rejected,
    silences: m.silences,
    silence: m.silence
      ? {
          since: isoOf(m.silence.since),
          fingerprint: m.silence.fingerprint,
          incidentWorkflowId: m.silence.incidentWorkflowId,
        }
      : null,
    lastSilence: m.lastSilence
      ? {
          since: isoOf(m.lastSilence.since),
          endedAt: isoOf(m.lastSilence.endedAt),
          incidentWorkflowId: m.lastSilence.incidentWorkflowId,
        }
      : null,
  };
}

const windowMs = (spec: MonitorSpec) => (spec.periodSeconds + spec.graceSeconds) * 1000;

/** When the silence is called if no beat comes: null while waiting for the first beat, and while silent. */
export function deadlineOf(m: MonitorCore): number | null {
  if (m.silence || m.lastBeatAt === null) return null;
  return m.lastBeatAt + windowMs(m.spec);
}

export function stateOf(m: MonitorCore): MonitorState {
  return m.silence ? 'silent' : m.lastBeatAt === null ? 'waiting' : 'healthy';
}

/**
 * The time a beat counts at: the ingress's receipt time (`at`) when it is sane (not ahead of the monitor's
 * clock, not before the last beat), else the monitor's clock. A beat that waited in Temporal while the
 * worker was away counts when it arrived, so an outage of the worker neither calls nor hides a silence.
 */
export function beatTime(m: MonitorCore, beat: Beat, now: number): number {
  const at = beat.at ? Date.parse(beat.at) : NaN;
  if (!Number.isFinite(at) || at > now + AHEAD_TOLERANCE_MS) return now;
  return Math.max(Math.min(at, now), m.lastBeatAt ?? -Infinity);
}

/**
 * A beat. During a silence it clears it. A beat that arrives after the deadline passed unseen (the worker was
 * away when it passed) first calls the silence it ends: the gap was real, so it is an incident, cleared at once.
 */
export function applyBeat(m: MonitorCore, beat: Beat, now: number): void {
  const at = beatTime(m, beat, now);
  const deadline = deadlineOf(m);
  if (deadline !== null && at > deadline) openSilence(m, deadline);
  m.beats += 1;
  m.lastBeatAt = at;
  m.lastBeatSource = beat.source ?? null;
  if (m.silence) {
    m.effects.push({
      type: 'clear',
      name: m.spec.name,
      fingerprint: m.silence.fingerprint,
      incidentWorkflowId: m.silence.incidentWorkflowId,
      since: isoOf(m.silence.since),
      resumedAt: isoOf(at),
      source: m.lastBeatSource,
    });
    m.lastSilence = { since: m.silence.since, endedAt: at, incidentWorkflowId: m.silence.incidentWorkflowId };
    m.silence = null;
  }
}

/** The clock moved: a deadline that passed with no beat is a silence. */
export function tick(m: MonitorCore, now: number): void {
  const deadline = deadlineOf(m);
  if (deadline !== null && now >= deadline) openSilence(m, deadline);
}

/** The deployment changed the monitor (period, grace, severity, texts); a silence in progress goes on. */
export function reconfigure(m: MonitorCore, spec: MonitorSpec): boolean {
  if (JSON.stringify(spec) === JSON.stringify(m.spec)) return false;
  m.spec = spec;
  return true;
}

function openSilence(m: MonitorCore, deadline: number): void {
  m.silences += 1;
  // One fingerprint per silence: its incident hears this alert fire once and clear once.
  const fingerprint = `heartbeat:${m.spec.name}:${m.silences}:${isoOf(deadline)}`;
  m.silence = { since: deadline, fingerprint, incidentWorkflowId: null };
  m.effects.push({
    type: 'open',
    name: m.spec.name,
    severity: m.spec.severity,
    kind: MONITORING_GAP,
    title: heartbeatTitle(m.spec.name, m.spec.description),
    fingerprint,
    since: isoOf(deadline),
    lastBeatAt: m.lastBeatAt === null ? null : isoOf(m.lastBeatAt),
    lastBeatSource: m.lastBeatSource,
    periodSeconds: m.spec.periodSeconds,
    graceSeconds: m.spec.graceSeconds,
    ...(m.spec.runbook ? { runbook: m.spec.runbook } : {}),
    timeScale: m.incidentTimeScale,
  });
}

/** The incident a silence opened answered with its workflow id: kept for `status` and the clearing. */
export function silenceOpened(m: MonitorCore, fingerprint: string, incidentWorkflowId: string): void {
  if (m.silence?.fingerprint === fingerprint) m.silence.incidentWorkflowId = incidentWorkflowId;
  if (m.lastSilence && m.lastSilence.incidentWorkflowId === null)
    m.lastSilence.incidentWorkflowId = incidentWorkflowId;
  for (const e of m.effects)
    if (e.type === 'clear' && e.fingerprint === fingerprint && e.incidentWorkflowId === null)
      e.incidentWorkflowId = incidentWorkflowId;
}

export function statusOf(m: MonitorCore): MonitorStatus {
  const deadline = deadlineOf(m);
  const incident = m.silence?.incidentWorkflowId ?? m.lastSilence?.incidentWorkflowId ?? null;
  return {
    name: m.spec.name,
    periodSeconds: m.spec.periodSeconds,
    graceSeconds: m.spec.graceSeconds,
    severity: m.spec.severity,
    lastBeatAt: m.lastBeatAt === null ? null : isoOf(m.lastBeatAt),
    lastBeatSource: m.lastBeatSource,
    deadline: deadline === null ? null : isoOf(deadline),
    state: stateOf(m),
    ...(incident ? { incidentWorkflowId: incident } : {}),
    ...(m.silence ? { silentSince: isoOf(m.silence.since) } : {}),
    beats: m.beats,
    rejected: m.rejected,
    silences: m.silences,
    createdAt: isoOf(m.createdAt),
    createdBy: m.createdBy,
  };
}

/** The alert a silence's incident hears (its timeline says when the last beat came and what sent it). */
export function silenceSummary(e: OpenSilence): string {
  const last = e.lastBeatAt
    ? `last beat at ${e.lastBeatAt}${e.lastBeatSource ? ` from ${e.lastBeatSource}` : ''}`
    : 'no beat yet';
  return `No beat from monitor ${e.name} since its deadline ${e.since} (${last}; expected every ${e.periodSeconds} s, grace ${e.graceSeconds} s)`;
}

export function clearSummary(e: ClearSilence): string {
  return `Beats of monitor ${e.name} resumed at ${e.resumedAt}${e.source ? ` (from ${e.source})` : ''}; silent since ${e.since}`;
}
