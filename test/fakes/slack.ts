// A fake Slack on 127.0.0.1 that speaks the real wire formats: incoming webhooks (plain-text `ok` or error
// codes) and the Web API chat.postMessage / chat.update (HTTP 200 with `{ok, ...}`). It records every
// request and can be told to fail: an HTTP status (429 with Retry-After, 5xx), a slow answer, or none at all.
//
// The generic part (startFakeHttpService, failure queue) is shared with the PagerDuty fake.
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

// --- Generic fake HTTP service ---------------------------------------------------------------------------

export type FakeFailure =
  /** Answer with this status (and body) instead of the normal answer. */
  | { status: number; retryAfter?: number | string; body?: string | Record<string, unknown> }
  /** Answer normally, after a delay. */
  | { delayMs: number }
  /** Accept the request and never answer. */
  | { hang: true };

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** Parsed JSON body, or undefined when the body is not JSON. */
  body: unknown;
  receivedAt: number;
  /** The injected failure this request met, if any. */
  failure?: FakeFailure;
}

export interface FakeResponse {
  status: number;
  headers?: Record<string, string>;
  body: string;
}

export interface FakeControl {
  url: string;
  requests: RecordedRequest[];
  /** The next `count` requests (default 1; Infinity = until clear()) meet `failure`. */
  failNext(failure: FakeFailure, count?: number): void;
  /** Accept requests and never answer, for the next `count` requests (default: until clear()). */
  hang(count?: number): void;
  /** Drop pending failures (requests already hanging stay so until the client gives up or stop()). */
  clear(): void;
  stop(): Promise<void>;
}

export async function startFakeHttpService(
  handle: (req: RecordedRequest) => FakeResponse,
): Promise<FakeControl> {
  const requests: RecordedRequest[] = [];
  const queue: { failure: FakeFailure; remaining: number }[] = [];

  const takeFailure = (): FakeFailure | undefined => {
    const head = queue[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    return head.failure;
  };

  const send = (res: http.ServerResponse, r: FakeResponse) => {
    if (res.destroyed) return;
    res.writeHead(r.status, { 'content-length': Buffer.byteLength(r.body), ...r.headers });
    res.end(r.body);
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(rawBody);
      } catch {
        body = undefined;
      }
      const failure = takeFailure();
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        rawBody,
        body,
        receivedAt: Date.now(),
        ...(failure ? { failure } : {}),
      };
      requests.push(recorded);
      if (!failure) return send(res, handle(recorded));
      if ('hang' in failure) return; // never answer
      if ('delayMs' in failure) {
        setTimeout(() => send(res, handle(recorded)), failure.delayMs);
        return;
      }
      const isJson = typeof failure.body === 'object';
      const defaultBody =
        failure.status === 429 ? 'rate_limited' : failure.status >= 500 ? 'internal_error' : 'error';
      send(res, {
        status: failure.status,
        headers: {
          'content-type': isJson ? 'application/json; charset=utf-8' : 'text/plain; charset=utf-8',
          ...(failure.retryAfter !== undefined ? { 'retry-after': String(failure.retryAfter) } : {}),
        },
        body: isJson ? JSON.stringify(failure.body) : ((failure.body as string | undefined) ?? defaultBody),
      });
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    failNext(failure, count = 1) {
      queue.push({ failure, remaining: count });
    },
    hang(count = Infinity) {
      queue.push({ failure: { hang: true }, remaining: count });
    },
    clear() {
      queue.length = 0;
    },
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// --- Slack -------------------------------------------------------------------------------------------------

export interface FakeSlackMessage {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  thread_ts?: string;
  reply_broadcast?: boolean;
  /** How many times chat.update edited it. */
  edits: number;
}

export interface FakeSlack extends FakeControl {
  /** Full incoming-webhook URL (a secret in real life). */
  webhookUrl: string;
  /** Web API base, e.g. http://127.0.0.1:1234/api */
  apiBaseUrl: string;
  botToken: string;
  /** Messages posted through the Web API, by ts (state after edits). */
  messages: Map<string, FakeSlackMessage>;
  /** Requests to the webhook path only / to one Web API method only. */
  webhookRequests(): RecordedRequest[];
  apiRequests(method?: 'chat.postMessage' | 'chat.update' | 'views.open'): RecordedRequest[];
  /** Modals opened with views.open. */
  views: Record<string, unknown>[];
  /** Messages posted to response_url addresses (ephemeral replies). */
  responses: { path: string; body: Record<string, unknown> }[];
  /** A fresh trigger_id (valid once, for views.open) and response_url, as Slack puts in an interaction. */
  interaction(): { triggerId: string; responseUrl: string };
}

export interface FakeSlackOptions {
  webhookPath?: string;
  botToken?: string;
  /** Channel names and ids the workspace knows -> channel id. */
  channels?: Record<string, string>;
}

const HEADER_MAX = 150;
const SECTION_MAX = 3000;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Block Kit checks the real service makes (the subset our messages use). */
function blocksError(blocks: unknown): string | undefined {
  if (blocks === undefined) return undefined;
  if (!Array.isArray(blocks) || blocks.length > 50) return 'invalid_blocks';
  for (const b of blocks) {
    if (!isRecord(b) || typeof b.type !== 'string') return 'invalid_blocks';
    const text = isRecord(b.text) ? b.text : undefined;
    if (
      b.type === 'header' &&
      (!text || text.type !== 'plain_text' || typeof text.text !== 'string' || text.text.length > HEADER_MAX)
    )
      return 'invalid_blocks';
    if (b.type === 'section') {
      if (!text && !Array.isArray(b.fields)) return 'invalid_blocks';
      if (text && (typeof text.text !== 'string' || text.text.length === 0 || text.text.length > SECTION_MAX))
        return 'invalid_blocks';
    }
    if (b.type === 'context' && (!Array.isArray(b.elements) || b.elements.length === 0))
      return 'invalid_blocks';
    if (b.type === 'actions') {
      // Block Kit: up to 25 elements; a button has a plain_text text of at most 75 characters, an action_id
      // of at most 255 and a value of at most 2000, and action_ids are unique within the block.
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 25)
        return 'invalid_blocks';
      const ids = new Set<string>();
      for (const e of b.elements) {
        if (!isRecord(e) || e.type !== 'button') return 'invalid_blocks';
        const t = isRecord(e.text) ? e.text : undefined;
        if (!t || t.type !== 'plain_text' || typeof t.text !== 'string' || t.text.length > 75)
          return 'invalid_blocks';
        if (typeof e.action_id !== 'string' || e.action_id.length > 255 || ids.has(e.action_id))
          return 'invalid_blocks';
        ids.add(e.action_id);
        if (e.value !== undefined && (typeof e.value !== 'string' || e.value.length > 2000))
          return 'invalid_blocks';
      }
    }
  }
  return undefined;
}

function hasText(body: Record<string, unknown>): boolean {
  const text = typeof body.text === 'string' && body.text.trim().length > 0;
  const blocks = Array.isArray(body.blocks) && body.blocks.length > 0;
  return text || blocks;
}

export async function startFakeSlack(options: FakeSlackOptions = {}): Promise<FakeSlack> {
  const webhookPath = options.webhookPath ?? '/services/T0FAKE/B0FAKE/fakewebhooksecret';
  const botToken = options.botToken ?? 'xoxb-fake-bot-token';
  const channels = options.channels ?? {
    '#trading-incidents': 'C0INCIDENTS',
    'trading-incidents': 'C0INCIDENTS',
    C0INCIDENTS: 'C0INCIDENTS',
  };
  const messages = new Map<string, FakeSlackMessage>();
  const triggers = new Set<string>();
  const views: Record<string, unknown>[] = [];
  const responses: { path: string; body: Record<string, unknown> }[] = [];
  let seq = 0;
  const nextTs = () => {
    seq += 1;
    return `${1_790_000_000 + seq}.${String(seq).padStart(6, '0')}`;
  };

  const text = (status: number, body: string): FakeResponse => ({
    status,
    headers: { 'content-type': 'text/html' },
    body,
  });
  const api = (body: Record<string, unknown>): FakeResponse => ({
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  });
  const apiError = (error: string) => api({ ok: false, error });

  const webhook = (req: RecordedRequest): FakeResponse => {
    if (req.method !== 'POST') return text(405, 'invalid_method');
    if (!isRecord(req.body)) return text(400, 'invalid_payload');
    if (!hasText(req.body)) return text(400, 'no_text');
    const bad = blocksError(req.body.blocks);
    if (bad) return text(400, bad);
    return text(200, 'ok');
  };

  const webApi = (method: string, req: RecordedRequest): FakeResponse => {
    if (method !== 'chat.postMessage' && method !== 'chat.update' && method !== 'views.open')
      return { status: 404, body: JSON.stringify({ ok: false, error: 'unknown_method' }) };
    const auth = req.headers.authorization;
    if (!auth) return apiError('not_authed');
    if (auth !== `Bearer ${botToken}`) return apiError('invalid_auth');
    if (!isRecord(req.body)) return apiError('invalid_json');
    const body = req.body;
    if (method === 'views.open') {
      // A trigger_id is good for 3 seconds and once; a modal needs a title and at most 100 blocks.
      if (typeof body.trigger_id !== 'string' || !triggers.has(body.trigger_id))
        return apiError('invalid_trigger_id');
      triggers.delete(body.trigger_id);
      const view = isRecord(body.view) ? body.view : undefined;
      if (
        !view ||
        view.type !== 'modal' ||
        !isRecord(view.title) ||
        !Array.isArray(view.blocks) ||
        view.blocks.length > 100
      )
        return apiError('invalid_arguments');
      views.push(view);
      return api({ ok: true, view: { id: `V0${views.length}`, ...view } });
    }
    const channelId = typeof body.channel === 'string' ? channels[body.channel] : undefined;
    if (!channelId) return apiError('channel_not_found');
    if (!hasText(body)) return apiError('no_text');
    const bad = blocksError(body.blocks);
    if (bad) return apiError(bad);
    const msgText = typeof body.text === 'string' ? body.text : undefined;
    const blocks = Array.isArray(body.blocks) ? body.blocks : undefined;

    if (method === 'chat.postMessage') {
      const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
      const ts = nextTs();
      messages.set(ts, {
        channel: channelId,
        ts,
        edits: 0,
        ...(msgText !== undefined ? { text: msgText } : {}),
        ...(blocks ? { blocks } : {}),
        ...(threadTs ? { thread_ts: threadTs } : {}),
        ...(body.reply_broadcast === true ? { reply_broadcast: true } : {}),
      });
      return api({
        ok: true,
        channel: channelId,
        ts,
        message: { type: 'message', text: msgText ?? '', ts, bot_id: 'B0FAKE' },
      });
    }
    const ts = typeof body.ts === 'string' ? body.ts : undefined;
    const existing = ts ? messages.get(ts) : undefined;
    if (!ts || !existing || existing.channel !== channelId) return apiError('message_not_found');
    messages.set(ts, {
      ...existing,
      edits: existing.edits + 1,
      ...(msgText !== undefined ? { text: msgText } : {}),
      ...(blocks ? { blocks } : {}),
    });
    return api({ ok: true, channel: channelId, ts, text: msgText ?? '' });
  };

  const control = await startFakeHttpService((req) => {
    if (req.path === webhookPath) return webhook(req);
    // response_url of an interaction or command: JSON message, answered "ok" (Slack's own answer).
    if (req.path.startsWith('/actions/')) {
      if (!isRecord(req.body) || !hasText(req.body)) return text(400, 'no_text');
      responses.push({ path: req.path, body: req.body });
      return text(200, 'ok');
    }
    const m = /^\/api\/([A-Za-z.]+)$/.exec(req.path);
    if (m && m[1]) return webApi(m[1], req);
    if (req.path.startsWith('/services/')) return text(404, 'no_service');
    return text(404, 'not_found');
  });

  return {
    ...control,
    webhookUrl: `${control.url}${webhookPath}`,
    apiBaseUrl: `${control.url}/api`,
    botToken,
    messages,
    webhookRequests: () => control.requests.filter((r) => r.path === webhookPath),
    views,
    responses,
    interaction: () => {
      seq += 1;
      const triggerId = `${seq}.${Date.now()}.fake${seq}`;
      triggers.add(triggerId);
      return { triggerId, responseUrl: `${control.url}/actions/T0FAKE/${seq}/fakeresponsetoken${seq}` };
    },
    apiRequests: (method) =>
      control.requests.filter((r) => (method ? r.path === `/api/${method}` : r.path.startsWith('/api/'))),
  };
}
