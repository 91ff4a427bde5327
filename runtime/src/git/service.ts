/**
 * Git-backed projects and environments, as an actor may use them. A project is linked to one branch of a repository:
 * that branch is the project's environment (dev, staging, prod ...), usually one Flowcrew instance per environment.
 * - push: the project's flows (and credential references) become one commit on the branch; refused when the remote
 *   moved since the last synchronisation (pull first), or when the remote rejects it.
 * - pull: the branch's commits are merged with local changes; conflicting flows are answered as flow diffs and
 *   nothing is stored; otherwise changed flows are imported in one transaction (deployed only when asked).
 * - promote: another environment's branch is merged into this one, pushed, and the changed flows deployed here.
 * Each environment's plain variables travel as `environments/<environment>.json` (secret ones by name only): a push
 * writes this environment's file, a pull or promote stores the file of this environment when it changed in Git
 * (before deploying, so the deployed flows read the new values) and redeploys what was deployed when only it changed.
 * Linking needs project:manage; push/pull flow:write; pull-with-deploy flow:deploy; promote flow:promote (instance
 * admins only: it deploys what another environment made). All audited, a failed promotion too.
 */
import path from 'node:path';
import { ProblemError, invalid } from '../errors.ts';
import type { FlowDocument } from '../flow/types.ts';
import type { AuditService } from '../services/audit.ts';
import type { FlowService } from '../services/flows.ts';
import type { ProjectService } from '../services/projects.ts';
import type { Actor } from '../identity/actor.ts';
import type { Runtime } from '../runtime.ts';
import type { GitLinkRecord } from '../storage/versions.ts';
import { flowContentHash } from '../versions/hash.ts';
import { GitError, type GitAuth } from './cli.ts';
import { bindCredentials, environmentPath, fromFiles, pretty, toFiles, type FileMap } from './files.ts';
import { parseEnvironmentFile, type VariableService } from '../variables/service.ts';
import { validateFlowAsync } from '../flow/validate.ts';
import { parseGitUrl } from './remote.ts';
import { GitWorkspace, type FlowConflict } from './workspace.ts';
import { OneAtATime } from '../one-at-a-time.ts';

export interface GitLinkInput {
  url: string;
  branch: string;
  environment?: string;
  credentialId?: string | null;
  knownHosts?: string | null;
  credentialBindings?: Record<string, string>;
}

export interface SyncResult {
  commit: string | null;
  /** Flows stored (pull/promote) or committed (push). */
  flows: string[];
  deleted: string[];
  deployed: string[];
  /** Variables of this environment stored from Git (pull, promote). */
  variables?: string[];
  /** Secret variables the environment file lists that this instance has not set: set them here. */
  missingSecrets?: string[];
}

const BRANCH = /^(?!.*\.\.)(?!\/)(?!.*\/$)[A-Za-z0-9._/-]{1,100}$/;

export class GitService {
  /** One Git operation per project at a time (they share the project's working clone). */
  private readonly busy = new OneAtATime();

  constructor(
    private readonly runtime: Runtime,
    private readonly flows: FlowService,
    private readonly projects: ProjectService,
    private readonly audit: AuditService,
    private readonly variables: VariableService,
  ) {}

  private get links() {
    return this.runtime.storage.versions.gitLinks;
  }

  async getLink(actor: Actor, projectId: string): Promise<GitLinkRecord> {
    await this.projects.requireWritable(actor, projectId, 'flow:read');
    const link = await this.links.get(projectId);
    if (!link) throw new ProblemError(404, 'Not linked', `project "${projectId}" is not linked to a Git repository`);
    return link;
  }

  async link(actor: Actor, projectId: string, input: GitLinkInput): Promise<GitLinkRecord> {
    await this.projects.requireWritable(actor, projectId, 'project:manage');
    if (!BRANCH.test(input.branch)) throw invalid('not a usable branch name', [{ pointer: '/branch', message: `"${input.branch}" is not a branch name (letters, digits, ".", "_", "-", "/")` }]);
    try {
      parseGitUrl(input.url);
    } catch (error) {
      throw invalid('not a usable Git URL', [{ pointer: '/url', message: (error as Error).message }]);
    }
    if (input.credentialId) await this.auth(projectId, input.credentialId);
    const old = await this.links.get(projectId);
    const now = Date.now();
    const same = old && old.url === input.url && old.branch === input.branch;
    const link: GitLinkRecord = {
      projectId,
      url: input.url,
      branch: input.branch,
      environment: input.environment ?? input.branch,
      credentialId: input.credentialId ?? null,
      knownHosts: input.knownHosts ?? null,
      variables: old?.variables ?? {},
      credentialBindings: input.credentialBindings ?? {},
      lastCommit: same ? old.lastCommit : null,
      createdAt: old?.createdAt ?? now,
      updatedAt: now,
    };
    await this.links.put(link);
    await this.audit.record(actor, 'git.link', { type: 'project', id: projectId }, projectId, { url: link.url, branch: link.branch, environment: link.environment });
    return link;
  }

  async unlink(actor: Actor, projectId: string): Promise<void> {
    await this.projects.requireWritable(actor, projectId, 'project:manage');
    if (!(await this.links.remove(projectId))) throw new ProblemError(404, 'Not linked', `project "${projectId}" is not linked to a Git repository`);
    await this.audit.record(actor, 'git.unlink', { type: 'project', id: projectId }, projectId);
  }

  /** Commit the project's flows to its branch and push. */
  push(actor: Actor, projectId: string, message?: string): Promise<SyncResult> {
    return this.exclusive(projectId, async () => {
      await this.projects.requireWritable(actor, projectId, 'flow:write');
      const { link, ws } = await this.open(projectId);
      const remote = await ws.remoteHead(link.branch);
      if (remote !== link.lastCommit) throw this.behind(link, remote);
      const flows = await this.localFlows(projectId);
      const files = await this.projectFiles(projectId, link, flows);
      const head = await ws.commit(remote, files, message ?? `Flowcrew: ${link.environment} from ${actor.name}`, actor.name);
      if (head !== remote) await ws.push(head, link.branch);
      await this.links.advance(projectId, link.lastCommit, head);
      const result = { commit: head, flows: head === remote ? [] : flows.map((f) => f.id), deleted: [], deployed: [] };
      await this.audit.record(actor, 'git.push', { type: 'project', id: projectId }, projectId, { branch: link.branch, commit: head, flows: result.flows.length });
      return result;
    });
  }

  /** Merge the branch's new commits with local changes and store the changed flows (deployed only with `deploy`). */
  pull(actor: Actor, projectId: string, options: { deploy?: boolean } = {}): Promise<SyncResult> {
    return this.exclusive(projectId, async () => {
      await this.projects.requireWritable(actor, projectId, options.deploy ? 'flow:deploy' : 'flow:write');
      const { link, ws } = await this.open(projectId);
      const theirs = await ws.remoteHead(link.branch);
      if (!theirs) throw new ProblemError(404, 'No such branch', `branch "${link.branch}" does not exist in ${link.url}; push to create it`);
      if (theirs === link.lastCommit) return { commit: theirs, flows: [], deleted: [], deployed: [] };
      const target = await this.mergeWithLocal(ws, link, projectId, theirs, actor, `Flowcrew: merge ${link.branch} into ${link.environment}`);
      const result = await this.apply(actor, projectId, link, target, link.lastCommit, ws, options.deploy === true);
      await this.links.advance(projectId, link.lastCommit, theirs);
      await this.audit.record(actor, 'git.pull', { type: 'project', id: projectId }, projectId, { branch: link.branch, commit: theirs, flows: result.flows, deployed: result.deployed });
      return { ...result, commit: theirs };
    });
  }

  /**
   * Promotion: merge branch `from` into this environment's branch, push it, and deploy the flows it changed. An admin
   * action (flow:promote, instance admins only), audited whether it succeeds or fails.
   */
  promote(actor: Actor, projectId: string, from: string): Promise<SyncResult> {
    return this.exclusive(projectId, async () => {
      await this.projects.requireWritable(actor, projectId, 'flow:promote');
      try {
        return await this.promoteAs(actor, projectId, from);
      } catch (error) {
        await this.audit.failed(actor, 'git.promote', { type: 'project', id: projectId }, projectId, { from, error: (error as Error).message });
        throw error;
      }
    });
  }

  private async promoteAs(actor: Actor, projectId: string, from: string): Promise<SyncResult> {
    const { link, ws } = await this.open(projectId);
    if (from === link.branch) throw invalid('nothing to promote', [{ pointer: '/from', message: `"${from}" is this environment's own branch` }]);
    const source = await ws.remoteHead(from);
    if (!source) throw new ProblemError(404, 'No such branch', `branch "${from}" does not exist in ${link.url}`);
    const current = await ws.remoteHead(link.branch);
    if (current !== link.lastCommit) throw this.behind(link, current);
    // Local edits not in Git would be silently mixed into the promotion: they must be pushed (or restored) first.
    if (await this.changedSince(projectId, link, current, ws)) throw new ProblemError(409, 'Local changes', `project "${projectId}" has changes that are not in branch "${link.branch}": push them or restore the flows first, then promote`);
    let merged: string;
    if (!current) merged = source;
    else {
      const result = await ws.merge(current, source, `Promote ${from} into ${link.branch}`, actor.name);
      if (!result.ok) throw conflict(`promoting "${from}" into "${link.branch}"`, result.conflicts);
      merged = result.head;
    }
    // Checked before anything leaves this instance: a flow that would not validate here is not pushed.
    const incoming = await this.incoming(projectId, link, await ws.files(merged));
    for (const flow of incoming.changed) {
      const check = await this.flows.validate(actor, flow);
      if (!check.valid) throw invalid(`flow "${flow.id}" from "${from}" is not valid in ${link.environment}; nothing was promoted`, check.issues);
    }
    if (merged !== current) await ws.push(merged, link.branch);
    const result = await this.apply(actor, projectId, link, merged, current, ws, true);
    await this.links.advance(projectId, link.lastCommit, merged);
    await this.audit.record(actor, 'git.promote', { type: 'project', id: projectId }, projectId, { from, to: link.branch, commit: merged, deployed: result.deployed });
    return { ...result, commit: merged };
  }

  // ---- steps ----

  private async open(projectId: string): Promise<{ link: GitLinkRecord; ws: GitWorkspace }> {
    const link = await this.links.get(projectId);
    if (!link) throw new ProblemError(409, 'Not linked', `project "${projectId}" is not linked to a Git repository: link it first`);
    const auth = link.credentialId ? await this.auth(projectId, link.credentialId) : ({ kind: 'none' } as const);
    const dir = path.join(this.root(), encodeURIComponent(projectId));
    const ws = new GitWorkspace(dir, link.url, { auth, knownHosts: link.knownHosts, knownHostsFile: path.join(dir, '.known_hosts'), caFile: this.runtime.config.gitCaFile ?? null });
    const remote = parseGitUrl(link.url);
    try {
      await this.runtime.executor.runtimeServices().outbound.check(remote.host, remote.port);
    } catch (error) {
      throw new ProblemError(422, 'Outbound refused', `the Git remote ${remote.host}:${remote.port} may not be reached from here: ${(error as Error).message}`);
    }
    try {
      await ws.fetch();
    } catch (error) {
      throw gitProblem(error, `cannot reach ${link.url}`);
    }
    return { link, ws };
  }

  /** Merge `theirs` with the project's local changes since the last synchronisation; conflicts become a 409. */
  private async mergeWithLocal(ws: GitWorkspace, link: GitLinkRecord, projectId: string, theirs: string, actor: Actor, message: string): Promise<string> {
    if (!(await this.changedSince(projectId, link, link.lastCommit, ws))) return theirs; // nothing local: take theirs as it is
    const files = await this.projectFiles(projectId, link, await this.localFlows(projectId));
    const ours = await ws.commit(link.lastCommit, files, 'local changes', actor.name);
    const merged = await ws.merge(ours, theirs, message, actor.name);
    if (!merged.ok) throw conflict(`pulling "${link.branch}"`, merged.conflicts);
    return merged.head;
  }

  /**
   * Does the database differ from `commit` in content (not in formatting: a file rewritten by hand with other key
   * order or spacing is the same flow)? A flow added or deleted locally is a change.
   */
  private async changedSince(projectId: string, link: GitLinkRecord, commit: string | null, ws: GitWorkspace): Promise<boolean> {
    const local = await this.localFlows(projectId);
    if (!commit) return local.length > 0 || (await this.variablesDiffer(projectId, link, new Map()));
    const files = await ws.files(commit);
    const { changed, all } = await this.incoming(projectId, link, files);
    const inGit = new Set(all.map((f) => f.id));
    return changed.length > 0 || local.some((f) => !inGit.has(f.id)) || (await this.variablesDiffer(projectId, link, files));
  }

  /** The files a commit of this project holds: flows, credential references and this environment's variables. */
  private async projectFiles(projectId: string, link: GitLinkRecord, flows: FlowDocument[]): Promise<FileMap> {
    const files = toFiles(flows, await this.credentials(projectId));
    const env = await this.variables.environmentFile(projectId);
    if (Object.keys(env.variables).length > 0 || env.secrets.length > 0) files.set(environmentPath(link.environment), pretty(env));
    return files;
  }

  /**
   * Do this instance's variables differ from the environment file of a commit? Plain values compared as content; a
   * secret set here but not listed there is a change, a secret listed there but not set here is not (it is reported
   * as missing by the pull, not merged).
   */
  private async variablesDiffer(projectId: string, link: GitLinkRecord, files: FileMap): Promise<boolean> {
    const text = files.get(environmentPath(link.environment));
    const local = await this.variables.environmentFile(projectId);
    const inGit = text === undefined ? { variables: {}, secrets: [] } : this.environmentFile(link, text);
    return pretty(local.variables) !== pretty(inGit.variables) || local.secrets.some((name) => !inGit.secrets.includes(name));
  }

  private environmentFile(link: GitLinkRecord, text: string) {
    try {
      return parseEnvironmentFile(environmentPath(link.environment), text);
    } catch (error) {
      throw new ProblemError(422, 'Invalid repository content', (error as Error).message);
    }
  }

  /** Flows of `commit` that differ from the database, bound to this project's credentials. */
  private async incoming(projectId: string, link: GitLinkRecord, files: Map<string, string>): Promise<{ changed: FlowDocument[]; all: FlowDocument[] }> {
    let parsed;
    try {
      parsed = fromFiles(files);
    } catch (error) {
      throw new ProblemError(422, 'Invalid repository content', (error as Error).message);
    }
    let bound: FlowDocument[];
    try {
      bound = bindCredentials(parsed.flows, parsed.credentials, await this.credentials(projectId), link.credentialBindings);
    } catch (error) {
      throw new ProblemError(422, 'Unbound credentials', `${(error as Error).message}; bind them in the project's Git settings (credentialBindings)`);
    }
    const changed: FlowDocument[] = [];
    for (const flow of bound) {
      const stored = await this.runtime.storage.getFlow(flow.id);
      if (stored && stored.projectId !== projectId) throw new ProblemError(409, 'Flow exists', `flow "${flow.id}" from the repository belongs to another project on this instance`);
      if (!stored || flowContentHash(stored.flow) !== flowContentHash(flow)) changed.push(flow);
    }
    return { changed, all: bound };
  }

  /** Store the flows of `commit` that changed (one transaction), delete the ones removed since `base`, deploy if asked. */
  private async apply(actor: Actor, projectId: string, link: GitLinkRecord, commit: string, base: string | null, ws: GitWorkspace, deploy: boolean): Promise<SyncResult> {
    const files = await ws.files(commit);
    const { changed, all } = await this.incoming(projectId, link, files);
    // This environment's variables first, so that the flows deployed below read them.
    const envPath = environmentPath(link.environment);
    const envText = files.get(envPath);
    let variables: { changed: string[]; missingSecrets: string[] } = { changed: [], missingSecrets: [] };
    if (envText !== undefined && (!base || (await ws.files(base)).get(envPath) !== envText)) {
      variables = await this.variables.applyEnvironmentFile(actor, projectId, this.environmentFile(link, envText));
    }
    if (changed.length > 0) await this.flows.import(actor, changed, { replace: true, projectId, deploy });
    const redeployed = deploy && variables.changed.length > 0 ? await this.redeployWithVariables(projectId, new Set(changed.map((f) => f.id))) : [];
    const deleted: string[] = [];
    if (base) {
      const present = new Set(all.map((f) => f.id));
      const before = fromFiles(await ws.files(base)).flows.map((f) => f.id);
      for (const id of before) {
        if (present.has(id) || !(await this.runtime.storage.getFlow(id))) continue;
        await this.flows.delete(actor, id);
        deleted.push(id);
      }
    }
    const deployed = deploy ? [...changed.map((f) => f.id), ...redeployed] : [];
    return { commit, flows: changed.map((f) => f.id), deleted, deployed, variables: variables.changed, missingSecrets: variables.missingSecrets };
  }

  /**
   * Deployed flows of the project that the merge did not change are deployed again, as they are (their deployed
   * document, not unsaved edits), so they read the new variables.
   */
  private async redeployWithVariables(projectId: string, skip: Set<string>): Promise<string[]> {
    const done: string[] = [];
    for (const stored of await this.runtime.storage.listFlows()) {
      if (stored.projectId !== projectId || skip.has(stored.flow.id) || !stored.deployedFlow) continue;
      const { valid, issues, flow } = await validateFlowAsync(stored.deployedFlow, this.runtime.registry, { maxDepth: this.runtime.config.maxDepth });
      if (!valid) throw new ProblemError(422, 'Invalid flow', `deployed flow "${stored.flow.id}" could not be deployed again with the new variables: ${issues.map((i) => `${i.pointer}: ${i.message}`).join('; ')}`);
      await this.runtime.executor.deploy(flow);
      done.push(stored.flow.id);
    }
    return done;
  }

  private async localFlows(projectId: string): Promise<FlowDocument[]> {
    return (await this.runtime.storage.listFlows()).filter((s) => s.projectId === projectId).map((s) => s.flow);
  }

  private async credentials(projectId: string) {
    return (await this.runtime.vault.list()).filter((c) => c.projectId === projectId);
  }

  /** The link's credential: a git-ssh { privateKey } or git-token { token, username? } credential of the project. */
  private async auth(projectId: string, credentialId: string): Promise<GitAuth> {
    const record = await this.runtime.storage.getCredential(credentialId);
    if (!record || (record.projectId ?? 'default') !== projectId) throw invalid('unknown credential', [{ pointer: '/credentialId', message: `credential "${credentialId}" does not exist in project "${projectId}"` }]);
    const fields = (await this.runtime.vault.resolve(credentialId)) ?? {};
    if (record.type === 'git-ssh' && typeof fields.privateKey === 'string') return { kind: 'ssh', privateKey: fields.privateKey };
    if (record.type === 'git-token' && typeof fields.token === 'string') return { kind: 'token', token: fields.token, username: typeof fields.username === 'string' ? fields.username : undefined };
    throw invalid('not a Git credential', [{ pointer: '/credentialId', message: `credential "${credentialId}" must be of type git-ssh (field privateKey) or git-token (fields token, username)` }]);
  }

  private behind(link: GitLinkRecord, remote: string | null): ProblemError {
    return new ProblemError(409, 'Pull first', `branch "${link.branch}" ${remote ? `is at ${remote.slice(0, 10)}` : 'was deleted on the remote'}, but this project last synchronised with ${link.lastCommit ? link.lastCommit.slice(0, 10) : 'nothing'}: pull first`, [], { remote, lastCommit: link.lastCommit });
  }

  private root(): string {
    return path.join(this.runtime.config.dataDir === ':memory:' ? path.join(process.cwd(), '.cache') : this.runtime.config.dataDir, 'git');
  }

  private exclusive<T>(projectId: string, work: () => Promise<T>): Promise<T> {
    return this.busy.run(projectId, work).catch((error: unknown) => {
      throw error instanceof GitError ? gitProblem(error, 'git failed') : error;
    });
  }
}

function conflict(what: string, conflicts: FlowConflict[]): ProblemError {
  const names = conflicts.map((c) => (c.flowId ? `flow "${c.flowId}"` : c.file)).join(', ');
  return new ProblemError(409, 'Merge conflict', `${what} conflicts in ${names}: nothing was stored or deployed. Change the flow on one side and retry.`, [], { conflicts });
}

function gitProblem(error: unknown, context: string): unknown {
  if (!(error instanceof GitError)) return error;
  const auth = /Permission denied|Authentication failed|Host key verification failed|could not read Username/i.test(error.stderr);
  const rejected = /rejected the push/.test(error.message);
  const status = rejected ? 409 : 502;
  const title = rejected ? 'Push rejected' : auth ? 'Git authentication failed' : 'Git failed';
  const hint = auth ? ' (check the credential and known hosts of the project\'s Git link)' : '';
  return new ProblemError(status, title, `${rejected ? error.message : `${context}: ${error.message}`}${hint}`);
}
