// Text at the edge. Every string a sender gives is made safe for everything
// downstream once, here: PostgreSQL refuses NUL in `text` (`invalid byte sequence for encoding "UTF8": 0x00`)
// and `\u0000` or a lone surrogate in `jsonb` (`unsupported Unicode escape sequence`), and Slack, PagerDuty
// and Temporal search attributes want well-formed UTF-8. An oversized value is cut, never refused, and the
// cut says so.
import { createHash } from 'node:crypto';

export {
  REPLACEMENT,
  cleanText,
  cleanJson,
  ellipsize,
  isCleanText,
  sanitizeJson,
  sanitizeText,
  sliceText,
} from '../playbook/text';
import { cleanText, mapStringsInPlace, sliceText } from '../playbook/text';

/**
 * cleanText on every string and object key of a parsed request body, in place. What the ingress sends on is
 * then what the incident's schemas record: an alert name or fingerprint made only of control or invisible
 * characters is empty here (refused, or a fingerprint computed) instead of passing the ingress and failing
 * the contract (a 500, retried for ever).
 */
export const cleanParsedJson = <T>(value: T): T => mapStringsInPlace(value, cleanText);

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
