// A TCP proxy on loopback in front of PostgreSQL that a test can make hang or refuse, the two ways a
// database fails in production: `hang()` accepts connections and forwards nothing (a stuck server or a
// network partition: queries wait until a timeout), `refuse()` closes the port and every connection through
// it (a server down: ECONNREFUSED at once), `open()` forwards again. Bytes held during a hang are forwarded
// on `open()`, as TCP would once a partition heals.
import net from 'node:net';

export type ProxyMode = 'open' | 'hang' | 'refuse';

export interface PgProxy {
  port: number;
  /** The server URL through the proxy, for database `db`. */
  url(db: string): string;
  readonly mode: ProxyMode;
  /** Connections accepted so far (to tell that clients did try). */
  readonly accepted: number;
  hang(): void;
  refuse(): Promise<void>;
  open(): Promise<void>;
  stop(): Promise<void>;
}

interface Link {
  client: net.Socket;
  upstream: net.Socket | null;
  held: Buffer[];
  heldBack: Buffer[];
}

export async function startPgProxy(target = { host: '127.0.0.1', port: 5432 }): Promise<PgProxy> {
  let mode: ProxyMode = 'open';
  let accepted = 0;
  const links = new Set<Link>();

  const connectUpstream = (link: Link) => {
    const up = net.connect(target.port, target.host);
    link.upstream = up;
    up.on('data', (d: Buffer) => {
      if (mode === 'open') link.client.write(d);
      else link.heldBack.push(d);
    });
    up.on('error', () => link.client.destroy());
    up.on('close', () => link.client.destroy());
    for (const d of link.held.splice(0)) up.write(d);
  };

  const onConnection = (client: net.Socket) => {
    accepted += 1;
    const link: Link = { client, upstream: null, held: [], heldBack: [] };
    links.add(link);
    client.on('data', (d: Buffer) => {
      if (mode === 'open' && link.upstream) link.upstream.write(d);
      else link.held.push(d);
    });
    const drop = () => {
      link.upstream?.destroy();
      links.delete(link);
    };
    client.on('error', drop);
    client.on('close', drop);
    if (mode === 'open') connectUpstream(link);
  };

  let server = net.createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  const closeServer = () =>
    new Promise<void>((resolve) => {
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  const destroyAll = () => {
    for (const l of links) {
      l.client.destroy();
      l.upstream?.destroy();
    }
    links.clear();
  };

  return {
    port,
    url: (db) => `postgres://postgres@127.0.0.1:${port}/${db}`,
    get mode() {
      return mode;
    },
    get accepted() {
      return accepted;
    },
    hang() {
      mode = 'hang';
    },
    async refuse() {
      mode = 'refuse';
      await Promise.all([closeServer(), Promise.resolve(destroyAll())]);
    },
    async open() {
      const was = mode;
      mode = 'open';
      if (was === 'refuse') {
        server = net.createServer(onConnection);
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, '127.0.0.1', resolve);
        });
        return;
      }
      for (const l of links) {
        if (!l.upstream) connectUpstream(l);
        else for (const d of l.held.splice(0)) l.upstream.write(d);
        for (const d of l.heldBack.splice(0)) l.client.write(d);
      }
    },
    async stop() {
      destroyAll();
      await closeServer();
    },
  };
}
