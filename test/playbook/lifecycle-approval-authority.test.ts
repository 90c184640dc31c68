// Who may decide a mutating remediation (policy.approvalAuthority, from 2.1 and 3.x): a verified Slack or
// PagerDuty person outside the roles the policy gives that decision to is refused with the reason; a typed
// decision (Web UI, temporal, tctl) is taken as before and recorded as typed, unverified.
import { generateKeyPairSync } from 'node:crypto';
import { decide, validateAction } from '../../src/playbook/lifecycle/decide';
import { CURRENT_PATCHES, type IncidentState, type Patches } from '../../src/playbook/lifecycle/state';
import { DEFAULT_APPROVAL_AUTHORITY, resolvePolicy } from '../../src/playbook/policy';
import { signOrigin } from '../../src/ingress/starter';
import type { RoleId } from '../../src/playbook/roles';
import { action, min, opened, procedureMessage, runAll } from './lifecycle-helpers';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PUBLIC = publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** A P0 whose procedure asks for `kind` (`kill-switch`, `rollback`, ...), with the worker's origin key. */
function pending(kind: string, policy = {}, patches?: Patches): IncidentState {
  const open = opened({ severity: 'P0', kind: 'trading-system-down', policy }, patches);
  return runAll(open.state, [
    {
      input: {
        type: 'deployment.loaded',
        want: 'originKey',
        overrides: { originVerifyKey: PUBLIC },
        start: {},
      },
      at: min(0),
    },
    { input: { type: 'procedure.started', workflowId: 'incident-test-procedure' }, at: min(1) },
    {
      input: procedureMessage('approvalRequested', {
        actionId: `${kind}-1`,
        action: kind,
        description: kind,
        evidence: [],
        requestedAt: new Date(min(2)).toISOString(),
        expiresAt: null,
        requiresConfirmationCode: kind === 'resume',
      }),
      at: min(2),
    },
  ]).state;
}

/** A decision from Slack by a verified contact of `role` (signed by the ingress). */
const fromSlack = (s: IncidentState, name: 'approve' | 'reject', role: RoleId | null, extra: object = {}) =>
  signOrigin(
    privateKey,
    s.incidentId,
    name,
    {
      by: role ? 'Person' : 'slack:U0STRANGER',
      actionId: (s.pendingApprovals[0] as { actionId: string }).actionId,
      origin: { channel: 'slack', userId: 'U0X', known: role !== null, ...(role ? { role } : {}) },
      ...extra,
    },
    min(3),
  );

const decided = (s: IncidentState, name: 'approve' | 'reject', payload: unknown) => {
  const r = decide(s, action(name, payload), min(3));
  return {
    outcome: r.outcome,
    forwarded: r.effects.some((e) => e.type === 'procedure.decision'),
    last: r.state.timeline.at(-1)!,
  };
};

test.each([
  ['kill-switch', 'trading-lead', 'ml-lead'],
  ['pause', 'oncall-secondary', 'eng-lead'],
  ['rollback', 'ml-lead', 'trading-lead'],
  ['restart', 'eng-lead', 'ml-lead'],
  ['terminate-backend', 'oncall-primary', 'trading-lead'],
] as const)('%s: a verified %s decides; a verified %s is refused and told why', (kind, allowed, other) => {
  const s = pending(kind);
  const ok = decided(s, 'approve', fromSlack(s, 'approve', allowed));
  expect(ok.outcome).toMatchObject({ ok: true });
  expect(ok.forwarded).toBe(true);
  expect(ok.last.text).toContain(`in Slack (verified, ${allowed})`);
  for (const name of ['approve', 'reject'] as const) {
    const no = decided(s, name, fromSlack(s, name, other));
    expect(no.forwarded).toBe(false);
    expect(no.outcome).toEqual({
      ok: false,
      kind: 'refused',
      reason: `Person (${other}) may not ${name} ${kind}-1: a ${kind} is decided by ${DEFAULT_APPROVAL_AUTHORITY[kind]!.join(', ')} (policy.approvalAuthority)`,
    });
    // The Update's validator gives the same answer before anything is written.
    expect(validateAction(s, name, fromSlack(s, name, other), min(3))).toEqual(no.outcome);
  }
});

test('resume: the CTO with CONFIRM_RESUME; the ML Lead is refused before the code is even looked at', () => {
  const s = pending('resume');
  expect(
    decided(s, 'approve', fromSlack(s, 'approve', 'cto', { confirmationCode: 'CONFIRM_RESUME' })).forwarded,
  ).toBe(true);
  expect(
    decided(s, 'approve', fromSlack(s, 'approve', 'ml-lead', { confirmationCode: 'CONFIRM_RESUME' })).outcome,
  ).toMatchObject({
    ok: false,
    reason: expect.stringContaining('may not approve resume-1'),
  });
});

test('an unmapped Slack user (requireKnownUsers off) is refused: not in contacts', () => {
  const s = pending('kill-switch');
  expect(decided(s, 'approve', fromSlack(s, 'approve', null)).outcome).toEqual({
    ok: false,
    kind: 'refused',
    reason:
      'slack:U0STRANGER (not in contacts) may not approve kill-switch-1: a kill-switch is decided by oncall-primary, oncall-secondary, trading-lead, cto (policy.approvalAuthority)',
  });
});

test('a typed decision (CLI) works as before and is recorded as typed, unverified', () => {
  const s = pending('kill-switch');
  const typed = decided(s, 'approve', { by: 'someone', actionId: 'kill-switch-1' });
  expect(typed.forwarded).toBe(true);
  expect(typed.last.text).toBe(
    "kill-switch-1: approval by someone (typed, unverified) handed to the procedure's gate",
  );
});

test('the deployment can change the table; anything unnamed falls to "*"', () => {
  const s = pending('kill-switch', { approvalAuthority: { 'kill-switch': ['eng-lead'] } });
  expect(decided(s, 'approve', fromSlack(s, 'approve', 'eng-lead')).forwarded).toBe(true);
  expect(decided(s, 'approve', fromSlack(s, 'approve', 'trading-lead')).forwarded).toBe(false);
  expect(resolvePolicy({ approvalAuthority: { 'kill-switch': ['cto'] } }).approvalAuthority.rollback).toEqual(
    DEFAULT_APPROVAL_AUTHORITY.rollback,
  );
  const reload = pending('reload');
  expect(decided(reload, 'approve', fromSlack(reload, 'approve', 'eng-lead')).forwarded).toBe(true);
  expect(decided(reload, 'approve', fromSlack(reload, 'approve', 'trading-lead')).forwarded).toBe(false);
});

test('an incident opened before the patch takes any verified decision, as it did', () => {
  const s = pending('kill-switch', {}, { ...CURRENT_PATCHES, approvalAuthority: false });
  expect(decided(s, 'approve', fromSlack(s, 'approve', 'ml-lead')).forwarded).toBe(true);
});
