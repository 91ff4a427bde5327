/**
 * A real Git smart-HTTP server for tests: git's own `git http-backend` (CGI) behind a Node HTTPS server that asks for
 * HTTP Basic authentication, as GitHub/GitLab/Gitea do for tokens. The certificate is made with the openssl CLI for
 * 127.0.0.1 (a fresh CA-less self-signed one per server); every request is recorded (method, URL, whether it carried
 * the right credentials) so a test can check that a token never travels in a URL.
 */
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface SeenRequest {
  method: string;
  url: string;
  authorized: boolean;
}

export interface GitHttpsServer {
  /** https://127.0.0.1:<port> */
  origin: string;
  port: number;
  /** The certificate, as a CA bundle file for git (FLOWCREW_GIT_CA_FILE). */
  caFile: string;
  /** Directory the repositories live in (`<root>/<name>.git`). */
  root: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

export async function startGitHttpsServer(options: { username: string; token: string }): Promise<GitHttpsServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'flowcrew-git-https-'));
  const root = path.join(dir, 'repos');
  execFileSync('mkdir', ['-p', root]);
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const expected = `Basic ${Buffer.from(`${options.username}:${options.token}`).toString('base64')}`;
  const requests: SeenRequest[] = [];

  const server: Server = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    const authorized = req.headers.authorization === expected;
    requests.push({ method: req.method ?? '', url: req.url ?? '', authorized });
    if (!authorized) {
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="git"', 'content-type': 'text/plain' }).end('authentication required\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        // Pushing over HTTP is allowed for an authenticated user only (git http-backend's rule).
        REMOTE_USER: options.username,
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: decodeURIComponent(url.pathname),
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
        ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      },
    });
    req.pipe(cgi.stdin);
    cgi.stdin.on('error', () => {});
    // CGI answer: header lines, a blank line, then the body.
    let head = Buffer.alloc(0);
    let started = false;
    cgi.stdout.on('data', (chunk: Buffer) => {
      if (started) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      const endLf = head.indexOf('\n\n');
      const cut = end >= 0 ? { at: end, len: 4 } : endLf >= 0 ? { at: endLf, len: 2 } : null;
      if (!cut) return;
      started = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, cut.at).toString('latin1').split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(cut.at + cut.len));
    });
    cgi.on('close', () => {
      if (!started) res.writeHead(500).end('git http-backend gave no answer\n');
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `https://127.0.0.1:${port}`,
    port,
    caFile: cert,
    root,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
