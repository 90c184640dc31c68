// The origin check that runs inside the workflow sandbox (no crypto module there), against node:crypto:
// SHA-256, base64, PEM/DER public keys and RSA PKCS#1 v1.5 signatures, and the signed message's binding.
import { createHash, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import fc from 'fast-check';
import {
  checkOriginProof,
  fromBase64,
  originMessage,
  parseRsaPublicKeyPem,
  rsaSha256Verify,
  sha256,
  utf8,
} from '../../src/playbook/lifecycle/origin-proof';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const spki = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const pkcs1 = publicKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('sha256 and utf8 agree with node:crypto on any string, at every block boundary', () => {
  for (let n = 0; n < 200; n++) {
    const bytes = randomBytes(n);
    expect(hex(sha256(bytes))).toBe(createHash('sha256').update(bytes).digest('hex'));
  }
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme' }), (s) => {
      expect(Buffer.from(utf8(s)).equals(Buffer.from(s, 'utf8'))).toBe(true);
      expect(hex(sha256(utf8(s)))).toBe(createHash('sha256').update(s, 'utf8').digest('hex'));
    }),
  );
});

test('base64, standard and URL-safe, with or without padding', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (b) => {
      const buf = Buffer.from(b);
      expect(hex(fromBase64(buf.toString('base64'))!)).toBe(buf.toString('hex'));
      expect(hex(fromBase64(buf.toString('base64url'))!)).toBe(buf.toString('hex'));
    }),
  );
  expect(fromBase64('not base64!')).toBeNull();
});

test('an RSA signature made by node:crypto verifies, with SPKI and PKCS#1 keys; any change does not', () => {
  const message = Buffer.from('acknowledge by Ana');
  const signature = sign('sha256', message, privateKey);
  for (const pem of [spki, pkcs1, spki.replace(/\n/g, '\\n')]) {
    const key = parseRsaPublicKeyPem(pem);
    expect(key.size).toBe(256);
    expect(rsaSha256Verify(key, message, signature)).toBe(true);
    expect(rsaSha256Verify(key, Buffer.from('acknowledge by Bob'), signature)).toBe(false);
    const flipped = Buffer.from(signature);
    flipped[100]! ^= 1;
    expect(rsaSha256Verify(key, message, flipped)).toBe(false);
  }
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
  expect(
    rsaSha256Verify(
      parseRsaPublicKeyPem(other.export({ type: 'spki', format: 'pem' }).toString()),
      message,
      signature,
    ),
  ).toBe(false);
  expect(() => parseRsaPublicKeyPem('hello')).toThrow(/PEM/);
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
    type: 'spki',
    format: 'pem',
  });
  expect(() => parseRsaPublicKeyPem(ec.toString())).toThrow(/RSA/);
  const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
    type: 'spki',
    format: 'pem',
  });
  expect(() => parseRsaPublicKeyPem(short.toString())).toThrow(/too short/);
});

describe('checkOriginProof', () => {
  const now = Date.parse('2026-12-01T14:00:00Z');
  const incident = 'incident-x@20261201T140000.000Z';
  const signed = (action: string, payload: Record<string, unknown>, at = now) => {
    const origin = { ...(payload.origin as object), signedAt: new Date(at).toISOString() };
    const body = { ...payload, origin };
    const proof = sign('sha256', Buffer.from(originMessage(incident, action, body)), privateKey).toString(
      'base64',
    );
    return { ...body, origin: { ...origin, proof } };
  };
  const ana = { channel: 'slack', userId: 'U0ANA', known: true, role: 'cto' };

  test('the ingress signature verifies; key order does not matter', () => {
    const p = signed('approve', { by: 'Ana', actionId: 'kill-switch-1', origin: ana });
    expect(checkOriginProof(spki, incident, 'approve', p, now)).toEqual({ ok: true });
    const reordered = { origin: p.origin, actionId: 'kill-switch-1', by: 'Ana' };
    expect(checkOriginProof(spki, incident, 'approve', reordered, now + 60_000)).toEqual({ ok: true });
  });

  test('bound to the incident, the action, every field, and the time', () => {
    const p = signed('approve', { by: 'Ana', actionId: 'kill-switch-1', origin: ana });
    const no = (r: ReturnType<typeof checkOriginProof>) => expect(r.ok).toBe(false);
    no(checkOriginProof(spki, 'incident-x@20261202T000000.000Z', 'approve', p, now));
    no(checkOriginProof(spki, incident, 'reject', p, now));
    no(checkOriginProof(spki, incident, 'approve', { ...p, actionId: 'resume-2' }, now));
    no(
      checkOriginProof(
        spki,
        incident,
        'approve',
        { ...p, origin: { ...p.origin, role: 'trading-lead' } },
        now,
      ),
    );
    no(checkOriginProof(spki, incident, 'approve', p, now + 11 * 60_000));
    no(checkOriginProof(null, incident, 'approve', p, now));
    no(
      checkOriginProof(spki, incident, 'approve', { by: 'Ana', actionId: 'kill-switch-1', origin: ana }, now),
    );
    expect(checkOriginProof(pkcs1, incident, 'approve', p, now)).toEqual({ ok: true });
  });
});
