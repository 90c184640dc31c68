import type net from 'node:net';

/** Listens (again, after a "down" fault, on the very same port) and answers the port actually bound. */
export async function listen(server: net.Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('simulator listener has no TCP address');
  return addr.port;
}
