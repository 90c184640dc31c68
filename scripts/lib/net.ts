// Loopback port helpers shared by the dev server, `npm start` and `npm run cluster`.
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

/** Whether something accepts TCP connections on host:port. */
export function portOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port }, () => {
      sock.destroy();
      resolve(true);
    });
    sock.on('error', () => resolve(false));
  });
}

/** Waits until `child` listens on host:port; fails if it exits first or the time runs out. */
export async function waitForPort(
  host: string,
  port: number,
  child: ChildProcess,
  what: string,
  timeoutMs: number,
  log: (line: string) => void = () => undefined,
): Promise<void> {
  const started = Date.now();
  let told = started;
  while (!(await portOpen(host, port))) {
    if (child.exitCode !== null)
      throw new Error(`${what} exited with code ${child.exitCode} before listening`);
    if (Date.now() - started > timeoutMs)
      throw new Error(`${what} did not listen on ${host}:${port} within ${timeoutMs} ms`);
    if (Date.now() - told > 5000) {
      log(`waiting for ${what} on ${host}:${port} (${Math.round((Date.now() - started) / 1000)} s)`);
      told = Date.now();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
