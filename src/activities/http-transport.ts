// Low-level HTTP transport shared by the platform checks (src/activities/platform/http.ts) and the
// notification channels (src/activities/notify/http.ts): a response body read with a size cap, and what a
// transport error was. Each caller turns these into its own vocabulary (a check finding, or a CHANNEL_ERROR
// ApplicationFailure), so this module knows nothing about Temporal, findings or channels.
import type { Dispatcher } from 'undici';
import type { ReachError } from '../playbook/procedures';

/** The body was longer than the caller allows; the stream is destroyed, nothing more is read. */
export class BodyTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`response body over ${maxBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * The whole body as UTF-8 text, or BodyTooLargeError as soon as it passes `maxBytes`: a service answering
 * megabytes (a misrouted URL, an HTML error page in a loop) must not fill the worker's memory.
 */
export async function readCapped(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buf.length;
    if (size > maxBytes) {
      body.destroy();
      throw new BodyTooLargeError(maxBytes);
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The error code of a transport failure (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`, ...): the error's own,
 * its cause's (wrapped errors), or the first of an AggregateError (a host with several addresses).
 */
export function transportErrorCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; cause?: { code?: unknown }; errors?: { code?: unknown }[] };
  const code = e?.code ?? e?.cause?.code ?? e?.errors?.[0]?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Why the other side could not be reached: refused, timeout, unresolved (DNS), unreachable, or other. */
export function classifyTransportError(err: unknown): ReachError {
  switch (transportErrorCode(err)) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
    case 'ABORT_ERR':
      return 'timeout';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'unresolved';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    default:
      // AbortSignal.timeout() rejects with a DOMException named TimeoutError (its `code` is a number).
      return (err as Error)?.name === 'TimeoutError' ? 'timeout' : 'other';
  }
}
