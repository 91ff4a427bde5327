/**
 * Test support for the broker nodes: the real servers `scripts/services` starts, and a count of this process's open
 * TCP connections to a port (read from /proc), to show that runs and redeploys leave no connection behind.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';

/** Established TCP connections from this process to `port` on any host. */
export async function openConnections(port: number): Promise<number> {
  const inodes = new Set<string>();
  for (const fd of await readdir('/proc/self/fd')) {
    const link = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) inodes.add(m[1]!);
  }
  let count = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    const text = await readFile(table, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const remotePort = parseInt(cols[2]!.split(':')[1]!, 16);
      // state 01 = ESTABLISHED
      if (remotePort === port && cols[3] === '01' && inodes.has(cols[9]!)) count++;
    }
  }
  return count;
}

/** Wait until `value()` is defined (polling), or fail after `timeoutMs`. */
export async function until<T>(value: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, what = 'a condition'): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await value();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Wait until this process has `expected` connections to `port` (closes are asynchronous), and return the count. */
export async function waitForConnections(port: number, expected: number, timeoutMs = 15_000): Promise<number> {
  const end = Date.now() + timeoutMs;
  let n = await openConnections(port);
  while (n !== expected && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    n = await openConnections(port);
  }
  return n;
}
