/**
 * A project's working clone (<data dir>/git/<project>): a cache of the remote, rebuilt from it at will. The database
 * is the truth of what this instance runs; the clone only turns it into commits (push), reads the remote's commits
 * (pull) and merges branches (promote). Every operation starts from a clean tree, so a crash mid-merge leaves
 * nothing that the next operation would trip over.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FlowDocument } from '../flow/types.ts';
import { diffFlows, type FlowDiff } from '../versions/diff.ts';
import { git, GitError, type GitEnvironment } from './cli.ts';
import type { FileMap } from './files.ts';

export interface FlowConflict {
  file: string;
  /** The flow id when the file is a flow. */
  flowId?: string;
  /** What each side changed since their common version (null: that side deleted the flow). */
  ours: FlowDiff | null;
  theirs: FlowDiff | null;
}

export type MergeResult = { ok: true; head: string } | { ok: false; conflicts: FlowConflict[] };

const EMPTY_FLOW = (id: string): FlowDocument => ({ id, name: '', version: 0, nodes: [] });

export class GitWorkspace {
  constructor(
    readonly dir: string,
    private readonly url: string,
    private readonly env: GitEnvironment,
  ) {}

  private run(args: string[], options: { allowExit?: number[]; author?: string; remote?: boolean } = {}) {
    return git(this.dir, args, { allowExit: options.allowExit, author: options.author, env: options.remote ? this.env : undefined });
  }

  /** Create or repair the clone, point it at the URL, clean it, and fetch every branch. */
  async fetch(): Promise<void> {
    if (!existsSync(path.join(this.dir, '.git'))) {
      await mkdir(this.dir, { recursive: true });
      await this.run(['init', '-q']);
    }
    await this.run(['config', 'core.quotePath', 'false']);
    const remotes = (await this.run(['remote'])).stdout.split('\n');
    await this.run(remotes.includes('origin') ? ['remote', 'set-url', 'origin', this.url] : ['remote', 'add', 'origin', this.url]);
    await this.clean();
    await this.run(['fetch', '-q', '--prune', 'origin', '+refs/heads/*:refs/remotes/origin/*'], { remote: true });
  }

  private async clean(): Promise<void> {
    await this.run(['merge', '--abort'], { allowExit: [128, 1] });
    await this.run(['reset', '-q', '--hard'], { allowExit: [128] });
    await this.run(['clean', '-qfdx']);
  }

  /** The fetched commit of a remote branch, or null when the branch does not exist there. */
  async remoteHead(branch: string): Promise<string | null> {
    const { stdout, code } = await this.run(['rev-parse', '--verify', '-q', `refs/remotes/origin/${branch}^{commit}`], { allowExit: [1] });
    return code === 0 ? stdout.trim() : null;
  }

  /** Every file of a commit. */
  async files(commit: string): Promise<FileMap> {
    const names = (await this.run(['ls-tree', '-r', '-z', '--name-only', commit])).stdout.split('\0').filter(Boolean);
    const files: FileMap = new Map();
    for (const name of names) files.set(name, (await this.run(['show', `${commit}:${name}`])).stdout);
    return files;
  }

  /** Commit exactly `files` as the whole tree on top of `parent` (null: a first commit). Returns the new head, or `parent` when nothing changed. */
  async commit(parent: string | null, files: FileMap, message: string, author: string): Promise<string> {
    await this.clean();
    if (parent) await this.run(['checkout', '-q', '--detach', parent]);
    else {
      await this.run(['checkout', '-q', '--orphan', `flowcrew-${Date.now()}`]);
      await this.run(['rm', '-rfq', '--ignore-unmatch', '.']);
    }
    for (const entry of ['flows', 'credentials.json', 'flowcrew.json']) await rm(path.join(this.dir, entry), { recursive: true, force: true });
    for (const [name, text] of files) {
      await mkdir(path.dirname(path.join(this.dir, name)), { recursive: true });
      await writeFile(path.join(this.dir, name), text);
    }
    await this.run(['add', '-A']);
    if ((await this.run(['status', '--porcelain'])).stdout.trim() === '' && parent) return parent;
    await this.run(['commit', '-q', '--allow-empty', '-m', message], { author });
    return (await this.run(['rev-parse', 'HEAD'])).stdout.trim();
  }

  /**
   * Merge `theirs` into `ours`. A conflict in credentials.json (two sides adding references) is resolved by taking
   * both sides' references; a conflicting flow is reported as what each side changed, and the merge is abandoned.
   */
  async merge(ours: string, theirs: string, message: string, author: string): Promise<MergeResult> {
    await this.clean();
    await this.run(['checkout', '-q', '--detach', ours]);
    const { code } = await this.run(['merge', '-q', '--no-ff', '--allow-unrelated-histories', '-m', message, theirs], { allowExit: [1], author });
    if (code === 0) return { ok: true, head: (await this.run(['rev-parse', 'HEAD'])).stdout.trim() };
    const unmerged = [...new Set((await this.run(['diff', '--name-only', '-z', '--diff-filter=U'])).stdout.split('\0').filter(Boolean))];
    const conflicts: FlowConflict[] = [];
    for (const file of unmerged) {
      if (file === 'credentials.json') {
        await writeFile(path.join(this.dir, file), await this.unionOfReferences());
        await this.run(['add', file]);
        continue;
      }
      conflicts.push(await this.describe(file));
    }
    if (conflicts.length > 0) {
      await this.clean();
      return { ok: false, conflicts };
    }
    await this.run(['commit', '-q', '--no-edit'], { author });
    return { ok: true, head: (await this.run(['rev-parse', 'HEAD'])).stdout.trim() };
  }

  /** Push `commit` to `branch`; git's own words when the remote refuses (a hook, a protected branch, a race). */
  async push(commit: string, branch: string): Promise<void> {
    try {
      await this.run(['push', '-q', '--porcelain', 'origin', `${commit}:refs/heads/${branch}`], { remote: true });
    } catch (error) {
      if (error instanceof GitError) {
        const remote = error.stderr.split('\n').filter((l) => l.startsWith('remote:')).map((l) => l.slice(7).trim()).filter(Boolean);
        throw new GitError(`the remote rejected the push to "${branch}"${remote.length ? `: ${remote.join(' ')}` : `: ${error.message}`}`, error.stderr, error.args);
      }
      throw error;
    }
  }

  private async stage(n: 1 | 2 | 3, file: string): Promise<string | null> {
    const { stdout, code } = await this.run(['show', `:${n}:${file}`], { allowExit: [128] });
    return code === 0 ? stdout : null;
  }

  private async unionOfReferences(): Promise<string> {
    const sides = await Promise.all([this.stage(2, 'credentials.json'), this.stage(3, 'credentials.json')]);
    const merged: Record<string, unknown> = {};
    for (const side of sides) if (side) Object.assign(merged, safeJson(side) ?? {});
    const sorted = Object.fromEntries(Object.entries(merged).sort(([a], [b]) => a.localeCompare(b)));
    return `${JSON.stringify(sorted, null, 2)}\n`;
  }

  private async describe(file: string): Promise<FlowConflict> {
    const match = /^flows\/(.+)\.json$/.exec(file);
    if (!match) return { file, ours: null, theirs: null };
    const id = match[1]!;
    const [base, ours, theirs] = [await this.stage(1, file), await this.stage(2, file), await this.stage(3, file)];
    const flow = (text: string | null) => (text === null ? null : ((safeJson(text) as FlowDocument | null) ?? EMPTY_FLOW(id)));
    const origin = flow(base) ?? EMPTY_FLOW(id);
    const side = (text: string | null) => {
      const doc = flow(text);
      return doc ? diffFlows(origin, doc) : null;
    };
    return { file, flowId: id, ours: side(ours), theirs: side(theirs) };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
