// Opening an incident (a new one, or a run carried on by continue-as-new), and the deployment's config
// arriving: its policy, which starts a procedure held back for it, and the origin key.
import { resolvePolicy, type PolicyOverrides } from '../policy';
import { engage, notify, record, startText, type Draft } from './draft';
import { parseRsaPublicKeyPem, sha256, utf8 } from './origin-proof';
import { startProcedure } from './procedure';
import { escalationPlan, isOpen, patchedIn, type IncidentState } from './state';

export function open(d: Draft): void {
  const s = d.s;
  record(d, 'system', 'opened', `Incident opened: ${s.title} (${s.severity}, ${s.kind})`, {
    source: s.source?.system ?? 'manual',
  });
  engage(
    d,
    escalationPlan(s, s.openedAt).due.flatMap((p) => p.roles),
    `escalate-${s.severity}-0m`,
    `${s.severity} initial response`,
  );
  const paged = s.engagements.map((e) => e.role);
  notify(d, 'info', 'start', 'channel', startText(s, `New ${s.severity} incident`, paged), '4.1', paged);
  // The procedure reads its pre-approvals and approval timeout from the policy: started on the playbook's
  // defaults while the deployment's policy loads, it would ask for what the deployment pre-approved.
  if (!(s.policyPending && patchedIn(s, 'procedureAfterPolicy'))) startProcedure(d);
  // A start without the deployment's policy (the CLI) loads it beside the first page, not before it; one
  // that carried it (the ingress) still takes the origin key from the worker.
  if (s.policyPending) d.effects.push({ type: 'deployment.load', want: 'policy' });
  else if (patchedIn(s, 'verifiedOrigin')) d.effects.push({ type: 'deployment.load', want: 'originKey' });
}

/**
 * The first task of a run carried on by continue-as-new: what the run before had not seen delivered goes
 * again, and a policy it was still waiting for is asked again (the procedure waits for it).
 */
export function resume(d: Draft): void {
  const s = d.s;
  for (const { channel, notifications } of s.undelivered)
    d.effects.push({ type: 'deliver', channel, notifications });
  s.undelivered = [];
  if (s.policyPending && patchedIn(s, 'procedureAfterPolicy'))
    d.effects.push({ type: 'deployment.load', want: 'policy' });
}

/**
 * The deployment's config arrived. The origin key comes from it, never from the start's overrides; the
 * policy is the deployment's with the start's own overrides (`start`) over it.
 */
export function deploymentLoaded(
  d: Draft,
  want: 'policy' | 'originKey',
  overrides: PolicyOverrides,
  start: PolicyOverrides,
): void {
  if (want === 'originKey' || patchedIn(d.s, 'verifiedOrigin'))
    originKeyArrived(d, overrides.originVerifyKey ?? null);
  if (want === 'policy') policyArrived(d, { ...overrides, ...start });
}

/** The deployment's config could not be read: the playbook defaults (and the start's overrides) stand. */
export function deploymentFailed(
  d: Draft,
  want: 'policy' | 'originKey',
  error: string,
  start: PolicyOverrides,
): void {
  if (want === 'originKey') {
    record(
      d,
      'system',
      'origin.key.failed',
      `origin key not loaded, Slack and PagerDuty actions are recorded as unverified: ${error}`,
    );
    return;
  }
  record(d, 'system', 'policy.failed', `deployment policy not loaded, playbook defaults kept: ${error}`);
  policyArrived(d, start);
}

/** A child that is not the incident's current procedure (a reopen started another). */
export const earlierRun = (s: IncidentState, workflowId: string | undefined): boolean =>
  workflowId !== undefined && s.procedure !== null && workflowId !== s.procedure.workflowId;

/**
 * The deployment's policy arrived (a start that did not carry it). Messages already composed go again to
 * the channels it adds (same keys); steps its matrix makes due fire at the next tick. Roles the default
 * matrix paged stay engaged. The procedure starts now, on this policy. A load that failed arrives here too,
 * with the start's own overrides over the playbook defaults (the timeline says so before).
 */
export function policyArrived(d: Draft, overrides: PolicyOverrides): void {
  const s = d.s;
  if (!s.policyPending) return;
  const before = new Set(s.policy.channels);
  s.policy = resolvePolicy(overrides);
  s.policyPending = false;
  const added = s.policy.channels.filter((c) => !before.has(c));
  if (added.length > 0)
    for (const n of s.early) d.effects.push({ type: 'notify', notification: n, channels: added });
  s.early = [];
  record(
    d,
    'system',
    'policy',
    `Policy ${s.policy.version} in force (channels: ${s.policy.channels.join(', ')}; pre-approved: ${s.policy.preApprovedActions.join(', ') || 'none'})`,
    {
      preApprovedActions: s.policy.preApprovedActions,
      approvalTimeoutMinutes: s.policy.approvalTimeoutMinutes,
    },
  );
  // Held back at open until now (a procedure that started at open has a `procedure` already), or by a
  // reopen while the policy was loading.
  if (
    isOpen(s) &&
    (s.procedure === null || (s.procedure.status === 'cancelled' && patchedIn(s, 'reopenRerunsProcedure')))
  )
    startProcedure(d);
}

/** The worker's key for the ingress's origin signatures: kept, and said on the record with its fingerprint. */
export function originKeyArrived(d: Draft, key: string | null): void {
  const s = d.s;
  if (key === null) {
    s.originKey = null;
    record(
      d,
      'system',
      'origin.key',
      'No origin key in the deployment (policy.originVerifyKey): Slack and PagerDuty actions are recorded as unverified',
    );
    return;
  }
  try {
    const parsed = parseRsaPublicKeyPem(key);
    s.originKey = key;
    const fingerprint = [...sha256(utf8(parsed.n.toString(16)))]
      .slice(0, 8)
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('');
    record(
      d,
      'system',
      'origin.key',
      `Slack and PagerDuty actions are verified with the deployment's origin key (RSA ${parsed.size * 8}, ${fingerprint})`,
    );
  } catch (err) {
    s.originKey = null;
    record(
      d,
      'system',
      'origin.key',
      `The deployment's origin key is unusable (${(err as Error).message}): Slack and PagerDuty actions are recorded as unverified`,
    );
  }
}
