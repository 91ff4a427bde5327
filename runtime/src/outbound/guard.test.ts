import { createServer, type Server } from 'node:http';
import { connect, createServer as createTcpServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutboundRefusedError } from '@flowcrew/sdk';
import { AllowList, AllowListError, createOutboundGuard, parseAllowEntry, type LookupAll } from './index.ts';

let server: Server;
/** The same server on another loopback address, standing in for a public host the allow-list lets through. */
let stand: Server;
let port = 0;
let standPort = 0;
const hits: string[] = [];

beforeAll(async () => {
  const handler: Parameters<typeof createServer>[1] = (req, res) => {
    hits.push(`${req.method} ${req.url}`);
    if (req.url?.startsWith('/redirect?to=')) {
      res.writeHead(302, { location: decodeURIComponent(req.url.slice('/redirect?to='.length)) }).end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true, host: req.headers.host }));
  };
  server = createServer(handler);
  stand = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => stand.listen(0, '127.0.0.2', resolve));
  port = (server.address() as { port: number }).port;
  standPort = (stand.address() as { port: number }).port;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await new Promise<void>((resolve) => stand.close(() => resolve()));
});

/** A resolver that answers from a table: plays public names, internal names and rebinding answers without real DNS. */
function fakeDns(table: Record<string, string[] | (() => string[])>): LookupAll {
  return async (hostname) => {
    const entry = table[hostname];
    if (!entry) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return (typeof entry === 'function' ? entry() : entry).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

describe('the outbound guard, by default', () => {
  const guard = createOutboundGuard();
  afterAll(() => guard.close());

  it.each([
    ['http://127.0.0.1:PORT/', 'loopback'],
    ['http://localhost:PORT/', 'loopback'],
    ['http://2130706433:PORT/', 'loopback'],
    ['http://0x7f.1:PORT/', 'loopback'],
    ['http://127.1:PORT/', 'loopback'],
    ['http://0177.0.0.1:PORT/', 'loopback'],
    ['http://0.0.0.0:PORT/', 'unspecified'],
    ['http://0:PORT/', 'unspecified'],
    ['http://[::]:PORT/', 'unspecified'],
    ['http://[::1]:PORT/', 'loopback'],
    ['http://[::ffff:127.0.0.1]:PORT/', 'IPv4-mapped IPv6'],
    ['http://[::ffff:7f00:1]:PORT/', 'IPv4-mapped IPv6'],
    ['http://10.0.0.1:PORT/', 'private'],
    ['http://172.16.5.4:PORT/', 'private'],
    ['http://192.168.1.1:PORT/', 'private'],
    ['http://100.64.0.1:PORT/', 'carrier-grade NAT'],
    ['http://169.254.10.10:PORT/', 'link-local'],
    ['http://169.254.169.254/latest/meta-data/', 'cloud metadata'],
    ['http://100.100.100.200/', 'cloud metadata'],
    ['http://[fd00:ec2::254]/', 'cloud metadata'],
    ['http://[fe80::1]:PORT/', 'link-local'],
    ['http://[fc00::1]:PORT/', 'unique-local'],
    ['http://224.0.0.1:PORT/', 'multicast'],
    ['http://[ff02::1]:PORT/', 'multicast'],
    ['http://[64:ff9b::7f00:1]:PORT/', 'NAT64'],
    ['http://255.255.255.255:PORT/', 'broadcast'],
  ])('refuses %s (%s) before sending anything', async (template, reason) => {
    const before = hits.length;
    const url = template.replace('PORT', String(port));
    const refusal = await guard.fetch(url).then(
      () => null,
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(OutboundRefusedError);
    expect((refusal as Error).message).toContain(reason);
    expect((refusal as Error).message).toContain('FLOWCREW_OUTBOUND_ALLOW');
    expect(hits.length).toBe(before);
  });

  it('refuses schemes other than http and https, and relative URLs', async () => {
    await expect(guard.fetch('file:///etc/passwd')).rejects.toThrow(/only http: and https:/);
    await expect(guard.fetch('data:text/plain,hi')).rejects.toThrow(/only http: and https:/);
    await expect(guard.fetch('/api/v1/flows')).rejects.toThrow(/not an absolute URL/);
  });

  it('checks raw hosts for socket clients the same way (names, literals, short forms, brackets, host:port)', async () => {
    await expect(guard.check('127.0.0.1', 5432)).rejects.toThrow(/127\.0\.0\.1:5432 refused: a loopback address/);
    await expect(guard.check('127.1', 5432)).rejects.toThrow(/127\.0\.0\.1:5432 refused/);
    await expect(guard.check('2130706433', 6379)).rejects.toThrow(/127\.0\.0\.1:6379 refused/);
    await expect(guard.check('[::1]', 5432)).rejects.toThrow(/\[::1\]:5432 refused/);
    await expect(guard.check('[::1]:5432')).rejects.toThrow(/\[::1\]:5432 refused/);
    await expect(guard.check('localhost:5432')).rejects.toThrow(/localhost:5432 refused: .*loopback/);
    await expect(guard.check('postgres://10.1.2.3:5432/db', 5432)).rejects.toThrow(/10\.1\.2\.3:5432 refused: a private address/);
    await expect(guard.check('db.example')).rejects.toThrow(/needs a port/);
  });
});

describe('the outbound guard with an allow-list', () => {
  it('reaches an allow-listed address and port, and only that port', async () => {
    const guard = createOutboundGuard({ allow: [`127.0.0.1:${port}`] });
    try {
      const response = await guard.fetch(`http://127.0.0.1:${port}/ok`);
      expect(await response.json()).toEqual({ ok: true, host: `127.0.0.1:${port}` });
      await expect(guard.check('127.0.0.1', port + 1 === 65536 ? 1 : port + 1)).rejects.toThrow(/refused/);
      await expect(guard.fetch(`http://[::ffff:127.0.0.1]:${port}/ok`).then((r) => r.status)).resolves.toBe(200);
    } finally {
      await guard.close();
    }
  });

  it('checks every redirect hop: a public host redirecting to loopback is refused, naming the hop', async () => {
    // "public.example" resolves to a global address that is really served here (the allow-list entry lets the
    // connection reach it), then redirects to the runtime's own loopback port, which is not allowed.
    const guard = createOutboundGuard({ allow: [`127.0.0.2:${standPort}`] });
    const other = createOutboundGuard({ allow: ['public.example'], lookup: fakeDns({ 'public.example': ['127.0.0.2'], localhost: ['127.0.0.1'] }) });
    try {
      const before = hits.length;
      const target = encodeURIComponent(`http://127.0.0.1:${port}/admin`);
      await expect(guard.fetch(`http://127.0.0.2:${standPort}/redirect?to=${target}`)).rejects.toThrow(
        new RegExp(`127\\.0\\.0\\.1:${port} refused: a loopback address.*reached by a redirect from http://127\\.0\\.0\\.2:${standPort}`),
      );
      expect(hits.slice(before)).toEqual([`GET /redirect?to=${target}`]);
      // Allowed by name: the name's own address is fine, a redirect to another name inside is not.
      const viaName = encodeURIComponent(`http://localhost:${port}/admin`);
      await expect(other.fetch(`http://public.example:${standPort}/redirect?to=${viaName}`)).rejects.toThrow(/localhost:\d+ refused: 127\.0\.0\.1, a loopback address.*redirect from http:\/\/public\.example/);
      expect(hits.slice(before)).toHaveLength(2);
    } finally {
      await guard.close();
      await other.close();
    }
  });

  it('connects to the address it checked, so a DNS answer that changes after the check (rebinding) cannot redirect the socket', async () => {
    // First answer: an allowed address; every later answer: loopback. Each connection resolves exactly once and
    // connects to the address of that resolution; a new connection is checked again.
    let answers = 0;
    const rebinding = fakeDns({ 'rebind.example': () => (answers++ === 0 ? ['127.0.0.2'] : ['127.0.0.1']) });
    const guard = createOutboundGuard({ allow: [`127.0.0.2:${standPort}`], lookup: rebinding });
    try {
      const before = hits.length;
      const first = await guard.fetch(`http://rebind.example:${standPort}/first`, { headers: { connection: 'close' } });
      expect(await first.json()).toEqual({ ok: true, host: `rebind.example:${standPort}` });
      expect(answers).toBe(1);
      // The next connection sees the rebound answer, and is refused before any byte is sent.
      await expect(guard.fetch(`http://rebind.example:${standPort}/second`)).rejects.toThrow(/rebind\.example:\d+ refused: 127\.0\.0\.1, a loopback address/);
      expect(answers).toBe(2);
      expect(hits.slice(before)).toEqual(['GET /first']);
      // check() hands socket clients the address to connect to, not a name to resolve again.
      answers = 0;
      expect(await guard.check('rebind.example', standPort)).toEqual({ host: 'rebind.example', port: standPort, addresses: [{ address: '127.0.0.2', family: 4 }] });
    } finally {
      await guard.close();
    }
  });

  it('refuses a name that resolves only to refused addresses, and skips refused ones among several', async () => {
    const guard = createOutboundGuard({ lookup: fakeDns({ 'inside.example': ['10.0.0.5', '192.168.0.2'], 'mixed.example': ['10.0.0.5', '93.184.216.34'] }) });
    try {
      await expect(guard.check('inside.example', 443)).rejects.toThrow('outbound request to inside.example:443 refused: 10.0.0.5, a private address; 192.168.0.2, a private address');
      expect((await guard.check('https://mixed.example/')).addresses).toEqual([{ address: '93.184.216.34', family: 4 }]);
      await expect(guard.check('nowhere.example', 80)).rejects.toThrow(/cannot resolve nowhere\.example: ENOTFOUND/);
    } finally {
      await guard.close();
    }
  });

  it('allows networks, names and wildcards; never cloud metadata through a broad entry', async () => {
    const dns = fakeDns({ 'db.internal.example': ['10.1.2.3'], 'internal.example': ['10.1.2.4'], 'meta.internal.example': ['169.254.169.254'] });
    const guard = createOutboundGuard({ allow: ['10.0.0.0/8', '*.internal.example', '169.254.0.0/16', '*'], lookup: dns });
    try {
      expect((await guard.check('db.internal.example', 5432)).addresses[0]!.address).toBe('10.1.2.3');
      expect((await guard.check('internal.example', 5432)).addresses[0]!.address).toBe('10.1.2.4');
      await expect(guard.check('meta.internal.example', 80)).rejects.toThrow(/cloud metadata/);
      await expect(guard.check('169.254.169.254', 80)).rejects.toThrow(/cloud metadata/);
      expect((await guard.check('169.254.1.1', 80)).addresses[0]!.address).toBe('169.254.1.1');
    } finally {
      await guard.close();
    }
    const exact = createOutboundGuard({ allow: ['169.254.169.254:80'] });
    expect((await exact.check('169.254.169.254', 80)).addresses).toHaveLength(1);
    await exact.close();
  });
});

describe('allow-list entries', () => {
  it('parses addresses, ports, networks, names and wildcards', () => {
    expect(parseAllowEntry('127.0.0.1:9000')).toMatchObject({ kind: 'network', exact: true, port: 9000 });
    expect(parseAllowEntry('[::1]:8080')).toMatchObject({ kind: 'network', exact: true, port: 8080 });
    expect(parseAllowEntry('::1')).toMatchObject({ kind: 'network', exact: true, port: undefined });
    expect(parseAllowEntry('10.0.0.0/8')).toMatchObject({ kind: 'network', bits: 8, exact: false });
    expect(parseAllowEntry('10.0.0.0/8:5432')).toMatchObject({ kind: 'network', bits: 8, port: 5432 });
    expect(parseAllowEntry('fd00::/8')).toMatchObject({ kind: 'network', bits: 8 });
    expect(parseAllowEntry('*.Internal.Example')).toMatchObject({ kind: 'name', name: '.internal.example', wildcard: true });
    expect(parseAllowEntry('db.internal:5432')).toMatchObject({ kind: 'name', name: 'db.internal', port: 5432 });
    expect(AllowList.parse(' 127.0.0.1:9000, 10.0.0.0/8 ,*.internal.example ').entries).toHaveLength(3);
  });

  it('says which entry is wrong', () => {
    expect(() => parseAllowEntry('10.0.0.0/99')).toThrow(AllowListError);
    expect(() => parseAllowEntry('127.0.0.1:99999')).toThrow('outbound allow-list entry "127.0.0.1:99999": port must be 1-65535');
    expect(() => parseAllowEntry('http://x/')).toThrow(/"http:\/\/x\/" is not a valid network/);
    expect(() => parseAllowEntry('bad host!')).toThrow(/is neither an address, a network, a host name nor \*\.domain/);
  });
});

describe('socket clients', () => {
  it('connect to the address check() returns', async () => {
    const tcp = createTcpServer((socket) => socket.end('hello\n'));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const tcpPort = (tcp.address() as { port: number }).port;
    const guard = createOutboundGuard({ allow: ['127.0.0.1'] });
    try {
      const target = await guard.check('localhost', tcpPort);
      const address = target.addresses.find((a) => a.address === '127.0.0.1')!;
      const greeting = await new Promise<string>((resolve, reject) => {
        const socket = connect({ host: address.address, port: target.port }, () => socket.once('data', (data) => resolve(data.toString())));
        socket.on('error', reject);
      });
      expect(greeting).toBe('hello\n');
      // ::1 (localhost's other address) is not on the list: only 127.0.0.1 comes back.
      expect(target.addresses.every((a) => a.address === '127.0.0.1')).toBe(true);
    } finally {
      await guard.close();
      tcp.close();
    }
  });
});
