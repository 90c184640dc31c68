// Slow clients on a real socket: a body trickled a byte at a time (never idle, so an idle timeout alone would
// not end it) and headers that never finish are cut off once the request has taken the configured bound.
import { loadIngressConfig } from '../../src/ingress/config';
import { closeAllApps, fakeIngress, fixture } from './helpers';
import { postHead, rawRequest } from './raw-socket';

afterAll(closeAllApps);

const BOUND_MS = 2000;

describe('request and header timeouts', () => {
  it('defaults: 30 s for a request, 10 s for its headers, 120 s idle; each configurable', () => {
    const d = loadIngressConfig({}, { insecure: true });
    expect(d).toMatchObject({ requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, idleTimeoutMs: 120_000 });
    const c = loadIngressConfig(
      {
        INGRESS_REQUEST_TIMEOUT_MS: '5000',
        INGRESS_HEADERS_TIMEOUT_MS: '2000',
        INGRESS_IDLE_TIMEOUT_MS: '9000',
      },
      { insecure: true },
    );
    expect(c).toMatchObject({ requestTimeoutMs: 5000, headersTimeoutMs: 2000, idleTimeoutMs: 9000 });
    expect(() => loadIngressConfig({ INGRESS_REQUEST_TIMEOUT_MS: '0' }, { insecure: true })).toThrow(
      /INGRESS_REQUEST_TIMEOUT_MS/,
    );
  });

  it('a body sent a byte every 300 ms is answered 408 and disconnected within the bound', async () => {
    const { app, starter } = fakeIngress({ requestTimeoutMs: BOUND_MS, headersTimeoutMs: BOUND_MS });
    const url = await app.url();
    const body = Buffer.from(JSON.stringify(fixture('alertmanager-firing.json')));
    // Sent in full this would take minutes; it is never idle for more than 300 ms.
    const bytes = Array.from(body, (b) => Buffer.from([b]));
    const r = await rawRequest(
      url,
      postHead(url, '/v1/alerts/alertmanager', 'application/json', body.length),
      bytes,
      {
        intervalMs: 300,
        giveUpMs: 20_000,
      },
    );
    expect(r.closed).toBe(true);
    expect(r.statusCode).toBe(408);
    // The bound, plus the server's check interval (a quarter of it) and scheduling slack.
    expect(r.elapsedMs).toBeGreaterThanOrEqual(BOUND_MS - 100);
    expect(r.elapsedMs).toBeLessThan(BOUND_MS * 1.25 + 3000);
    expect(starter.calls).toHaveLength(0);
  });

  it('headers that never finish are cut off within the bound', async () => {
    const { app } = fakeIngress({ requestTimeoutMs: 10_000, headersTimeoutMs: BOUND_MS });
    const url = await app.url();
    const { host } = new URL(url);
    // The head is sent without its blank line, one header line every 300 ms.
    const lines = Array.from({ length: 100 }, (_, i) => Buffer.from(`X-Slow-${i}: ${i}\r\n`));
    const r = await rawRequest(url, `POST /v1/alerts/alertmanager HTTP/1.1\r\nHost: ${host}`, lines, {
      intervalMs: 300,
      giveUpMs: 20_000,
      noBlankLine: true,
    });
    expect(r.closed).toBe(true);
    expect(r.elapsedMs).toBeLessThan(BOUND_MS * 1.25 + 3000);
  });

  it('a prompt request under the same bounds is answered as usual', async () => {
    const { app, starter } = fakeIngress({ requestTimeoutMs: BOUND_MS, headersTimeoutMs: BOUND_MS });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/alerts/alertmanager',
      payload: fixture('alertmanager-firing.json'),
    });
    expect(res.statusCode).toBe(200);
    expect(starter.calls.length).toBeGreaterThan(0);
  });
});
