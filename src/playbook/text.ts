// Text that every consumer can take. PostgreSQL refuses NUL in `text` (`invalid byte sequence for encoding
// "UTF8": 0x00`) and `\u0000` or a lone surrogate in `jsonb` (`unsupported Unicode escape sequence`); Slack,
// PagerDuty and Temporal search attributes want well-formed UTF-8; and invisible or direction-changing
// characters let a name or a note read as something it is not. Pure (no Node built-ins): the ingress cleans
// what senders give, and the incident's action schemas clean what the Web UI, `temporal` and `tctl` give.

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
 * Removed from a person's text: C0 controls but tab, line feed and carriage return; DEL and the C1 controls;
 * the bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) and marks (U+200E,
 * U+200F, U+061C), which can make "Ana" read backwards or hide what follows; and the zero-width characters
 * (U+200B-U+200D, U+2060, U+FEFF, U+180E), which make two different names look the same. A joiner inside an
 * emoji sequence goes too: the emoji stay, side by side.
 */
const INVISIBLE =
  /[\u0001-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u061C\u180E\u200B-\u200F\u202A-\u202E\u2060\u2066-\u2069\uFEFF]/g;
const INVISIBLE_TEST = new RegExp(INVISIBLE.source);

/**
 * A person's text made safe to record: sanitizeText (NUL and lone surrogates -> U+FFFD), then the
 * INVISIBLE characters removed. The same string comes back when nothing needs changing.
 */
export function cleanText(s: string): string {
  const sane = sanitizeText(s);
  return INVISIBLE_TEST.test(sane) ? sane.replace(INVISIBLE, '') : sane;
}

/**
 * cleanText on every string and object key of a JSON-like value, as a copy (the input is not changed).
 * Iterative, so a value nested 30,000 deep does not overflow the stack.
 */
export function cleanJson<T>(value: T): T {
  if (typeof value === 'string') return cleanText(value) as T;
  if (value === null || typeof value !== 'object') return value;
  const copy = (v: unknown): unknown =>
    Array.isArray(v) ? [...(v as unknown[])] : v !== null && typeof v === 'object' ? { ...v } : v;
  const root = copy(value);
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v: unknown = node[i];
        if (typeof v === 'string') node[i] = cleanText(v);
        else if (v !== null && typeof v === 'object') stack.push((node[i] = copy(v)));
      }
    } else if (node !== null && typeof node === 'object') {
      const obj = node as Record<string, unknown>;
      for (const key of Object.keys(obj)) {
        const v = obj[key];
        const clean = typeof v === 'string' ? cleanText(v) : copy(v);
        const cleanKey = cleanText(key);
        if (cleanKey !== key) delete obj[key];
        // defineProperty, not assignment: a `__proto__` key stays a plain property, never the prototype.
        Object.defineProperty(obj, cleanKey, {
          value: clean,
          enumerable: true,
          writable: true,
          configurable: true,
        });
        if (clean !== null && typeof clean === 'object') stack.push(clean);
      }
    }
  }
  return root as T;
}

/**
 * `fn` on every string and every object key of a parsed JSON value, in place (the value is the request's
 * own, and a 16 MiB one is not copied). Iterative: a body nested 30,000 deep must not overflow the stack.
 */
export function mapStringsInPlace<T>(value: T, fn: (s: string) => string): T {
  if (typeof value === 'string') return fn(value) as T;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v: unknown = node[i];
        if (typeof v === 'string') node[i] = fn(v);
        else if (v !== null && typeof v === 'object') stack.push(v);
      }
    } else if (node !== null && typeof node === 'object') {
      const obj = node as Record<string, unknown>;
      for (const key of Object.keys(obj)) {
        const v = obj[key];
        const clean = typeof v === 'string' ? fn(v) : v;
        const cleanKey = fn(key);
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

/** sanitizeText on every string and every object key of a parsed JSON value, in place. */
export const sanitizeJson = <T>(value: T): T => mapStringsInPlace(value, sanitizeText);

/** The first `n` UTF-16 units of `s`, one fewer if the cut would split a surrogate pair. */
export function sliceText(s: string, n: number): string {
  if (n <= 0) return '';
  if (s.length <= n) return s;
  const last = s.charCodeAt(n - 1);
  return s.slice(0, last >= 0xd800 && last <= 0xdbff ? n - 1 : n);
}

/** Head of `s` with a plain ellipsis, `max` units at most (derived text such as a summary or a title). */
export function ellipsize(s: string, max: number): string {
  if (s.length <= max) return s;
  return `${sliceText(s, max - 1)}…`;
}
