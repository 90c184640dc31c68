// A client on a bare TCP socket, for what an HTTP library hides: a body sent in part, or a byte at a time,
// and whether the server answered (and hung up) before the client had sent everything it declared.
import net from 'node:net';

export interface RawExchange {
  /** The status code of the first response, or null if none came. */
  statusCode: number | null;
  /** Everything the server sent. */
  response: string;
  /** The server closed the connection (end or reset). */
  closed: boolean;
  /** Milliseconds from connecting to the close (or to giving up). */
  elapsedMs: number;
  /** Body bytes the client had written when the first response byte arrived (null: no response). */
  bodyBytesSentBeforeResponse: number | null;
}

/**
 * Sends `head` (request line and headers, without the blank line) and then `chunks` of the body, one every
 * `intervalMs`, until the server closes the connection or `giveUpMs` passes. Never sends more than given.
 * `noBlankLine`: the head is left open, so the chunks are more header lines.
 */
export function rawRequest(
  url: string,
  head: string,
  chunks: Buffer[],
  {
    intervalMs = 0,
    giveUpMs = 10_000,
    noBlankLine = false,
  }: { intervalMs?: number; giveUpMs?: number; noBlankLine?: boolean } = {},
): Promise<RawExchange> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const started = Date.now();
    const socket = net.connect(Number(port), hostname);
    let response = '';
    let sent = 0;
    let sentAtResponse: number | null = null;
    let done = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(giveUp);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(response);
      resolve({
        statusCode: m ? Number(m[1]) : null,
        response,
        closed,
        elapsedMs: Date.now() - started,
        bodyBytesSentBeforeResponse: sentAtResponse,
      });
    };
    const giveUp = setTimeout(() => finish(false), giveUpMs);
    socket.on('data', (d: Buffer) => {
      if (sentAtResponse === null) sentAtResponse = sent;
      response += d.toString('latin1');
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    socket.on('connect', () => {
      socket.write(noBlankLine ? `${head}\r\n` : `${head}\r\n\r\n`);
      let i = 0;
      const next = () => {
        if (done || i >= chunks.length) return;
        const chunk = chunks[i++]!;
        socket.write(chunk, () => {
          sent += chunk.length;
        });
        timer = setTimeout(next, intervalMs);
      };
      next();
    });
  });
}

/** The request head for a POST of `length` bytes of `contentType` to `path`, with extra headers. */
export function postHead(
  url: string,
  path: string,
  contentType: string,
  length: number,
  headers: Record<string, string> = {},
): string {
  const { host } = new URL(url);
  return [
    `POST ${path} HTTP/1.1`,
    `Host: ${host}`,
    `Content-Type: ${contentType}`,
    `Content-Length: ${length}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ].join('\r\n');
}
