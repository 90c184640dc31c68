// npm start's local ingress token (scripts/lib/ingress-token.ts): a token file is written 0600 whether it is
// new or replaces a too-short one (writeFileSync's mode applies only when it creates a file), and the banner
// says where the token is, never what it is.
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { localIngressToken, tokenBannerLines } from '../../scripts/lib/ingress-token';

const dir = mkdtempSync(path.join(process.env.TEST_TMP_DIR ?? os.tmpdir(), 'ingress-token-'));
const mode = (file: string) => statSync(file).mode & 0o777;

test('a missing token file is created 0600 with 32 random bytes in hex', () => {
  const file = path.join(dir, 'nested', 'ingress-token');
  const t = localIngressToken(file);
  expect(t).toMatchObject({ file, created: true, mode: 0o600 });
  expect(t.token).toMatch(/^[0-9a-f]{64}$/);
  expect(readFileSync(file, 'utf8')).toBe(`${t.token}\n`);
  expect(mode(file)).toBe(0o600);
  // Kept across restarts.
  expect(localIngressToken(file)).toMatchObject({ token: t.token, created: false });
});

test('an existing too-short token in a 0644 file is replaced by a new one in a 0600 file', () => {
  const file = path.join(dir, 'short-token');
  writeFileSync(file, 'short\n', { mode: 0o644 });
  chmodSync(file, 0o644);
  const t = localIngressToken(file);
  expect(t.created).toBe(true);
  expect(t.token).toMatch(/^[0-9a-f]{64}$/);
  expect(readFileSync(file, 'utf8').trim()).toBe(t.token);
  expect(mode(file)).toBe(0o600);
});

test('a good token is kept as it is; the banner warns when its file is readable by others', () => {
  const file = path.join(dir, 'good-token');
  const value = 'a'.repeat(40);
  writeFileSync(file, `${value}\n`, { mode: 0o644 });
  chmodSync(file, 0o644);
  const t = localIngressToken(file);
  expect(t).toMatchObject({ token: value, created: false, mode: 0o644 });
  const banner = tokenBannerLines(t, dir).join('\n');
  expect(banner).toContain('WARNING: good-token is readable by other users: chmod 600 good-token');
});

test('the banner names the file and never contains the token', () => {
  const file = path.join(dir, 'banner-token');
  const t = localIngressToken(file);
  const banner = tokenBannerLines(t, dir).join('\n');
  expect(banner).not.toContain(t.token);
  expect(banner).toContain('Authorization: Bearer <the token in banner-token>');
  expect(banner).toContain('generated now, mode 0600');
  expect(banner).not.toContain('WARNING');
});
