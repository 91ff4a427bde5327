/**
 * Roles: what the runtime does with a node type beyond passing messages along its wires. The runtime and the editor
 * never recognise a node by its type name (`catch`, `inject`, `subflow-in`): a definition declares its role, so a
 * third-party pack can ship its own error handler or entry point with exactly the powers of the core ones.
 */

/** Which nodes of the flow a handler watches, read from one of the handler's own props. */
export interface RoleScope {
  /** The prop holding the ids of the watched nodes (an array). Default 'scope'. */
  prop?: string;
  /** When that prop is not an array (null, absent): watch every node of the flow ('all') or none ('none'). */
  whenUnset: 'all' | 'none';
  /** With an explicit list, nodes this handler's outputs are wired to are left out, so its own messages cannot loop back. */
  skipWiredTargets?: boolean;
  /**
   * A boolean prop that makes this handler take only what no other handler of the same role in scope takes
   * (Node-RED's catch "uncaught").
   */
  onlyUnhandledProp?: string;
}

export type NodeRole =
  /** Gets the message a node in scope failed on, with `msg.error` ({ message, source }); never its own failures. */
  | { kind: 'error-handler'; scope: RoleScope }
  /** A new run at this node for each status change of a node in scope, with `msg.status` ({ fill, shape, text, source }). */
  | { kind: 'status-handler'; scope: RoleScope }
  /** A copy of each message a node in scope finished handling, with `msg.complete.source`. */
  | { kind: 'completion-handler'; scope: RoleScope }
  /** Where a manual run starts when none is named (the first such node of the flow); the editor draws a run button on it. */
  | { kind: 'manual-entry' }
  /** Where a call of this flow from another flow (`services.callFlow`) enters when no entry node is named. */
  | { kind: 'subflow-entry' }
  /** Starts runs from HTTP requests: the editor shows its address and calls it with the method and path its props name. */
  | { kind: 'http-entry'; methodProp: string; pathProp: string }
  /** Answers the HTTP request whose reply handle the message carries (msg._replyTo), even from another run (Node-RED's msg.res). */
  | { kind: 'http-response' }
  /**
   * Shows messages in the editor's debug sidebar, switched on and off by the boolean prop `activeProp` (absent = on):
   * the editor draws an on/off toggle on the node that flips it (Node-RED's debug button).
   */
  | { kind: 'debug-output'; activeProp: string };

export type NodeRoleKind = NodeRole['kind'];

export const NODE_ROLE_KINDS: readonly NodeRoleKind[] = ['error-handler', 'status-handler', 'completion-handler', 'manual-entry', 'subflow-entry', 'http-entry', 'http-response', 'debug-output'];

/** Roles whose nodes the runtime starts from its own events (errors, statuses, completions, calls): never started by hand. */
export const EVENT_ROLE_KINDS: readonly NodeRoleKind[] = ['error-handler', 'status-handler', 'completion-handler', 'subflow-entry'];

type ScopedRole = Extract<NodeRole, { scope: RoleScope }>;

/** A handler as the runtime sees it: a node of the flow with its role, props and output wires. */
export interface RoleHandler {
  id: string;
  role: NodeRole | undefined;
  props: Record<string, unknown> | undefined;
  wires?: readonly (readonly string[])[];
}

/** Whether `handler` (a node with a scoped role) watches `nodeId`, by its role's scope rule. A handler never watches itself. */
export function watches(handler: RoleHandler, nodeId: string): boolean {
  const role = handler.role;
  if (!role || !('scope' in role) || handler.id === nodeId) return false;
  const rule = role.scope;
  const listed = (handler.props ?? {})[rule.prop ?? 'scope'];
  if (!Array.isArray(listed)) return rule.whenUnset === 'all';
  if (!listed.includes(nodeId)) return false;
  return !(rule.skipWiredTargets && (handler.wires ?? []).some((port) => port.includes(nodeId)));
}

/**
 * The handlers of role `kind` that get an event of `nodeId`: those watching it, and of those, the ones not marked
 * "only unhandled" when there are any (else the "only unhandled" ones).
 */
export function handlersFor<T extends RoleHandler>(kind: ScopedRole['kind'], candidates: readonly T[], nodeId: string): T[] {
  const inScope = candidates.filter((c) => c.role?.kind === kind && watches(c, nodeId));
  const onlyUnhandled = (c: T) => {
    const prop = (c.role as ScopedRole).scope.onlyUnhandledProp;
    return prop !== undefined && (c.props ?? {})[prop] === true;
  };
  const handling = inScope.filter((c) => !onlyUnhandled(c));
  return handling.length > 0 ? handling : inScope;
}

/**
 * Problems of a declared role (for the registry's load-time check); empty when it is well formed. With the node's
 * props schema, props the role names must be declared there with the right type.
 */
export function roleProblems(role: unknown, props?: { [keyword: string]: unknown }): string[] {
  if (role === undefined) return [];
  if (!role || typeof role !== 'object') return ['"role" must be an object with a "kind"'];
  const r = role as Record<string, unknown>;
  if (!NODE_ROLE_KINDS.includes(r.kind as NodeRoleKind)) return [`"role.kind" must be one of ${NODE_ROLE_KINDS.join(', ')}`];
  const problems: string[] = [];
  if (r.kind === 'error-handler' || r.kind === 'status-handler' || r.kind === 'completion-handler') {
    const scope = r.scope as Record<string, unknown> | undefined;
    if (!scope || typeof scope !== 'object') problems.push(`"role.scope" is required for a ${String(r.kind)}`);
    else {
      if (scope.whenUnset !== 'all' && scope.whenUnset !== 'none') problems.push('"role.scope.whenUnset" must be "all" or "none"');
      for (const key of ['prop', 'onlyUnhandledProp'] as const) if (scope[key] !== undefined && typeof scope[key] !== 'string') problems.push(`"role.scope.${key}" must be a string`);
    }
  }
  if (r.kind === 'http-entry' && (typeof r.methodProp !== 'string' || typeof r.pathProp !== 'string')) problems.push('"role.methodProp" and "role.pathProp" must name props');
  if (r.kind === 'debug-output') {
    if (typeof r.activeProp !== 'string') problems.push('"role.activeProp" must name the boolean prop that switches the output on and off');
    else if (props) {
      const declared = (props.properties as Record<string, { type?: unknown }> | undefined)?.[r.activeProp];
      if (declared?.type !== 'boolean') problems.push(`"role.activeProp" names "${r.activeProp}", which the props schema must declare with type "boolean"`);
    }
  }
  return problems;
}
