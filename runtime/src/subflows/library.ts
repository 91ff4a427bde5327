/**
 * The sub-flow library at run time: each library sub-flow is a node type `subflow:<id>` in the registry (the palette
 * hears "node types changed" when one is published), and each published version is deployed as a hidden flow that the
 * node calls through the same callFlow as subflow-call. A use pins `props.version`; upgrading is an explicit edit.
 * The node checks the message in against the version's input schema and the answer against its output schema.
 */
import type { FlowMessage, Logger, NodeDefinition } from '@flowcrew/sdk';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import type { Executor } from '../executor/executor.ts';
import type { FlowDocument } from '../flow/types.ts';
import { ajvIssues, validateFlowAsync } from '../flow/validate.ts';
import { createUserSchemaValidator } from '../flowtest/user-schemas.ts';
import type { NodeRegistry } from '../registry/registry.ts';
import { CALLEE_ENV, callerOfEnv, instanceEnv, storedCaller, type CalleeEnv } from './caller-env.ts';
import { hiddenFlow, hiddenFlowId, nodeTypeOf, subflowIdOfType, type SubflowDefinition } from './definition.ts';
import { SubflowStore, type SubflowVersion } from './store.ts';

export const SUBFLOW_PACK = 'flowcrew-subflows';
const ajv = createUserSchemaValidator();

export class SubflowLibrary {
  /** Versions by sub-flow id, oldest first. */
  private readonly byId = new Map<string, SubflowVersion[]>();
  /** Told each version added here (packs/library-sync.ts announces them to the other processes). */
  private readonly addedListeners = new Set<(v: SubflowVersion) => void>();

  constructor(
    readonly store: SubflowStore,
    private readonly registry: NodeRegistry,
    private readonly executor: Executor,
    private readonly log: Logger,
  ) {}

  /** Load every stored version: register the node types and deploy the hidden flows (a broken one is logged, not fatal). */
  async load(): Promise<void> {
    for (const v of await this.store.all()) this.remember(v);
    for (const [id, versions] of this.byId) {
      this.registerType(id);
      for (const v of versions) await this.deployVersion(v.definition).catch((error: unknown) => this.log.error(`sub-flow "${id}" v${v.definition.version} could not be deployed: ${(error as Error).message}`));
    }
  }

  list(): Array<{ id: string; latest: SubflowVersion; versions: number[] }> {
    return [...this.byId.entries()].map(([id, versions]) => ({ id, latest: versions.at(-1)!, versions: versions.map((v) => v.definition.version) }));
  }

  versions(id: string): SubflowVersion[] | undefined {
    return this.byId.get(id);
  }

  version(id: string, version: number): SubflowVersion | undefined {
    return this.byId.get(id)?.find((v) => v.definition.version === version);
  }

  /** A newly stored version: deploy it, then (re)register the node type so the palette offers it. */
  async added(v: SubflowVersion): Promise<void> {
    await this.deployVersion(v.definition);
    const isNew = !this.byId.has(v.definition.id);
    this.remember(v);
    this.registerType(v.definition.id);
    const type = nodeTypeOf(v.definition.id);
    this.registry.emit('change', { action: isNew ? 'loaded' : 'reloaded', pack: SUBFLOW_PACK, added: isNew ? [type] : [], removed: [] });
    for (const listener of this.addedListeners) listener(v);
  }

  onAdded(listener: (v: SubflowVersion) => void): () => void {
    this.addedListeners.add(listener);
    return () => this.addedListeners.delete(listener);
  }

  /** Take on the versions of `id` another process stored (shared database) that this one does not have yet. */
  async refresh(id: string): Promise<number> {
    let added = 0;
    for (const v of await this.store.versions(id)) {
      if (this.version(id, v.definition.version)) continue;
      await this.added(v);
      added++;
    }
    return added;
  }

  /** The definitions `flow` uses (the pinned versions of its library sub-flows, and theirs): what an export carries. */
  definitionsFor(flow: Pick<FlowDocument, 'nodes'>): SubflowDefinition[] {
    const found = new Map<string, SubflowDefinition>();
    const visit = (nodes: FlowDocument['nodes']) => {
      for (const node of nodes) {
        const id = subflowIdOfType(node.type);
        const v = id && this.version(id, Number(node.props?.version));
        if (!v || found.has(hiddenFlowId(id, v.definition.version))) continue;
        found.set(hiddenFlowId(id, v.definition.version), v.definition);
        visit(v.definition.nodes);
      }
    };
    visit(flow.nodes);
    return [...found.values()];
  }

  /** The hidden flows `flow` needs, for test sandboxes. */
  hiddenFlowsFor(flow: Pick<FlowDocument, 'nodes'>): FlowDocument[] {
    return this.definitionsFor(flow).map(hiddenFlow);
  }

  private remember(v: SubflowVersion): void {
    const list = this.byId.get(v.definition.id) ?? [];
    list.push(v);
    list.sort((a, b) => a.definition.version - b.definition.version);
    this.byId.set(v.definition.id, list);
  }

  private async deployVersion(definition: SubflowDefinition): Promise<void> {
    const { valid, issues, flow } = await validateFlowAsync(hiddenFlow(definition), this.registry);
    if (!valid) throw new Error(issues.map((i) => `${i.pointer}: ${i.message}`).join('; '));
    await this.executor.deploy(flow);
  }

  private registerType(id: string): void {
    this.registry.register([subflowNodeType(id, this.byId.get(id)!.map((v) => v.definition))], SUBFLOW_PACK);
  }
}

/** The node type of library sub-flow `id`: its form is the latest version's properties; each version validates its own. */
export function subflowNodeType(id: string, versions: SubflowDefinition[]): NodeDefinition<Record<string, unknown>> {
  const latest = versions.at(-1)!;
  const byVersion = new Map(versions.map((d) => [d.version, d]));
  const checks = new Map<number, { input?: ValidateFunction; output?: ValidateFunction }>();
  const checksOf = (d: SubflowDefinition) => {
    if (!checks.has(d.version)) checks.set(d.version, { input: d.input ? ajv.compile(d.input) : undefined, output: d.output ? ajv.compile(d.output) : undefined });
    return checks.get(d.version)!;
  };
  const propsOf = (d: SubflowDefinition) => ({ ...(d.properties ?? {}), properties: { ...((d.properties?.properties as object) ?? {}), version: {}, timeoutMs: {} } });
  return {
    type: nodeTypeOf(id),
    category: 'flow',
    label: latest.name,
    icon: latest.icon ?? 'account_tree',
    color: latest.color ?? '#c0d8f0',
    inputs: 1,
    outputs: 1,
    props: {
      type: 'object',
      required: ['version'],
      properties: {
        ...((latest.properties?.properties as object) ?? {}),
        version: { type: 'integer', enum: versions.map((d) => d.version), default: latest.version, title: 'Version', description: 'The sub-flow version this node runs; upgrading is explicit.' },
        timeoutMs: { type: 'integer', minimum: 1, default: 60000, title: 'Wait for the answer (ms)' },
      },
      // Each version checks its own properties: a node pinned to v1 stays valid when v2 changes them. `required`: a node
      // without a version (new, imported) is not every version at once, so it takes the latest's defaults only.
      allOf: versions.map((d) => ({ if: { required: ['version'], properties: { version: { const: d.version } } }, then: propsOf(d) })),
    },
    help: `${latest.description ?? latest.name}

A library sub-flow (\`${id}\`, latest version ${latest.version}). The node runs the version in **version**; the message
goes in as the sub-flow's input, the properties travel as \`msg.subflow.props\` (and the calling node, flow and run as
\`msg.subflow.caller\`: a run resumed after a restart or on another worker reads its caller's variables through it), and
the sub-flow's answer comes out.
`,
    create(init) {
      const { version, timeoutMs, ...props } = init.props as { version: number; timeoutMs?: number } & Record<string, unknown>;
      const definition = byVersion.get(version);
      if (!definition) throw new Error(`sub-flow "${id}" has no version ${version} (versions: ${[...byVersion.keys()].join(', ')})`);
      const { input, output } = checksOf(definition);
      const flowId = hiddenFlowId(id, version);
      const ownName = init.flow.nodes.find((n) => n.id === init.id)?.name ?? '';
      // Inside, the variables read are this node's properties, then the calling flow's (Node-RED's subflow instance).
      const calleeEnv: CalleeEnv = (callerEnv) => instanceEnv(props, { id: init.id, name: ownName }, callerEnv);
      return {
        // A called run resumed elsewhere makes its caller's variables again through the calling node (caller-env.ts).
        [CALLEE_ENV]: calleeEnv,
        async onInput(msg, ctx) {
          if (input && !input(structuredClone(msg))) throw new Error(`sub-flow "${id}" v${version}: the message does not match its input schema: ${describe(input)}`);
          // The called run carries its caller (and the caller's caller, when this run was called too): in memory with
          // the variables its nodes read, and stored with its input as ids, so a resume or another worker finds it.
          const parent = callerOfEnv(ctx.context.env);
          const caller = { flowId: ctx.flowId, nodeId: ctx.nodeId, runId: ctx.runId, env: calleeEnv(ctx.context.env), ...(parent ? { caller: parent } : {}) };
          const call: FlowMessage = { ...msg, subflow: { id, version, props, caller: storedCaller(caller) } };
          const answer = await init.services.callFlow(flowId, call, { signal: ctx.signal, parentRunId: ctx.runId, timeoutMs, caller });
          // The answer carries the inner run's reply handle (msg._replyTo, executor/replies.ts): the caller keeps its own.
          const { subflow: _s, _replyTo: _inner, ...result } = answer as FlowMessage & { subflow?: unknown; _replyTo?: unknown };
          if (msg._replyTo !== undefined) result._replyTo = msg._replyTo;
          if (output && !output(structuredClone(result))) throw new Error(`sub-flow "${id}" v${version}: its answer does not match its output schema: ${describe(output)}`);
          return result as FlowMessage;
        },
      };
    },
  };
}

function describe(validate: ValidateFunction): string {
  return ajvIssues(validate.errors).map((i) => `${i.pointer} ${i.message}`).join('; ');
}

/** The runtime's library: node types registered and versions deployed, before the stored flows that use them. */
export async function openSubflowLibrary(parts: { storage: unknown; registry: NodeRegistry; executor: Executor; log: Logger }): Promise<SubflowLibrary | undefined> {
  const driver = (parts.storage as { driver?: ConstructorParameters<typeof SubflowStore>[0] }).driver;
  if (!driver) return undefined;
  const library = new SubflowLibrary(new SubflowStore(driver), parts.registry, parts.executor, parts.log);
  await library.load();
  return library;
}
