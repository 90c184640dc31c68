// Rules the workflow shell used to hold, proven here without a server: what follows a close (the post-mortem
// start, the next incident), the channel fan-out, one ledger write at a time, the deployment's config, typed
// refusals, and one "what is due" for both the tick's work and the next wake-up.
import fc from 'fast-check';
import { nextIncident } from '../../src/playbook/lifecycle/after-close';
import { decide, recover, rejectionText, validateAction } from '../../src/playbook/lifecycle/decide';
import { nextWakeup } from '../../src/playbook/lifecycle/due';
import { fanOut } from '../../src/playbook/lifecycle/fan-out';
import {
  carriedState,
  type IncidentState,
  type IncidentWorkflowInput,
} from '../../src/playbook/lifecycle/state';
import { POSTMORTEM_WORKFLOW_TYPE } from '../../src/playbook/contract/postmortem';
import type { Effect } from '../../src/playbook/lifecycle/decide';
import type { Notification } from '../../src/playbook/contract/notification';
import { action, min, opened, runAll, T0, tick } from './lifecycle-helpers';

const START: IncidentWorkflowInput = { title: 'Trading API down', severity: 'P2', kind: 'generic' };

/** An incident resolved at 10 min and closed when its reopen window ended. */
function closed(input: Parameters<typeof opened>[0] = {}): IncidentState {
  const s = opened(input).state;
  const resolved = decide(s, action('resolve', { by: 'alice', resolution: 'fixed' }), min(10)).state;
  return decide(resolved, tick, resolved.reopenUntil!).state;
}

describe('after the close', () => {
  test('the post-mortem is an effect: its workflow, at the highest severity, timed from the resolution', () => {
    const s = closed({ severity: 'P1' });
    expect(s.status).toBe('closed');
    const r = decide({ ...s, highestSeverity: 'P0' }, { type: 'postmortem' }, s.clock);
    expect(r.effects).toEqual([
      {
        type: 'postmortem.start',
        workflowType: POSTMORTEM_WORKFLOW_TYPE,
        workflowId: `postmortem-${s.incidentId}`,
        input: {
          incidentId: s.incidentId,
          title: s.title,
          severity: 'P0',
          resolvedAt: new Date(min(10)).toISOString(),
          timeScale: 1,
          channels: s.policy.channels,
        },
      },
    ]);
    expect(r.state.timeline).toEqual(s.timeline);
  });

  test('its start is recorded, or why it could not start', () => {
    const s = closed();
    const ok = decide(s, { type: 'postmortem.started', workflowId: 'postmortem-x' }, s.clock).state;
    expect(ok.postmortemWorkflowId).toBe('postmortem-x');
    const no = decide(s, { type: 'postmortem.failed', error: 'postmortem-x already exists' }, s.clock).state;
    expect(no.timeline.at(-1)).toMatchObject({ type: 'postmortem.failed' });
  });

  test('no alert after the close: no next incident', () => {
    expect(nextIncident(START, closed())).toBeNull();
  });

  test('late alerts open the next incident at the most severe routed severity, named after it', () => {
    const s = closed();
    const afterClose = [
      {
        fingerprint: 'a',
        name: 'A',
        startsAt: new Date(min(5)).toISOString(),
        routedSeverity: 'P2' as const,
      },
      { fingerprint: 'b', name: 'B', routedSeverity: 'P0' as const, routedTitle: 'Exchange down' },
      { fingerprint: 'c', name: 'C' },
    ];
    const input = {
      ...START,
      source: { system: 'alertmanager', alerts: [{ fingerprint: 'old', name: 'Old' }] },
    };
    const next = nextIncident(input, { ...s, afterClose })!;
    expect(next).toMatchObject({ severity: 'P0', title: 'Exchange down', carriedAlerts: afterClose });
    expect(next.source).toEqual({ system: 'alertmanager', alerts: undefined });
    // Detected when the first late alert started, but not before this incident closed (6.4).
    expect(next.detectedAt).toBe(new Date(s.closedAt!).toISOString());
    // Before the patch: the alert's start as given.
    const older = nextIncident(input, { ...s, afterClose, patches: {} })!;
    expect(older.detectedAt).toBe(afterClose[0]!.startsAt);
  });

  test('no routed severity: the start severity and title stay', () => {
    const s = { ...closed(), afterClose: [{ fingerprint: 'c', name: 'C' }] };
    expect(nextIncident(START, s)).toMatchObject({ severity: 'P2', title: START.title });
    expect(nextIncident(START, s)).not.toHaveProperty('detectedAt');
  });
});

const note = (key: string): Notification => ({ idempotencyKey: key }) as Notification;
const notify = (key: string, extra: { channels?: string[]; except?: string } = {}): Effect => ({
  type: 'notify',
  notification: note(key),
  ...extra,
});

describe('the channel fan-out', () => {
  test('one delivery per channel, in the order channels first appear, on the policy or its own channels', () => {
    const deliveries = fanOut(
      [notify('a'), notify('b', { channels: ['pagerduty'] }), { type: 'procedure.cancel', workflowId: 'p' }],
      ['outbox', 'slack'],
      () => true,
    );
    expect(deliveries).toEqual([
      { channel: 'outbox', notifications: [note('a')] },
      { channel: 'slack', notifications: [note('a')] },
      { channel: 'pagerduty', notifications: [note('b')] },
    ]);
  });

  test('not back to the channel it came from, when the worker says so; asked only where it matters', () => {
    let asked = 0;
    const ask = (answer: boolean) => () => (asked++, answer);
    const effects = [notify('ack', { except: 'pagerduty' }), notify('other')];
    expect(fanOut(effects, ['outbox', 'pagerduty'], ask(true)).map((d) => d.notifications)).toEqual([
      [note('ack'), note('other')],
      [note('other')],
    ]);
    expect(asked).toBe(1);
    // An older worker's history: it was sent back.
    expect(fanOut(effects, ['outbox', 'pagerduty'], ask(false))[1]!.notifications).toEqual([
      note('ack'),
      note('other'),
    ]);
    asked = 0;
    fanOut(effects, ['outbox', 'slack'], ask(true));
    expect(asked).toBe(0);
  });

  test('nothing to notify: no delivery', () => {
    expect(fanOut([], ['outbox'], () => true)).toEqual([]);
  });
});

describe('one ledger write at a time', () => {
  const flush = (s: IncidentState, at = s.clock) => decide(s, { type: 'ledger.flush', force: true }, at);

  test('a flush while a write is in flight waits for its answer', () => {
    const first = flush(opened().state);
    expect(first.effects.map((e) => e.type)).toEqual(['ledger.write']);
    expect(first.state.ledgerBusy).toBe(true);
    const busy = decide(first.state, action('addNote', { by: 'bob', text: 'n' }), min(1)).state;
    expect(flush(busy).effects).toEqual([]);
    const upTo = first.effects[0]!.type === 'ledger.write' ? first.effects[0]!.write.upTo : 0;
    const written = decide(busy, { type: 'ledger.written', upTo }, min(1)).state;
    expect(written.ledgerBusy).toBe(false);
    expect(flush(written).effects.map((e) => e.type)).toEqual(['ledger.write']);
  });

  test('a failed write frees the ledger (an approval record does not hold it)', () => {
    const busy = flush(opened().state).state;
    const approval = decide(busy, { type: 'ledger.failed', write: false, text: 'x' }, min(1)).state;
    expect(approval.ledgerBusy).toBe(true);
    const failed = decide(busy, { type: 'ledger.failed', write: true, text: 'x' }, min(1)).state;
    expect(failed.ledgerBusy).toBe(false);
  });

  test('a run carried on never waits for the run before, nor does an answer the core failed on', () => {
    const busy = flush(opened().state).state;
    expect(carriedState(busy).ledgerBusy).toBe(false);
    const recovered = recover(busy, { type: 'ledger.written', upTo: 1 }, 'boom');
    expect(recovered.state.ledgerBusy).toBe(false);
    expect(recovered.state.timeline.at(-1)).toMatchObject({ type: 'input.failed' });
    expect(recover(busy, tick, 'boom').state.ledgerBusy).toBe(true);
  });
});

describe("the deployment's config", () => {
  test('a start without the policy loads it beside the first page; one with it loads only the origin key', () => {
    const cli = opened({ policyComplete: undefined });
    expect(cli.effects.at(-1)).toEqual({ type: 'deployment.load', want: 'policy' });
    expect(opened().effects.at(-1)).toEqual({ type: 'deployment.load', want: 'originKey' });
    // An incident opened before the origin patch asks for nothing.
    expect(opened({}, {}).effects.some((e) => e.type === 'deployment.load')).toBe(false);
  });

  test("the start's own overrides win over the deployment's; the origin key is the deployment's", () => {
    const s = opened({ policyComplete: undefined }).state;
    const r = decide(
      s,
      {
        type: 'deployment.loaded',
        want: 'policy',
        overrides: { channels: ['outbox', 'slack'], approvalTimeoutMinutes: 5, originVerifyKey: 'not a key' },
        start: { approvalTimeoutMinutes: 9 },
      },
      min(1),
    ).state;
    expect(r.policy.channels).toEqual(['outbox', 'slack']);
    expect(r.policy.approvalTimeoutMinutes).toBe(9);
    expect(r.timeline.map((e) => e.type).slice(-2)).toEqual(['origin.key', 'policy']);
  });

  test('a load that failed is on the record; the policy is the start overrides over the defaults', () => {
    const s = opened({ policyComplete: undefined }).state;
    const r = decide(s, { type: 'deployment.failed', want: 'policy', error: 'down', start: {} }, min(1));
    expect(r.state.policyPending).toBe(false);
    expect(r.state.timeline.map((e) => e.type).slice(-2)).toEqual(['policy.failed', 'policy']);
    const key = decide(
      opened().state,
      { type: 'deployment.failed', want: 'originKey', error: 'down', start: {} },
      0,
    );
    expect(key.state.timeline.at(-1)).toMatchObject({ type: 'origin.key.failed' });
  });

  test('a run carried on sends again what was not delivered, and asks again for a policy still pending', () => {
    const s = opened({ policyComplete: undefined }).state;
    const undelivered = [{ channel: 'slack', notifications: [note('k')] }];
    const r = decide({ ...s, undelivered }, { type: 'resume' }, s.clock);
    expect(r.effects).toEqual([
      { type: 'deliver', channel: 'slack', notifications: [note('k')] },
      { type: 'deployment.load', want: 'policy' },
    ]);
    expect(r.state.undelivered).toEqual([]);
    expect(decide(opened().state, { type: 'resume' }, T0).effects).toEqual([]);
  });
});

describe('refusals say their kind', () => {
  test('a payload that does not parse is invalid, told as the parser put it', () => {
    const verdict = validateAction(opened().state, 'acknowledge', { nope: true });
    expect(verdict).toMatchObject({ ok: false, kind: 'invalid' });
    if (verdict.ok) throw new Error('accepted');
    expect(rejectionText('acknowledge', verdict)).toBe(verdict.reason);
    expect(verdict.reason).toMatch(/^invalid acknowledge payload: /);
  });

  test('one the state refuses is named with the action, in the timeline as in the answer', () => {
    const s = decide(opened().state, action('acknowledge', { by: 'alice' }), min(1)).state;
    const verdict = validateAction(s, 'acknowledge', { by: 'bob' });
    expect(verdict).toEqual({ ok: false, kind: 'refused', reason: 'already acknowledged by alice' });
    if (verdict.ok) throw new Error('accepted');
    expect(rejectionText('acknowledge', verdict)).toBe('acknowledge rejected: already acknowledged by alice');
    const r = decide(s, action('acknowledge', { by: 'bob' }), min(2));
    expect(r.state.timeline.at(-1)!.text).toBe(rejectionText('acknowledge', verdict));
  });
});

describe('one "what is due" for the tick and the wake-up', () => {
  const SEVS = ['P0', 'P1', 'P2', 'P3'] as const;
  const opArb = fc.constantFrom('tick', 'ack', 'resolve', 'note', 'update');
  const inputOf = (op: string) =>
    op === 'ack'
      ? action('acknowledge', { by: 'alice' })
      : op === 'resolve'
        ? action('resolve', { by: 'alice' })
        : op === 'note'
          ? action('addNote', { by: 'bob', text: 'n' })
          : op === 'update'
            ? action('postUpdate', { by: 'alice', status: 'Investigating', text: 'looking' })
            : tick;

  test('before the wake-up a tick does nothing; at it, something is due', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...SEVS),
        fc.array(fc.tuple(opArb, fc.integer({ min: 0, max: 30 * 60_000 })), { maxLength: 30 }),
        (severity, ops) => {
          let s = opened({ severity }).state;
          let at = T0;
          for (const [op, dt] of ops) {
            at += dt;
            s = runAll(s, [
              { input: inputOf(op), at },
              { input: tick, at },
            ]).state;
            const wake = nextWakeup(s, at);
            if (wake === null) continue;
            expect(wake).toBeGreaterThan(at);
            // No ledger write was asked in this run: every wake-up is a lifecycle rule's.
            const early = decide(s, tick, Math.max(at, Math.ceil(wake) - 1));
            expect(early.effects).toEqual([]);
            expect(early.state.timeline.length).toBe(s.timeline.length);
            const due = decide(s, tick, Math.ceil(wake));
            expect(due.state).not.toEqual(s);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
