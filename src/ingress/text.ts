// Text at the edge (issue 12 items 6 and 7). Every string a sender gives is made safe for everything
// downstream once, here: PostgreSQL refuses NUL in `text` (`invalid byte sequence for encoding "UTF8": 0x00`)
// and `\u0000` or a lone surrogate in `jsonb` (`unsupported Unicode escape sequence`), and Slack, PagerDuty
// and Temporal search attributes want well-formed UTF-8. An oversized value is cut, never refused, and the
// cut says so.
import { createHash } from 'node:crypto';

/** What replaces a NUL or a lone surrogate: U+FFFD REPLACEMENT CHARACTER, so the reader sees something was there. */
export const REPLACEMENT = '\uFFFD';

// Without the `u` flag a regex sees UTF-16 code units, which is what a lone surrogate is.
const SUSPECT = /[\u0000\uD800-\uDFFF]/;
const BAD = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/**
 * NUL -> U+FFFD, lone surrogates (a high one not followed by a low one, a low one not preceded by a high one)
 * -> U+FFFD; everything else (valid pairs, other control characters, any script) unchanged. Pure; the same
 * string comes back when nothing needs replacing.
 */
export function sanitizeText(s: string): string {
  return SUSPECT.test(s) ? s.replace(BAD, REPLACEMENT) : s;
}

/** True when sanitizeText would change nothing. */
export function isCleanText(s: string): boolean {
  return sanitizeText(s) === s;
}

/**
 * sanitizeText on every string and every object key of a parsed JSON value, in place (the value is the
 * request's own). Iterative: a body nested 30,000 deep must not overflow the stack here.
 */
export function sanitizeJson<T>(value: T): T {
  if (typeof value === 'string') return sanitizeText(value) as T;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v: unknown = node[i];
        if (typeof v === 'string') node[i] = sanitizeText(v);
        else if (v !== null && typeof v === 'object') stack.push(v);
      }
    } else if (node !== null && typeof node === 'object') {
      const obj = node as Record<string, unknown>;
      for (const key of Object.keys(obj)) {
        const v = obj[key];
        const clean = typeof v === 'string' ? sanitizeText(v) : v;
        const cleanKey = sanitizeText(key);
        if (cleanKey !== key || clean !== v) {
          if (cleanKey !== key) delete obj[key];
          // defineProperty, not assignment: a `__proto__` key stays a plain property, never the prototype.
          Object.defineProperty(obj, cleanKey, {
            value: clean,
            enumerable: true,
            writable: true,
            configurable: true,
          });
        }
        if (clean !== null && typeof clean === 'object') stack.push(clean);
      }
    }
  }
  return value;
}

/** The first `n` UTF-16 units of `s`, one fewer if the cut would split a surrogate pair. */
export function sliceText(s: string, n: number): string {
  if (n <= 0) return '';
  if (s.length <= n) return s;
  const last = s.charCodeAt(n - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? n - 1 : n);
}

/** Fields shorter than this get the short marker (`…#<hash>`); longer ones say how long the value was. */
const LONG_MARKER_FROM = 256;

/**
 * `s` if it fits in `max` UTF-16 units; otherwise its head and a marker, `max` units at most in all:
 * `…[truncated by ingress: 60000 chars, #1a2b3c4d5e6f]`, or `…#1a2b3c4d` for short fields. The hash is of the
 * whole value, so two long values that differ only after the cut stay different (labels make dedup keys).
 */
export function truncateText(s: string, max: number): string {
  if (s.length <= max) return s;
  const hash = createHash('sha256').update(s).digest('hex');
  const marker =
    max >= LONG_MARKER_FROM
      ? `…[truncated by ingress: ${s.length} chars, #${hash.slice(0, 12)}]`
      : `…#${hash.slice(0, 8)}`;
  if (marker.length >= max) return sliceText(hash, max);
  return `${sliceText(s, max - marker.length)}${marker}`;
}

/** Head of `s` with a plain ellipsis, `max` units at most (derived text such as a summary or a title). */
export function ellipsize(s: string, max: number): string {
  if (s.length <= max) return s;
  return `${sliceText(s, max - 1)}…`;
}
