// The text edge of the ingress (issue 12 items 6 and 7), pure: sanitizeText / sanitizeJson make any string
// PostgreSQL, Slack, PagerDuty and search attributes take; truncateText cuts without splitting a character
// and marks the cut; toAlert truncates and lists what it cut, alertToSignal says so in the summary.
import fc from 'fast-check';
import {
  ALERT_LIMITS,
  alertToSignal,
  FOLDED_ANNOTATION,
  IGNORED_ANNOTATION,
  toAlert,
  TRUNCATED_ANNOTATION,
} from '../../src/ingress/normalize';
import { selectWithinLimit } from '../../src/ingress/dispatch';
import {
  ellipsize,
  isCleanText,
  REPLACEMENT,
  sanitizeJson,
  sanitizeText,
  sliceText,
  truncateText,
} from '../../src/ingress/text';
import { alertSchema } from '../../src/playbook/contract/incident';
import { expectAllClean, expectClean, nastyChar, nastyString } from './helpers';

describe('sanitizeText', () => {
  it('replaces NUL and lone surrogates with U+FFFD and keeps everything else', () => {
    expect(sanitizeText('a\u0000b')).toBe(`a${REPLACEMENT}b`);
    expect(sanitizeText('x\uD800')).toBe(`x${REPLACEMENT}`);
    expect(sanitizeText('\uDC00x')).toBe(`${REPLACEMENT}x`);
    expect(sanitizeText('\uDC00\uD800')).toBe(REPLACEMENT + REPLACEMENT);
    expect(sanitizeText('😀 é \u0001 \n')).toBe('😀 é \u0001 \n');
    expect(sanitizeText('\uD83D\uDE00')).toBe('😀');
    const plain = 'nothing to do';
    expect(sanitizeText(plain)).toBe(plain);
    expect(isCleanText('a\u0000')).toBe(false);
    expect(isCleanText('😀')).toBe(true);
  });

  it('property: the result is clean, as long as the input, equal to the input when it was clean', () => {
    fc.assert(
      fc.property(nastyString(200), (s) => {
        const out = sanitizeText(s);
        expectClean(out);
        expect(out.length).toBe(s.length);
        expect(sanitizeText(out)).toBe(out);
        if (isCleanText(s)) expect(out).toBe(s);
        // Only the bad code units changed.
        for (let i = 0; i < s.length; i++) if (out[i] !== s[i]) expect(out[i]).toBe(REPLACEMENT);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with String.prototype.toWellFormed on everything but NUL', () => {
    const toWellFormed = (s: string) => (s as string & { toWellFormed(): string }).toWellFormed();
    fc.assert(
      fc.property(nastyString(100), (s) => {
        expect(sanitizeText(s)).toBe(toWellFormed(s).replace(/\u0000/g, REPLACEMENT));
      }),
      { numRuns: 300 },
    );
  });
});

describe('sanitizeJson', () => {
  it('cleans every string and key of a parsed body, in place, keeping the shape', () => {
    const body = JSON.parse(
      '{"a\\u0000":"\\ud800x","list":["\\u0000",1,null,{"k":"\\udc00"}],"n":2,"ok":"fine","__proto__x":"\\u0000"}',
    ) as Record<string, unknown>;
    const out = sanitizeJson(body);
    expect(out).toBe(body);
    expect(out).toEqual({
      [`a${REPLACEMENT}`]: `${REPLACEMENT}x`,
      list: [REPLACEMENT, 1, null, { k: REPLACEMENT }],
      n: 2,
      ok: 'fine',
      __proto__x: REPLACEMENT,
    });
    expect(sanitizeJson('\u0000')).toBe(REPLACEMENT);
    expect(sanitizeJson(5)).toBe(5);
  });

  it('survives nesting far deeper than the call stack', () => {
    const deep = JSON.parse('['.repeat(100_000) + '"\\u0000"' + ']'.repeat(100_000)) as unknown;
    expect(() => sanitizeJson(deep)).not.toThrow();
    let node: unknown = deep;
    while (Array.isArray(node)) node = node[0];
    expect(node).toBe(REPLACEMENT);
  });

  it('property: any JSON with nasty strings comes out all clean', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4, stringUnit: nastyChar }), (value) => {
        const copy = JSON.parse(JSON.stringify(value)) as unknown;
        expectAllClean(sanitizeJson(copy));
      }),
      { numRuns: 200 },
    );
  });
});

describe('truncateText, sliceText, ellipsize', () => {
  it('never splits a surrogate pair', () => {
    expect(sliceText('a😀', 2)).toBe('a');
    expect(sliceText('a😀', 3)).toBe('a😀');
    expect(ellipsize('😀😀😀', 4)).toBe('😀…');
  });

  it('marks the cut with the original length and a hash of the whole value', () => {
    const long = 'x'.repeat(60_000);
    const t = truncateText(long, 16_384);
    expect(t.length).toBeLessThanOrEqual(16_384);
    expect(t).toMatch(/^x+…\[truncated by ingress: 60000 chars, #[0-9a-f]{12}\]$/);
    // Two values that differ only after the cut stay different (labels make dedup keys and fingerprints).
    expect(truncateText(`${long}a`, 16_384)).not.toBe(truncateText(`${long}b`, 16_384));
    expect(truncateText('y'.repeat(60), 50)).toMatch(/^y+…#[0-9a-f]{8}$/);
    expect(truncateText('short', 50)).toBe('short');
  });

  it('property: at most max units, clean in, clean out, a prefix of the input when cut', () => {
    fc.assert(
      fc.property(nastyString(400).map(sanitizeText), fc.integer({ min: 1, max: 400 }), (s, max) => {
        const t = truncateText(s, max);
        expect(t.length).toBeLessThanOrEqual(max);
        expectClean(t);
        if (s.length <= max) expect(t).toBe(s);
        const e = ellipsize(s, max);
        expect(e.length).toBeLessThanOrEqual(max);
        expectClean(e);
      }),
      { numRuns: 500 },
    );
  });
});

const raw = (over: Partial<Parameters<typeof toAlert>[0]> = {}) => ({
  name: 'TradingAPIDown',
  status: 'firing' as const,
  labels: { alertname: 'TradingAPIDown', service: 'trading-api' },
  annotations: {},
  startsAt: '2026-01-17T10:00:00Z',
  source: 'alertmanager',
  ...over,
});

describe('toAlert and alertToSignal: oversized values are cut and say so', () => {
  it('a 60,000-char description is kept to 16,384 chars, marked, listed, and named in the summary', () => {
    const description = `Traceback (most recent call last):\n${'  at frame\n'.repeat(6000)}`.slice(0, 60_000);
    const n = toAlert(raw({ annotations: { summary: 'Trading API down', description } }));
    expect(n.truncated).toEqual([{ field: 'annotations.description', detail: '60000 -> 16384 chars' }]);
    expect(n.alert.annotations?.description).toHaveLength(16_384);
    expect(n.alert.annotations?.description).toMatch(
      /…\[truncated by ingress: 60000 chars, #[0-9a-f]{12}\]$/,
    );
    expect(n.alert.summary).toBe('Trading API down');
    const signalled = alertToSignal(n);
    expect(signalled.annotations?.[TRUNCATED_ANNOTATION]).toBe(
      'annotations.description: 60000 -> 16384 chars',
    );
    expect(signalled.summary).toBe('Trading API down [ingress: truncated annotations.description]');
    expect(alertSchema.safeParse(signalled).success).toBe(true);
  });

  it('the description as summary: shortened to fit the note within the contract', () => {
    const n = toAlert(raw({ annotations: { description: 'd'.repeat(60_000) } }));
    const a = alertToSignal(n);
    expect(a.summary!.length).toBeLessThanOrEqual(ALERT_LIMITS.summary);
    expect(a.summary).toMatch(/^d+… \[ingress: truncated annotations.description\]$/);
    expect(alertSchema.safeParse(a).success).toBe(true);
  });

  it('names, label values, fingerprints, too many entries and the per-alert text budget', () => {
    const many = Object.fromEntries(Array.from({ length: 250 }, (_, i) => [`l${i}`, 'v']));
    const n = toAlert(
      raw({
        name: 'N'.repeat(400),
        labels: {
          alertname: 'N'.repeat(400),
          pod: 'p'.repeat(20_000),
          ['k'.repeat(300)]: 'x',
          service: 'trading-api',
          ...many,
        },
        annotations: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}`, 'z'.repeat(16_000)])),
        fingerprint: 'f'.repeat(500),
        severity: 's'.repeat(80),
      }),
    );
    const fields = n.truncated.map((t) => t.field);
    expect(fields).toEqual(
      expect.arrayContaining([
        'name',
        'labels.pod',
        `labels.${'k'.repeat(79)}…`,
        'labels',
        'annotations',
        'fingerprint',
        'severity',
      ]),
    );
    expect(n.alert.name.length).toBeLessThanOrEqual(ALERT_LIMITS.name);
    expect(Object.keys(n.alert.labels ?? {})).toHaveLength(ALERT_LIMITS.entries);
    // alertname and the routing labels are kept first.
    expect(n.alert.labels?.alertname).toBeDefined();
    expect(n.alert.labels?.service).toBe('trading-api');
    const text = [...Object.entries(n.alert.labels ?? {}), ...Object.entries(n.alert.annotations ?? {})]
      .flat()
      .join('');
    expect(text.length).toBeLessThanOrEqual(ALERT_LIMITS.textChars);
    expect(n.truncated.find((t) => t.field === 'annotations')?.detail).toContain('over 65536 chars');
    const a = alertToSignal(n);
    expect(alertSchema.safeParse(a).success).toBe(true);
    expect(a.summary).toMatch(/^\[ingress: truncated name, labels\.pod, labels\.k+… \+5 more\]$/);
    expect(a.annotations?.[TRUNCATED_ANNOTATION]).toContain('labels: 254 entries -> 200 (54 left out');
  });

  it('an unparseable time and unknown fields are ignored and noted, not refused', () => {
    const n = toAlert(raw({ startsAt: 'yesterday', unknownFields: ['sevrity'] }));
    expect(n.alert.startsAt).toBeUndefined();
    expect(n.ignored).toEqual(['startsAt: "yesterday" is not an RFC 3339 time', 'unknown fields: sevrity']);
    const a = alertToSignal(n);
    expect(a.annotations?.[IGNORED_ANNOTATION]).toContain('sevrity');
    // Go's zero time is "not set", nothing to note.
    expect(toAlert(raw({ endsAt: '0001-01-01T00:00:00Z' })).ignored).toEqual([]);
  });

  it('folding is written on the alert that carries it', () => {
    const a = alertToSignal(toAlert(raw({ annotations: { summary: 'down' } })), 37, 1000);
    expect(a.annotations?.[FOLDED_ANNOTATION]).toContain('37 more alert(s)');
    expect(a.annotations?.[FOLDED_ANNOTATION]).toContain('INGRESS_MAX_ALERTS_PER_REQUEST (1000)');
    expect(a.summary).toBe('down [ingress: 37 more alert(s) of this notification folded in]');
  });

  it('an alert nothing happened to is signalled unchanged', () => {
    const n = toAlert(raw({ annotations: { summary: 'down' } }));
    expect(alertToSignal(n)).toBe(n.alert);
  });
});

describe('selectWithinLimit', () => {
  it('under the limit: everything', () => {
    expect(selectWithinLimit(['a', 'b'], 2)).toMatchObject({ keep: [true, true], folded: 0, dropped: 0 });
  });

  it('every incident gets its first alert, then the rest in order; the others fold into their last kept', () => {
    const r = selectWithinLimit(['a', 'a', 'a', 'b', 'a', 'c'], 4);
    expect(r.keep).toEqual([true, true, false, true, false, true]);
    expect(r).toMatchObject({ folded: 2, dropped: 0 });
    expect([...r.foldedInto]).toEqual([[1, 2]]);
  });

  it('more incidents than the limit: the incidents past it are dropped and counted', () => {
    const r = selectWithinLimit(['a', 'b', 'c', 'c'], 2);
    expect(r.keep).toEqual([true, true, false, false]);
    expect(r).toMatchObject({ folded: 0, dropped: 2 });
  });

  it('property: never more than the limit, every alert kept, folded or dropped exactly once', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e'), { maxLength: 60 }),
        fc.integer({ min: 1, max: 30 }),
        (groups, limit) => {
          const r = selectWithinLimit(groups, limit);
          const kept = r.keep.filter(Boolean).length;
          expect(kept).toBe(Math.min(limit, groups.length));
          expect(kept + r.folded + r.dropped).toBe(groups.length);
          expect([...r.foldedInto.values()].reduce((x, y) => x + y, 0)).toBe(r.folded);
          // Distinct incidents up to the limit each get an alert.
          const distinct = [...new Set(groups)];
          const served = new Set(groups.filter((_, i) => r.keep[i]));
          expect(served.size).toBe(Math.min(distinct.length, limit));
        },
      ),
      { numRuns: 300 },
    );
  });
});
