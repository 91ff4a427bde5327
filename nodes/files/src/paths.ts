/** Paths as users write them in props and messages, checked before any backend sees them. */
import path from 'node:path';
import { PathEscapeError } from './store.ts';

/**
 * Normalise a user path to a root-relative POSIX path ('' = the root itself): a leading '/' means the root, '.' and
 * '..' are resolved, and a '..' that would climb above the root is refused (never clamped: `../etc/passwd` is an
 * error, not `etc/passwd`). NUL bytes and backslashes-as-separators are refused too.
 */
export function relativePath(userPath: string): string {
  if (typeof userPath !== 'string') throw new PathEscapeError(`the path must be text, got ${typeof userPath}`);
  if (userPath.includes('\0')) throw new PathEscapeError('the path contains a NUL byte');
  const parts: string[] = [];
  for (const part of userPath.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw new PathEscapeError(`the path "${userPath}" leads outside the configured directory (..)`);
      parts.pop();
    } else parts.push(part);
  }
  return parts.join('/');
}

/** `rel` (from relativePath) under `root` (empty: relative to where the backend starts, e.g. the SFTP login directory). */
export function underRoot(root: string, rel: string): string {
  if (!root) return rel || '.';
  return rel ? path.posix.join(root, rel) : root;
}

/** Whether `candidate` is `root` or inside it (both absolute, real paths). */
export function isInside(root: string, candidate: string): boolean {
  if (candidate === root) return true;
  const rel = path.relative(root, candidate);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}
