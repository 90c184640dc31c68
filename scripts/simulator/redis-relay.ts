// 3.1 diagnosis "Check Redis": the simulator cannot stop the real Redis, so the engine's platform config
// points at this TCP relay in front of it (config/simulator.yaml), and `redisUnreachable` closes the relay:
// the engine's own PING then meets a refused connection, as it would with the redis container down, the
// way the other faults reach the engine through the ports it is configured with. Bytes pass through
// untouched: there is no Redis protocol here, so any command works while the fault is off.
import net from 'node:net';
import { listen } from './listen';

export class RedisRelay {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  listening = false;

  constructor(private readonly upstream: { host: string; port: number }) {
    this.server = net.createServer((client) => this.relay(client));
  }

  /** The upstream of a `redis://` URL (default port 6379). */
  static upstreamOf(redisUrl: string): { host: string; port: number } {
    const u = new URL(redisUrl);
    return { host: u.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1', port: Number(u.port || 6379) };
  }

  private relay(client: net.Socket): void {
    const upstream = net.connect(this.upstream.port, this.upstream.host);
    const end = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', end);
      s.on('close', end);
    }
    client.pipe(upstream).pipe(client);
  }

  /** `port` 0 picks a free one; reopening after the fault uses the port bound the first time. */
  async open(port: number, host: string): Promise<void> {
    this.port = await listen(this.server, port, host);
    this.listening = true;
  }

  /** Refuses new connections and drops the open ones, as a stopped container would. */
  async close(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
  }
}
