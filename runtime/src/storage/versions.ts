/**
 * Flow version history (migration 9): every saved revision of a flow in `flow_versions`, every deploy and undeploy in
 * `flow_deployments`. The rows are written by the flow writes themselves (sql-storage.ts pushes the statements built
 * here into the same transaction as the save or deploy), so a committed revision always has its history row and a
 * crash cannot lose one. Who saved or deployed is filled in by the service that knows the actor, right after.
 *
 * `flows.content_hash` (versions/hash.ts) lets a save of an unchanged document be recognised inside the UPDATE's
 * WHERE clause: it changes nothing and creates no version.
 */
import { randomUUID } from 'node:crypto';
import type { FlowDocument } from '../flow/types.ts';
import { num, numOrNull, strOrNull } from './row-values.ts';
import type { Row, SqlDialect, SqlDriver, SqlStatement, SqlWriter } from './sql-storage.ts';

export interface FlowVersionRecord {
  flowId: string;
  version: number;
  name: string;
  createdAt: number;
  /** Actor name of whoever saved it; null for revisions saved before migration 9 or by the runtime itself. */
  createdBy: string | null;
  /** Why the revision exists beyond a save: "restored from version 3", "git pull abc1234", ... */
  note: string | null;
  contentHash: string | null;
}

export interface FlowDeploymentRecord {
  id: string;
  flowId: string;
  /** The deployed revision; null = undeployed. */
  version: number | null;
  deployedAt: number;
  deployedBy: string | null;
}

export function versionsMigration(dialect: SqlDialect): string[] {
  const add = dialect === 'postgres' ? 'ADD COLUMN IF NOT EXISTS' : 'ADD COLUMN';
  return [
    `ALTER TABLE flows ${add} content_hash TEXT`,
    `CREATE TABLE IF NOT EXISTS flow_versions (
      flow_id TEXT NOT NULL,
      version BIGINT NOT NULL,
      name TEXT NOT NULL,
      document TEXT NOT NULL,
      content_hash TEXT,
      created_at BIGINT NOT NULL,
      created_by TEXT,
      note TEXT,
      PRIMARY KEY (flow_id, version)
    )`,
    // History starts with what exists: the current revision and, when different, the deployed one.
    `INSERT INTO flow_versions (flow_id, version, name, document, created_at)
       SELECT id, version, name, document, updated_at FROM flows WHERE true ON CONFLICT DO NOTHING`,
    `INSERT INTO flow_versions (flow_id, version, name, document, created_at)
       SELECT id, deployed_version, name, deployed_document, updated_at FROM flows
       WHERE deployed_document IS NOT NULL AND deployed_version <> version ON CONFLICT DO NOTHING`,
    `CREATE TABLE IF NOT EXISTS flow_deployments (
      id TEXT PRIMARY KEY,
      flow_id TEXT NOT NULL,
      version BIGINT,
      deployed_at BIGINT NOT NULL,
      deployed_by TEXT
    )`,
    'CREATE INDEX IF NOT EXISTS flow_deployments_flow ON flow_deployments (flow_id, deployed_at)',
    `INSERT INTO flow_deployments (id, flow_id, version, deployed_at)
       SELECT 'migrated:' || id, id, deployed_version, updated_at FROM flows WHERE deployed_version IS NOT NULL ON CONFLICT DO NOTHING`,
    // Git links (runtime/src/git): one per project; credentials are vault ids, never secrets.
    `CREATE TABLE IF NOT EXISTS git_links (
      project_id TEXT PRIMARY KEY,
      url TEXT NOT NULL,
      branch TEXT NOT NULL,
      environment TEXT NOT NULL,
      credential_id TEXT,
      known_hosts TEXT,
      variables TEXT NOT NULL,
      credential_bindings TEXT NOT NULL,
      last_commit TEXT,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL
    )`,
  ];
}

/**
 * A deploy's time: now, or 1 ms after the flow's last deploy when that is not earlier — two deploys in the same
 * millisecond (a deploy then an undeploy) must still list newest first; a random id cannot break that tie.
 */
const LAST_DEPLOY = '(SELECT MAX(d.deployed_at) FROM flow_deployments d WHERE d.flow_id = f.id)';
const AFTER_LAST_DEPLOY = `CASE WHEN COALESCE(${LAST_DEPLOY}, 0) >= ? THEN ${LAST_DEPLOY} + 1 ELSE ? END`;

/** Statements sql-storage.ts adds to a flow's save, deploy or delete transaction. */
export const VersionStatements = {
  /** Record the flow's current revision (after the save statement ran); a no-op when it is already recorded. */
  capture(flowId: string): SqlStatement {
    return {
      sql: `INSERT INTO flow_versions (flow_id, version, name, document, content_hash, created_at)
              SELECT id, version, name, document, content_hash, updated_at FROM flows WHERE id = ?
            ON CONFLICT (flow_id, version) DO NOTHING`,
      params: [flowId],
    };
  },
  /**
   * Record a deploy of revision `version` (only if it is still the current one, as the deploy's own UPDATE checks),
   * of whatever is current ('current', an import's deploy), or an undeploy (null).
   */
  deployed(flowId: string, version: number | 'current' | null, now = Date.now()): SqlStatement {
    const revision = version === null ? 'NULL' : 'f.version';
    const sql = `INSERT INTO flow_deployments (id, flow_id, version, deployed_at) SELECT ?, f.id, ${revision}, ${AFTER_LAST_DEPLOY} FROM flows f WHERE f.id = ?`;
    const params = [randomUUID(), now, now, flowId];
    return typeof version === 'number' ? { sql: `${sql} AND f.version = ?`, params: [...params, version] } : { sql, params };
  },
  /** A deleted flow's history goes with it (a new flow may later take the same id and start again at version 1). */
  forget(flowId: string): SqlStatement[] {
    return [
      { sql: 'DELETE FROM flow_versions WHERE flow_id = ?', params: [flowId] },
      { sql: 'DELETE FROM flow_deployments WHERE flow_id = ?', params: [flowId] },
    ];
  },
};

export class FlowVersionStore {
  /** Git links of projects (runtime/src/git), in this module because migration 9 made both tables. */
  readonly gitLinks: GitLinkStore;

  constructor(
    private readonly driver: SqlDriver,
    private readonly write: SqlWriter,
  ) {
    this.gitLinks = new GitLinkStore(driver, write);
  }

  /** Newest first. */
  async list(flowId: string, options: { limit?: number; before?: number } = {}): Promise<FlowVersionRecord[]> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const rows = await this.driver.all(
      `SELECT flow_id, version, name, content_hash, created_at, created_by, note FROM flow_versions
       WHERE flow_id = ? AND version < ? ORDER BY version DESC LIMIT ${limit}`,
      [flowId, options.before ?? Number.MAX_SAFE_INTEGER],
    );
    return rows.map(toVersion);
  }

  async get(flowId: string, version: number): Promise<{ record: FlowVersionRecord; document: FlowDocument } | null> {
    const row = await this.driver.get('SELECT * FROM flow_versions WHERE flow_id = ? AND version = ?', [flowId, version]);
    if (!row) return null;
    const document = JSON.parse(String(row.document)) as FlowDocument;
    document.id = flowId;
    document.version = version;
    return { record: toVersion(row), document };
  }

  /** Name who saved a revision and optionally why (each only when not named yet: the first writer wins). */
  attribute(flowId: string, version: number, by: string, note?: string): Promise<void> {
    return this.write(
      [
        {
          sql: 'UPDATE flow_versions SET created_by = COALESCE(created_by, ?), note = COALESCE(note, ?) WHERE flow_id = ? AND version = ?',
          params: [by, note ?? null, flowId, version],
        },
      ],
      () => undefined,
    );
  }

  /** Name who made the flow's latest unattributed deploy (or undeploy) of `version`. */
  attributeDeploy(flowId: string, version: number | null, by: string): Promise<void> {
    const same = version === null ? 'version IS NULL' : 'version = ?';
    const params = version === null ? [flowId] : [flowId, version];
    return this.write(
      [
        {
          sql: `UPDATE flow_deployments SET deployed_by = ? WHERE id = (
                  SELECT id FROM flow_deployments WHERE flow_id = ? AND ${same} AND deployed_by IS NULL ORDER BY deployed_at DESC LIMIT 1)`,
          params: [by, ...params],
        },
      ],
      () => undefined,
    );
  }

  /** Newest first. */
  async deployments(flowId: string, limit = 50): Promise<FlowDeploymentRecord[]> {
    const rows = await this.driver.all(
      `SELECT * FROM flow_deployments WHERE flow_id = ? ORDER BY deployed_at DESC, id LIMIT ${Math.min(Math.max(limit, 1), 1000)}`,
      [flowId],
    );
    return rows.map((r) => ({
      id: String(r.id),
      flowId: String(r.flow_id),
      version: numOrNull(r.version),
      deployedAt: num(r.deployed_at),
      deployedBy: strOrNull(r.deployed_by),
    }));
  }
}

function toVersion(row: Row): FlowVersionRecord {
  return {
    flowId: String(row.flow_id),
    version: num(row.version),
    name: String(row.name),
    createdAt: num(row.created_at),
    createdBy: strOrNull(row.created_by),
    note: strOrNull(row.note),
    contentHash: strOrNull(row.content_hash),
  };
}

/** A project's link to a Git repository branch (its environment). Secrets stay in the vault: only the credential id. */
export interface GitLinkRecord {
  projectId: string;
  /** ssh://user@host:port/path.git, user@host:path.git or https://... */
  url: string;
  branch: string;
  /** The environment this instance's project is (dev, staging, prod...), named in commits and the editor. */
  environment: string;
  /** Vault credential: type git-ssh { privateKey } or git-token { username?, token }; null = anonymous. */
  credentialId: string | null;
  /** known_hosts lines for SSH; null = trust on first use (the host key is remembered in the clone's own file). */
  knownHosts: string | null;
  /** Per-environment values, for the flows' env settings. */
  variables: Record<string, string>;
  /** Credential reference in the repository -> credential id on this instance. */
  credentialBindings: Record<string, string>;
  /** The remote commit this project last synchronised with (pull, push or promote). */
  lastCommit: string | null;
  createdAt: number;
  updatedAt: number;
}

export class GitLinkStore {
  constructor(
    private readonly driver: SqlDriver,
    private readonly write: SqlWriter,
  ) {}

  async get(projectId: string): Promise<GitLinkRecord | null> {
    const row = await this.driver.get('SELECT * FROM git_links WHERE project_id = ?', [projectId]);
    return row ? toLink(row) : null;
  }

  put(link: GitLinkRecord): Promise<void> {
    return this.write(
      [
        {
          sql: `INSERT INTO git_links (project_id, url, branch, environment, credential_id, known_hosts, variables, credential_bindings, last_commit, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (project_id) DO UPDATE SET url = excluded.url, branch = excluded.branch, environment = excluded.environment,
                  credential_id = excluded.credential_id, known_hosts = excluded.known_hosts, variables = excluded.variables,
                  credential_bindings = excluded.credential_bindings, last_commit = excluded.last_commit, updated_at = excluded.updated_at`,
          params: [
            link.projectId,
            link.url,
            link.branch,
            link.environment,
            link.credentialId,
            link.knownHosts,
            JSON.stringify(link.variables),
            JSON.stringify(link.credentialBindings),
            link.lastCommit,
            link.createdAt,
            link.updatedAt,
          ],
        },
      ],
      () => undefined,
    );
  }

  /** Record the synchronised remote commit, only if nobody else moved it meanwhile; false when they did. */
  advance(projectId: string, from: string | null, to: string): Promise<boolean> {
    const same = from === null ? 'last_commit IS NULL' : 'last_commit = ?';
    return this.write(
      [{ sql: `UPDATE git_links SET last_commit = ?, updated_at = ? WHERE project_id = ? AND ${same}`, params: [to, Date.now(), projectId, ...(from === null ? [] : [from])] }],
      ([r]) => r!.changes > 0,
    );
  }

  remove(projectId: string): Promise<boolean> {
    return this.write([{ sql: 'DELETE FROM git_links WHERE project_id = ?', params: [projectId] }], ([r]) => r!.changes > 0);
  }
}

function toLink(row: Row): GitLinkRecord {
  return {
    projectId: String(row.project_id),
    url: String(row.url),
    branch: String(row.branch),
    environment: String(row.environment),
    credentialId: strOrNull(row.credential_id),
    knownHosts: strOrNull(row.known_hosts),
    variables: JSON.parse(String(row.variables)) as Record<string, string>,
    credentialBindings: JSON.parse(String(row.credential_bindings)) as Record<string, string>,
    lastCommit: strOrNull(row.last_commit),
    createdAt: num(row.created_at),
    updatedAt: num(row.updated_at),
  };
}
