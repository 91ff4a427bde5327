/** What the runtime's version routes answer (runtime/src/versions/service.ts, versions/diff.ts). */
export interface VersionInfo {
  version: number;
  name: string;
  createdAt: number;
  createdBy: string | null;
  note: string | null;
  current: boolean;
  deployed: boolean;
}

export interface VersionList {
  flowId: string;
  current: number;
  deployed: { version: number; by: string | null; at: number } | null;
  versions: VersionInfo[];
}

export interface FieldChange {
  path: string;
  before?: unknown;
  after?: unknown;
}

export interface FlowDiff {
  flow: FieldChange[];
  added: Array<{ id: string; type: string; name?: string }>;
  /** The removed nodes as they were (position included: the canvas draws them there). */
  removed: Array<{ id: string; type: string; name?: string; position?: { x: number; y: number } }>;
  changed: Array<{ id: string; type: string; name?: string; changes: FieldChange[] }>;
  moved: string[];
  wires: { added: Array<{ from: string; port: number; to: string }>; removed: Array<{ from: string; port: number; to: string }> };
  same: boolean;
}

export interface VersionDiff {
  flowId: string;
  from: number;
  to: number;
  diff: FlowDiff;
}

/** A project's Git link (runtime/src/storage/versions.ts GitLinkRecord; the credential is an id, never a secret). */
export interface GitLink {
  projectId: string;
  url: string;
  branch: string;
  environment: string;
  credentialId: string | null;
  knownHosts: string | null;
  credentialBindings: Record<string, string>;
  lastCommit: string | null;
  updatedAt: number;
}

export interface GitSyncResult {
  commit: string | null;
  flows: string[];
  deleted: string[];
  deployed: string[];
  /** Variables of this environment stored from Git (pull, promote). */
  variables?: string[];
  /** Secret variables the environment file lists that this instance has not set. */
  missingSecrets?: string[];
}

/** A project's environment variable on this instance (runtime/src/variables/service.ts VariableView). */
export type { VariableView as ProjectVariable } from '../../../../runtime/src/variables/service.ts';

/** One conflicting file of a pull or promotion: what each side changed since their common version. */
export interface GitConflict {
  file: string;
  flowId?: string;
  ours: FlowDiff | null;
  theirs: FlowDiff | null;
}
