/**
 * A project as readable files in its Git repository:
 *   flowcrew.json       what this repository is (format marker)
 *   flows/<id>.json     one flow per file, keys sorted and indented so a Git diff shows exactly what changed
 *   credentials.json    credential REFERENCES the flows use: { "<ref>": { "type": ... } }; never a secret, never an id
 *   environments/<environment>.json   that environment's plain variables and its secret variables' NAMES
 * Nodes name their credential by reference (the credential's name on the instance that pushed). On pull each
 * reference is bound to a credential of the project: the environment's explicit binding, else one with that name and
 * type. Instance-local fields (version, format) are left out: they are not part of what a flow does.
 */
import { configure } from 'safe-stable-stringify';
import type { CredentialSummary } from '../credentials.ts';
import type { FlowDocument } from '../flow/types.ts';

export const PROJECT_FORMAT = 'flowcrew/project@1';
const stringify = configure({ deterministic: true, circularValue: Error });
const SAFE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export type FileMap = Map<string, string>;

export interface CredentialRef {
  type: string;
}

export function pretty(value: unknown): string {
  return `${stringify(value, null, 2)}\n`;
}

/** Path of an environment's variables file (plain values, and the names of its secret ones). */
export function environmentPath(environment: string): string {
  return `environments/${environment}.json`;
}

/** Path of a flow's file; refuses ids that are not safe as a file name (no '/', no '..'). */
export function flowPath(id: string): string {
  if (!SAFE_ID.test(id) || id.includes('..')) {
    throw new Error(`flow id "${id}" cannot be a file name in the repository (letters, digits, '.', '_' and '-' only, not '..')`);
  }
  return `flows/${id}.json`;
}

/** The files for these flows, with credential ids replaced by references. */
export function toFiles(flows: readonly FlowDocument[], credentials: readonly CredentialSummary[]): FileMap {
  const byId = new Map(credentials.map((c) => [c.id, c]));
  const refs: Record<string, CredentialRef> = {};
  const files: FileMap = new Map([['flowcrew.json', pretty({ format: PROJECT_FORMAT })]]);
  for (const flow of flows) {
    const { version: _v, format: _f, ...content } = flow;
    const nodes = flow.nodes.map((node) => {
      if (node.credentials === undefined) return node;
      const credential = byId.get(node.credentials);
      if (!credential) throw new Error(`flow "${flow.id}" node "${node.id}" uses credential "${node.credentials}", which does not exist in the project`);
      refs[credential.name] = { type: credential.type };
      return { ...node, credentials: credential.name };
    });
    files.set(flowPath(flow.id), pretty({ ...content, nodes }));
  }
  files.set('credentials.json', pretty(refs));
  return files;
}

export interface ParsedProject {
  flows: FlowDocument[];
  credentials: Record<string, CredentialRef>;
}

/** Parse the repository's files; every problem names its file. */
export function fromFiles(files: FileMap): ParsedProject {
  const flows: FlowDocument[] = [];
  const credentials = files.has('credentials.json') ? (parse('credentials.json', files.get('credentials.json')!) as Record<string, CredentialRef>) : {};
  for (const [file, text] of files) {
    const match = /^flows\/(.+)\.json$/.exec(file);
    if (!match) continue;
    const doc = parse(file, text) as FlowDocument;
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`${file}: expected a flow object`);
    if (doc.id !== match[1]) throw new Error(`${file}: the flow id "${String(doc.id)}" differs from the file name`);
    flows.push({ ...doc, version: 0 });
  }
  return { flows, credentials };
}

/**
 * Replace credential references by credential ids of the project. Unbound references are all reported at once,
 * with the flow and node that use them.
 */
export function bindCredentials(flows: FlowDocument[], refs: Record<string, CredentialRef>, project: readonly CredentialSummary[], bindings: Record<string, string>): FlowDocument[] {
  const problems: string[] = [];
  const bound = flows.map((flow) => ({
    ...flow,
    nodes: flow.nodes.map((node) => {
      if (node.credentials === undefined) return node;
      const ref = node.credentials;
      const type = refs[ref]?.type;
      const explicit = bindings[ref] !== undefined ? project.find((c) => c.id === bindings[ref]) : undefined;
      const found = explicit ?? project.find((c) => c.name === ref && (type === undefined || c.type === type));
      if (!found) {
        problems.push(
          bindings[ref] !== undefined
            ? `flow "${flow.id}" node "${node.id}": credential reference "${ref}" is bound to "${bindings[ref]}", which is not a credential of this project`
            : `flow "${flow.id}" node "${node.id}": credential reference "${ref}"${type ? ` (type ${type})` : ''} has no binding and no credential of that name in this project`,
        );
        return node;
      }
      return { ...node, credentials: found.id };
    }),
  }));
  if (problems.length > 0) throw new Error(`unbound credential references: ${problems.join('; ')}`);
  return bound;
}

function parse(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not valid JSON: ${(error as Error).message}`);
  }
}
