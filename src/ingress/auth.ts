// Webhook authentication: bearer token (Alertmanager http_config.authorization) or
// HMAC-SHA256 over the raw body (Grafana X-Grafana-Alerting-Signature with its optional timestamp, and a
// generic `X-Signature-256: sha256=<hex>`). Constant-time comparisons; a 5-minute replay window where a
// timestamp exists; a signature that was already accepted is refused.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { IngressError } from './errors';

export const GENERIC_SIGNATURE_HEADER = 'x-signature-256';
export const GENERIC_TIMESTAMP_HEADER = 'x-signature-timestamp';

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

const unauthorized = (message: string, field: string) =>
  new IngressError(401, 'unauthorized', message, field);

/** Compare as SHA-256 digests so the comparison is constant-time whatever the lengths. */
export function safeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db) && a.length === b.length;
}

export function checkBearer(headers: Headers, tokens: readonly string[]): void {
  const value = header(headers, 'authorization');
  if (value === undefined)
    throw unauthorized(
      'missing credentials: send `Authorization: Bearer <token>` or an HMAC signature header',
      'authorization',
    );
  const m = /^Bearer\s+(.+)$/i.exec(value.trim());
  if (!m || m[1] === undefined)
    throw unauthorized('the Authorization header must use the Bearer scheme', 'authorization');
  const presented = m[1].trim();
  let ok = false;
  // Check every token (no early exit) so timing does not reveal which one matched.
  for (const t of tokens) ok = safeEqual(presented, t) || ok;
  if (!ok) throw unauthorized('invalid bearer token', 'authorization');
}

export interface SignatureScheme {
  signatureHeader: string;
  timestampHeader: string;
  /** Grafana sends bare hex; the generic scheme `sha256=<hex>`. */
  prefix: '' | 'sha256=';
}

export function signatureSchemes(
  grafanaSignatureHeader: string,
  grafanaTimestampHeader: string,
): SignatureScheme[] {
  return [
    { signatureHeader: grafanaSignatureHeader, timestampHeader: grafanaTimestampHeader, prefix: '' },
    {
      signatureHeader: GENERIC_SIGNATURE_HEADER,
      timestampHeader: GENERIC_TIMESTAMP_HEADER,
      prefix: 'sha256=',
    },
  ];
}

/** Which signature header a request carries, if any. */
export function presentedScheme(
  headers: Headers,
  schemes: readonly SignatureScheme[],
): SignatureScheme | null {
  return schemes.find((s) => header(headers, s.signatureHeader) !== undefined) ?? null;
}

/** HMAC-SHA256 hex over `timestamp:body` when a timestamp is sent, else over the body (Grafana's scheme). */
export function sign(secret: string, body: Buffer | string, timestamp?: string): string {
  const h = createHmac('sha256', secret);
  if (timestamp !== undefined) h.update(`${timestamp}:`);
  h.update(body);
  return h.digest('hex');
}

export interface VerifiedSignature {
  /** Replay-cache key: `<timestamp>:<signature>`. */
  replayKey: string;
}

export function verifySignature(
  headers: Headers,
  rawBody: Buffer,
  scheme: SignatureScheme,
  secrets: readonly string[],
  replayWindowSeconds: number,
  nowMs: number,
): VerifiedSignature {
  const presented = (header(headers, scheme.signatureHeader) ?? '').trim();
  if (scheme.prefix && !presented.toLowerCase().startsWith(scheme.prefix)) {
    throw unauthorized(
      `the ${scheme.signatureHeader} header must look like ${scheme.prefix}<hex>`,
      scheme.signatureHeader,
    );
  }
  const hex = presented.slice(scheme.prefix.length).toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(hex))
    throw unauthorized(
      `the ${scheme.signatureHeader} header is not a hex HMAC-SHA256`,
      scheme.signatureHeader,
    );
  const timestamp = header(headers, scheme.timestampHeader)?.trim();
  // A signature without a timestamp could be replayed for ever: the timestamp is required.
  if (timestamp === undefined)
    throw unauthorized(
      `the ${scheme.timestampHeader} header is required: sign "<unix seconds>:<body>" and send the seconds in it`,
      scheme.timestampHeader,
    );
  if (!/^\d{1,13}$/.test(timestamp))
    throw unauthorized(
      `the ${scheme.timestampHeader} header must be a Unix time in seconds`,
      scheme.timestampHeader,
    );
  const ageSeconds = Math.abs(nowMs / 1000 - Number(timestamp));
  if (ageSeconds > replayWindowSeconds) {
    throw unauthorized(
      `the signed timestamp is outside the ${replayWindowSeconds}-second replay window`,
      scheme.timestampHeader,
    );
  }
  let ok = false;
  for (const secret of secrets) ok = safeEqual(sign(secret, rawBody, timestamp), hex) || ok;
  if (!ok) throw unauthorized('invalid signature', scheme.signatureHeader);
  return { replayKey: `${timestamp}:${hex}` };
}

/**
 * Signatures already accepted (with a timestamp), kept for the replay window. A signature is remembered
 * only once its request succeeded, so a sender retrying after our 503 is not refused.
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();
  constructor(
    private readonly windowMs: number,
    private readonly maxEntries = 100_000,
  ) {}

  has(key: string, nowMs: number): boolean {
    const at = this.seen.get(key);
    return at !== undefined && nowMs - at <= this.windowMs * 2;
  }

  add(key: string, nowMs: number): void {
    this.seen.set(key, nowMs);
    // Entries are in insertion order: drop the expired (and, if still too many, the oldest) from the front.
    for (const [k, at] of this.seen) {
      if (nowMs - at > this.windowMs * 2 || this.seen.size > this.maxEntries) this.seen.delete(k);
      else break;
    }
  }
}
