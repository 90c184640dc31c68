// The local bearer token of `npm start` when no ingress auth is configured: kept in a file (data/ingress-token,
// or INGRESS_TOKEN_FILE) so Alertmanager's config stays valid across restarts. The token is a credential: its
// file is written 0600 and the banner says where it is, never what it is (terminal scrollback, CI logs and
// screen shares keep what is printed).
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const MIN_TOKEN_LENGTH = 16;

export interface LocalToken {
  token: string;
  file: string;
  /** A new token was written (none, or the one there was too short). */
  created: boolean;
  /** The file's permission bits as left (0o600 for a token written here). */
  mode: number;
}

/** Reads the token in `file`, or writes a new one (32 random bytes, hex) when it is missing or too short. */
export function localIngressToken(file: string): LocalToken {
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token.length >= MIN_TOKEN_LENGTH)
      return { token, file, created: false, mode: statSync(file).mode & 0o777 };
  }
  mkdirSync(path.dirname(file), { recursive: true });
  const token = randomBytes(32).toString('hex');
  // A new file renamed over the old one: writeFileSync's mode applies only when it creates the file, so
  // rewriting a too-short token in place would keep the old file's 0644.
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, `${token}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600); // whatever the umask
  renameSync(tmp, file);
  return { token, file, created: true, mode: statSync(file).mode & 0o777 };
}

/** The banner's lines about the token: where it is and how to send it, not its value. */
export function tokenBannerLines(t: LocalToken, cwd = process.cwd()): string[] {
  const where = path.relative(cwd, t.file) || t.file;
  const lines = [
    `  Ingress auth: Authorization: Bearer <the token in ${where}>`,
    `                (generated${t.created ? ' now' : ''}, mode ${t.mode.toString(8).padStart(4, '0')}; set INGRESS_BEARER_TOKENS to choose your own)`,
  ];
  if (t.mode & 0o077)
    lines.push(`                WARNING: ${where} is readable by other users: chmod 600 ${where}`);
  return lines;
}
