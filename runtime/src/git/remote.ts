/**
 * Which Git URLs a project may link to, and where they connect. Only SSH (ssh://… or user@host:path) and HTTPS: git's
 * other transports would read the server's own files (file://, a local path) or run commands (ext::), and plain HTTP
 * would send a token in clear. The host and port go through the runtime's outbound guard before each operation, so
 * a project cannot reach internal addresses the administrator did not allow (FLOWCREW_OUTBOUND_ALLOW).
 */
export interface GitRemote {
  host: string;
  port: number;
  transport: 'ssh' | 'https';
}

const SCP_LIKE = /^([A-Za-z0-9._-]+)@([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):(?!\/\/)(.+)$/;

/** Parse a Git URL, or throw an Error saying which forms are accepted. */
export function parseGitUrl(url: string): GitRemote {
  const scp = SCP_LIKE.exec(url);
  if (scp) return { host: scp[2]!.replace(/^\[|\]$/g, ''), port: 22, transport: 'ssh' };
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`"${url}" is not a Git URL: use ssh://user@host[:port]/path.git, user@host:path.git or https://host/path.git`);
  }
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (parsed.protocol === 'ssh:' && host) return { host, port: parsed.port ? Number(parsed.port) : 22, transport: 'ssh' };
  if (parsed.protocol === 'https:' && host) {
    if (parsed.username || parsed.password) throw new Error('put the token in a git-token credential, not in the URL');
    return { host, port: parsed.port ? Number(parsed.port) : 443, transport: 'https' };
  }
  throw new Error(`"${parsed.protocol}" Git URLs are not allowed: use ssh:// (or user@host:path) or https://`);
}
