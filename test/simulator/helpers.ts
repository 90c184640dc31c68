// Real HTTP on loopback (undici, no keep-alive so a closed listener is seen as refused at once)
// and one PostgreSQL database per test file, so jest workers never share simulator tables.
import { Client } from 'pg';
import { Agent, request } from 'undici';
import { startSimulator, type Profile, type Simulator } from '../../scripts/simulator';

export const agent = new Agent({ pipelining: 0, connect: { timeout: 2_000 } });

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

export async function http(
  method: 'GET' | 'POST' | 'DELETE',
  url: string,
  body?: unknown,
  raw?: string,
): Promise<HttpResult> {
  const payload = raw ?? (body === undefined ? undefined : JSON.stringify(body));
  const res = await request(url, {
    method,
    dispatcher: agent,
    headers: payload === undefined ? {} : { 'content-type': 'application/json' },
    body: payload,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

export const get = (url: string) => http('GET', url);
export const post = (url: string, body?: unknown) => http('POST', url, body);

export function databaseUrl(name: string): string {
  const base = new URL(process.env.SIM_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
  base.pathname = `/${name}`;
  return base.toString();
}

export async function start(profile: Profile, dbName: string): Promise<Simulator> {
  return startSimulator({ profile, databaseUrl: databaseUrl(dbName) });
}

export async function sql<T extends Record<string, unknown>>(
  dbName: string,
  text: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new Client({ connectionString: databaseUrl(dbName) });
  await client.connect();
  try {
    return (await client.query<T>(text, params)).rows;
  } finally {
    await client.end();
  }
}

/** The inference API error envelope of trading-platform.md. */
export function expectEnvelope(body: Record<string, unknown>, error: string): void {
  expect(Object.keys(body).sort()).toEqual(['details', 'error', 'message', 'request_id', 'timestamp']);
  expect(body.error).toBe(error);
  expect(typeof body.message).toBe('string');
  expect(typeof body.request_id).toBe('string');
  expect(Number.isNaN(Date.parse(String(body.timestamp)))).toBe(false);
}
