// Proof that an action's `origin` (who clicked in Slack, who acknowledged in PagerDuty) was set by the
// ingress after it verified the platform's signature, and not typed into a Web UI, `temporal` or `tctl`
// payload. The ingress signs the action with a private key only it holds (RSA, PKCS#1 v1.5 with SHA-256,
// node:crypto); the incident checks the signature with the public key its worker's deployment config gives
// (`policy.originVerifyKey`, read by an activity: never from a start input or a payload). An asymmetric key
// because whatever the workflow is given is in its history, which every operator can read: a shared HMAC
// secret there would let anyone sign. The check runs inside the workflow sandbox, which has no crypto
// module: SHA-256, base64, the DER of the key and the RSA check are written out here, pure and small, and
// tested against node:crypto (test/playbook/origin-proof.test.ts).

/** Tag of the signed message: a signature made for anything else never verifies as an origin. */
export const ORIGIN_PROOF_VERSION = 'incident-origin-v1';

/** A signature this much older or newer than the incident's clock is not accepted (real time). */
export const ORIGIN_PROOF_MAX_SKEW_MS = 10 * 60_000;

/** JSON with object keys sorted at every level: both ends serialize the same payload to the same bytes. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v ?? null)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What the ingress signs: the incident, the action and its whole payload as the action's schema parsed it
 * (origin with its `signedAt`, without the `proof`). Binding the incident and every field means a signature
 * copied from one action's history cannot vouch for another (an approval of a different actionId, another
 * incident on the same workflow id).
 */
export function originMessage(incidentId: string, action: string, payload: Record<string, unknown>): string {
  const origin = payload.origin as Record<string, unknown> | undefined;
  const { proof: _proof, ...signedOrigin } = origin ?? {};
  return canonicalJson([ORIGIN_PROOF_VERSION, incidentId, action, { ...payload, origin: signedOrigin }]);
}

// ---------- SHA-256 (FIPS 180-4) ----------

const K = new Uint32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);
const H0 = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];
const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));

export function sha256(message: Uint8Array): Uint8Array {
  const blocks = Math.ceil((message.length + 9) / 64);
  const padded = new Uint8Array(blocks * 64);
  padded.set(message);
  padded[message.length] = 0x80;
  const view = new DataView(padded.buffer);
  const bits = message.length * 8;
  view.setUint32(padded.length - 8, Math.floor(bits / 0x1_0000_0000));
  view.setUint32(padded.length - 4, bits >>> 0);
  const h = Uint32Array.from(H0);
  const w = new Uint32Array(64);
  for (let off = 0; off < padded.length; off += 64) {
    for (let i = 0; i < 16; i++) w[i] = view.getUint32(off + i * 4);
    for (let i = 16; i < 64; i++) {
      const a = w[i - 15]!;
      const b = w[i - 2]!;
      const s0 = rotr(a, 7) ^ rotr(a, 18) ^ (a >>> 3);
      const s1 = rotr(b, 17) ^ rotr(b, 19) ^ (b >>> 10);
      w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
    }
    let [a, b, c, d, e, f, g, hh] = [h[0]!, h[1]!, h[2]!, h[3]!, h[4]!, h[5]!, h[6]!, h[7]!];
    for (let i = 0; i < 64; i++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[i]! + w[i]!) | 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    h[0] = h[0]! + a;
    h[1] = h[1]! + b;
    h[2] = h[2]! + c;
    h[3] = h[3]! + d;
    h[4] = h[4]! + e;
    h[5] = h[5]! + f;
    h[6] = h[6]! + g;
    h[7] = h[7]! + hh;
  }
  const out = new Uint8Array(32);
  const outView = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) outView.setUint32(i * 4, h[i]!);
  return out;
}

/** UTF-8 bytes of a well-formed string (payloads are cleaned: no lone surrogates reach here). */
export function utf8(s: string): Uint8Array {
  const out: number[] = [];
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Standard or URL-safe base64 (padding and whitespace ignored); null when it is not base64. */
export function fromBase64(s: string): Uint8Array | null {
  const clean = s.replace(/\s+/g, '').replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*$/.test(clean) || clean.length % 4 === 1) return null;
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let j = 0;
  for (const ch of clean) {
    acc = (acc << 6) | B64.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[j++] = (acc >> bits) & 0xff;
    }
  }
  return out;
}

// ---------- the RSA public key (PEM: SPKI "PUBLIC KEY" or PKCS#1 "RSA PUBLIC KEY") ----------

export interface RsaPublicKey {
  n: bigint;
  e: bigint;
  /** Modulus length in bytes. */
  size: number;
}

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

function readTlv(der: Uint8Array, at: number, limit: number): Tlv {
  if (at + 2 > limit) throw new Error('truncated DER');
  const tag = der[at]!;
  let len = der[at + 1]!;
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || start + n > limit) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[start + i]!;
    start += n;
  }
  if (start + len > limit) throw new Error('truncated DER');
  return { tag, start, end: start + len };
}

const toBigInt = (bytes: Uint8Array): bigint => {
  let hex = '';
  for (const b of bytes) hex += b.toString(16).padStart(2, '0');
  return hex === '' ? BigInt(0) : BigInt(`0x${hex}`);
};

/** RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } */
function rsaPublicKey(der: Uint8Array, at: number, limit: number): RsaPublicKey {
  const seq = readTlv(der, at, limit);
  if (seq.tag !== 0x30) throw new Error('not an RSA public key');
  const n = readTlv(der, seq.start, seq.end);
  const e = readTlv(der, n.end, seq.end);
  if (n.tag !== 0x02 || e.tag !== 0x02) throw new Error('not an RSA public key');
  let nBytes = der.subarray(n.start, n.end);
  while (nBytes.length > 0 && nBytes[0] === 0) nBytes = nBytes.subarray(1);
  const key = { n: toBigInt(nBytes), e: toBigInt(der.subarray(e.start, e.end)), size: nBytes.length };
  if (key.size < 256) throw new Error(`an RSA key of ${key.size * 8} bits is too short (2048 at least)`);
  return key;
}

// 1.2.840.113549.1.1.1 rsaEncryption
const RSA_OID = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

/** The RSA key of a PEM public key; throws with what is wrong. */
export function parseRsaPublicKeyPem(pem: string): RsaPublicKey {
  const m = /-----BEGIN (RSA )?PUBLIC KEY-----([\s\S]*?)-----END (RSA )?PUBLIC KEY-----/.exec(
    pem.replace(/\\n/g, '\n'),
  );
  if (!m) throw new Error('not a PEM public key (-----BEGIN PUBLIC KEY-----)');
  const der = fromBase64(m[2]!);
  if (!der) throw new Error('the PEM body is not base64');
  if (m[1]) return rsaPublicKey(der, 0, der.length);
  // SubjectPublicKeyInfo ::= SEQUENCE { algorithm SEQUENCE { OID, params }, subjectPublicKey BIT STRING }
  const spki = readTlv(der, 0, der.length);
  const alg = readTlv(der, spki.start, spki.end);
  const oid = readTlv(der, alg.start, alg.end);
  const oidBytes = der.subarray(oid.start, oid.end);
  if (oid.tag !== 0x06 || oidBytes.length !== RSA_OID.length || RSA_OID.some((b, i) => oidBytes[i] !== b))
    throw new Error('not an RSA key (only RSA keys are taken)');
  const bits = readTlv(der, alg.end, spki.end);
  if (bits.tag !== 0x03 || der[bits.start] !== 0) throw new Error('bad subjectPublicKey');
  return rsaPublicKey(der, bits.start + 1, bits.end);
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  const one = BigInt(1);
  const zero = BigInt(0);
  let result = one;
  let b = base % mod;
  let e = exp;
  while (e > zero) {
    if ((e & one) === one) result = (result * b) % mod;
    b = (b * b) % mod;
    e >>= one;
  }
  return result;
}

// DigestInfo prefix for SHA-256 (RFC 8017 9.2 note 1).
const SHA256_DIGEST_INFO = [
  0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
  0x20,
];

/** RSASSA-PKCS1-v1_5 with SHA-256 (RFC 8017 8.2.2): is `signature` the key's signature of `message`? */
export function rsaSha256Verify(key: RsaPublicKey, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== key.size) return false;
  const s = toBigInt(signature);
  if (s >= key.n) return false;
  let hex = modPow(s, key.e, key.n).toString(16);
  hex = hex.padStart(key.size * 2, '0');
  const em = new Uint8Array(key.size);
  for (let i = 0; i < key.size; i++) em[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  const digest = sha256(message);
  const t = [...SHA256_DIGEST_INFO, ...digest];
  const psEnd = key.size - t.length - 1;
  if (psEnd < 10 || em[0] !== 0 || em[1] !== 1 || em[psEnd] !== 0) return false;
  let ok = true;
  for (let i = 2; i < psEnd; i++) ok = em[i] === 0xff && ok;
  for (let i = 0; i < t.length; i++) ok = em[psEnd + 1 + i] === t[i] && ok;
  return ok;
}

export type OriginCheck = { ok: true } | { ok: false; reason: string };

/**
 * Does the origin of this parsed payload carry the ingress's signature, made within the allowed skew of
 * `now`? `pem`: the public key of the incident (null: the deployment configured none).
 */
export function checkOriginProof(
  pem: string | null,
  incidentId: string,
  action: string,
  payload: Record<string, unknown>,
  now: number,
): OriginCheck {
  const origin = payload.origin as { proof?: unknown; signedAt?: unknown } | undefined;
  if (!origin) return { ok: false, reason: 'no origin' };
  if (pem === null)
    return { ok: false, reason: 'this deployment has no origin key (policy.originVerifyKey)' };
  if (typeof origin.proof !== 'string' || typeof origin.signedAt !== 'string')
    return { ok: false, reason: 'the origin is not signed by the ingress' };
  const signedAt = Date.parse(origin.signedAt);
  if (!Number.isFinite(signedAt) || Math.abs(now - signedAt) > ORIGIN_PROOF_MAX_SKEW_MS)
    return { ok: false, reason: `the origin's signature is dated ${origin.signedAt.slice(0, 40)}, not now` };
  let key: RsaPublicKey;
  try {
    key = parseRsaPublicKeyPem(pem);
  } catch (err) {
    return { ok: false, reason: `the origin key is unusable: ${(err as Error).message}` };
  }
  const signature = fromBase64(origin.proof);
  if (!signature || !rsaSha256Verify(key, utf8(originMessage(incidentId, action, payload)), signature))
    return { ok: false, reason: "the origin's signature does not verify" };
  return { ok: true };
}
