/**
 * Deploying flows: every node created once (with its credential, resources, context and logger), then the triggers
 * started. A redeploy swaps versions atomically: if any node of the new version fails to create, the old one keeps
 * running. Undeploy stops triggers, cancels the flow's runs in flight and closes its nodes.
 */
import type { InputContext, NodeDefinition, NodeInstance, NodeStatus, FlowMessage } from '@flowcrew/sdk';
import type { LiveCredential, ResourceScope } from '@flowcrew/sdk/host';
import { substituteEnvProps } from '@flowcrew/sdk/util';
import type { FlowDocument } from '../flow/types.ts';
import { NODES_PER_TURN, yieldToEventLoop } from '../flow/event-loop.ts';
import { isHiddenSubflowFlow } from '../subflows/definition.ts';
import { nodesCalling } from '../subflows/status-up.ts';
import { ContextRegistry } from './context.ts';
import { bindingProblem, credentialRefsInProps } from './credential-binding.ts';
import { Redactor } from './redaction.ts';
import { classifyRoles, statusHandlersFor } from './roles.ts';
import { DeployError, NO_RETRY, type ActiveRun, type DeployedFlow, type DeployedNode, type ExecutorHub } from './types.ts';

type Shared = { credential?: LiveCredential; resources?: ResourceScope; unwatch?: () => void };

/** Whether this runtime leads the cluster right now (cluster/leader.ts). */
export interface Leadership {
  holds(): boolean;
}

export class Deployer {
  private readonly contexts: ContextRegistry;
  /** Set when several runtimes share the database: singleton triggers (cron, repeating inject) start on the leader only. */
  private leadership: Leadership | null = null;
  private readonly singletonsStarted = new Set<DeployedNode>();
  private readonly changeListeners = new Set<(flowId: string) => void>();

  constructor(private readonly hub: ExecutorHub) {
    this.contexts = new ContextRegistry(hub.options.contextStore ?? hub.options.storage, hub.options.log, hub.options.nodeLimits);
  }

  /**
   * Deploy (or redeploy) a validated flow: create every node, then start its triggers. If any node fails to
   * create, nothing of the new version stays and the previous version keeps running.
   */
  async deploy(flow: FlowDocument): Promise<void> {
    const { options } = this.hub;
    const services = this.hub.services((route) => options.registerWebhook(route));
    const redactor = new Redactor();
    const global = await this.contexts.get('global');
    const flowContext = await this.contexts.get(`flow:${flow.id}`);
    // Variables are read once per deploy (as Node-RED does): a changed variable applies at the next deploy.
    const environment = await options.environment?.(flow, { flow: flowContext, global });
    if (environment) redactor.addValues(environment.secrets);
    const hidden = isHiddenSubflowFlow(flow.id);
    const flowNodes = flow.nodes.map((n) => ({ id: n.id, type: n.type, name: n.name ?? '', props: n.props ?? {} }));
    const created: DeployedNode[] = [];
    const failed: Array<{ nodeId: string; message: string }> = [];
    try {
      let count = 0;
      for (const node of flow.nodes) {
        // A flow of thousands of nodes must not hold the event loop (health checks, other flows) for its whole deploy.
        if (++count % NODES_PER_TURN === 0) await yieldToEventLoop();
        if (node.disabled) continue;
        const definition = options.registry.get(node.type);
        if (!definition) throw new DeployError(`node "${node.id}": unknown node type "${node.type}"`, node.id);
        const label = node.name || definition.label;
        const log = this.hub.nodeLogger(flow.id, node.id, label, redactor);
        const status: InputContext['status'] = (s) => {
          options.events.status({ flowId: flow.id, nodeId: node.id, status: s });
          const source = { id: node.id, type: node.type, name: node.name ?? '' }; // Node-RED: the node's own name
          if (!this.routeStatus(flow.id, node.id, source, s) && hidden) this.statusUpFromSubflow(flow.id, source, s, new Set([flow.id]));
        };
        let credentials: Record<string, unknown> | undefined;
        if (node.credentials) {
          credentials = await options.credentials(node.credentials);
          if (!credentials) throw new DeployError(`node "${node.id}": credential "${node.credentials}" does not exist`, node.id);
          const info = await options.credentialInfo?.(node.credentials);
          const problem = info && bindingProblem(node.type, definition, info);
          if (problem) throw new DeployError(`node "${node.id}": ${problem}`, node.id);
          redactor.addCredential(credentials, definition.credentials?.schema);
        } else if (definition.credentials?.required) {
          throw new DeployError(`node "${node.id}": node type "${node.type}" needs a credential of type "${definition.credentials.type}"`, node.id);
        }
        // Credentials the props name (a model per agent): checked and redacted like the node's own; edits need a redeploy.
        let moreCredentials: Record<string, Record<string, unknown>> | undefined;
        for (const ref of credentialRefsInProps(definition, node.props)) {
          const fields = await options.credentials(ref.id);
          if (!fields) throw new DeployError(`node "${node.id}": credential "${ref.id}" (props${ref.pointer}) does not exist`, node.id);
          const info = await options.credentialInfo?.(ref.id);
          const problem = info && bindingProblem(node.type, definition, info);
          if (problem) throw new DeployError(`node "${node.id}" props${ref.pointer}: ${problem}`, node.id);
          redactor.addCredential(fields, definition.credentials?.schema);
          (moreCredentials ??= {})[ref.id] = fields;
        }
        const context = { flow: flowContext, global, node: await this.contexts.get(`node:${flow.id}:${node.id}`), ...(environment ? { env: environment.env } : {}) };
        const shared = await this.nodeShared(node.credentials, definition, redactor);
        let instance: NodeInstance;
        try {
          instance = await definition.create({
            id: node.id,
            name: label,
            flowId: flow.id,
            ...(environment?.projectId === undefined ? {} : { projectId: environment.projectId }),
            props: environment ? substituteEnvProps(node.props ?? {}, environment.env) : (node.props ?? {}),
            credentials,
            credential: shared.credential,
            ...(moreCredentials ? { moreCredentials } : {}),
            log,
            status,
            context,
            flow: { id: flow.id, nodes: flowNodes },
            services: { ...services, resources: shared.resources },
          });
        } catch (error) {
          this.releaseShared(shared, node.credentials, true);
          // The other nodes are still created, so every node that fails is named in one answer.
          failed.push({ nodeId: node.id, message: `node "${node.id}" (${node.type}): ${(error as Error).message}` });
          continue;
        }
        created.push({
          node,
          definition,
          instance,
          wires: node.wires ?? [],
          retry: node.retry ?? definition.defaults?.retry ?? NO_RETRY,
          timeoutMs: node.timeoutMs ?? definition.defaults?.timeoutMs ?? flow.settings?.nodeTimeoutMs ?? 0,
          label,
          credentials,
          ...shared,
          context,
          log,
          status,
        });
      }
      if (failed.length > 0) throw new DeployError(failed.map((f) => f.message).join('; '), failed[0]!.nodeId, failed);
    } catch (error) {
      await this.closeNodes(created, true);
      throw error;
    }

    const previous = this.hub.deployed.get(flow.id);
    redactor.absorb(previous?.redactor);
    if (previous) await this.stopTriggers(previous);
    const deployed: DeployedFlow = {
      flow,
      nodes: new Map(created.map((d) => [d.node.id, d])),
      roles: classifyRoles(created),
      running: previous?.running ?? 0,
      queued: previous?.queued ?? [],
      redactor,
      ...(environment?.projectId === undefined ? {} : { projectId: environment.projectId }),
    };
    this.hub.deployed.set(flow.id, deployed);
    // Runs in flight keep their node instances' new versions: a run addresses nodes by id.
    for (const run of this.hub.active.values()) if (run.flow === previous) run.flow = deployed;
    // Not closeNow: a resource the new version uses too stays open for it (when its holder asked for an idle linger).
    if (previous) await this.closeNodes([...previous.nodes.values()], false);
    await this.startTriggers(deployed);
    this.changed(flow.id);
  }

  /** Called after each deploy and undeploy here (cluster/deploy-sync.ts tells the other mains); returns a detach. */
  onDeployChange(listener: (flowId: string) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  private changed(flowId: string): void {
    for (const listener of this.changeListeners) listener(flowId);
  }

  /** Stop a flow. Its runs still in flight are cancelled: their nodes are about to be closed. */
  async undeploy(flowId: string): Promise<void> {
    const deployed = this.hub.deployed.get(flowId);
    if (!deployed) return;
    // From here on, resources its nodes are the last to hold close as they are released (no idle linger).
    for (const d of deployed.nodes.values()) d.resources?.undeploy();
    await this.stopTriggers(deployed);
    this.hub.deployed.delete(flowId);
    for (const run of [...this.hub.active.values()]) if (run.flow === deployed) await this.hub.admission.cancel(run.record.id);
    await this.closeNodes([...deployed.nodes.values()], true);
    this.changed(flowId);
  }

  /**
   * From now on, triggers whose definition is `clusterSingleton` start only while `leadership` holds (call it before
   * deploying), and each of their ticks is refused once it no longer holds (a leader that stalled past its lease).
   */
  useLeadership(leadership: Leadership): void {
    this.leadership = leadership;
  }

  /** Leadership gained or lost: start or stop the singleton triggers of every deployed flow. */
  async leadershipChanged(leader: boolean): Promise<void> {
    if (!leader) {
      const started = [...this.singletonsStarted];
      this.singletonsStarted.clear();
      await Promise.allSettled(started.map((d) => d.instance.stop?.()));
      return;
    }
    for (const deployed of this.hub.deployed.values()) {
      for (const d of deployed.nodes.values()) {
        if (this.hub.closing || !this.isSingleton(d) || this.singletonsStarted.has(d)) continue;
        await this.startTrigger(deployed, d).catch((error: unknown) => d.log.error((error as Error).message));
      }
    }
  }

  private isSingleton(d: DeployedNode): boolean {
    return this.leadership !== null && d.definition.clusterSingleton === true && d.instance.start !== undefined;
  }

  /** Shutdown: stop every trigger (first, so nothing new starts), then close every node. */
  async stopAllTriggers(): Promise<void> {
    for (const deployed of this.hub.deployed.values()) await this.stopTriggers(deployed);
  }

  async closeAll(): Promise<void> {
    for (const deployed of this.hub.deployed.values()) await this.closeNodes([...deployed.nodes.values()], true);
    this.hub.deployed.clear();
  }

  /** A node's live credential and resource scope (see node-services.ts); its secrets follow credential edits. */
  async nodeShared(credentialId: string | undefined, definition: NodeDefinition, redactor: Redactor): Promise<Shared & { resources: ResourceScope }> {
    const resources = this.hub.nodeServices.pools.scope();
    if (!credentialId) return { resources };
    const credential = await this.hub.nodeServices.hold(credentialId, definition.credentials?.type ?? 'unknown');
    // New secret values are redacted from the moment nodes can use them.
    const unwatch = credential?.onChange((changed) => redactor.addCredential(changed.fields, definition.credentials?.schema));
    return { credential, resources, unwatch };
  }

  releaseShared(shared: Shared, credentialId: string | undefined, closeNow: boolean): void {
    shared.unwatch?.();
    shared.resources?.releaseAll({ closeNow });
    if (credentialId && shared.credential) this.hub.nodeServices.unhold(credentialId);
  }

  /** Close node instances, then release what they still hold (`closeNow`: undeploy, their resources close at once). */
  private async closeNodes(nodes: DeployedNode[], closeNow: boolean): Promise<void> {
    if (closeNow) for (const d of nodes) d.resources?.undeploy();
    await Promise.allSettled(nodes.map((d) => d.instance.close?.()));
    for (const d of nodes) this.releaseShared(d, d.node.credentials, closeNow);
  }

  private async startTriggers(deployed: DeployedFlow): Promise<void> {
    if (this.hub.options.triggers === false) return;
    for (const d of deployed.nodes.values()) {
      if (!d.instance.start) continue;
      // A singleton trigger starts here only on the leader; leadershipChanged() starts it when this runtime is elected.
      if (this.isSingleton(d) && !this.leadership!.holds()) continue;
      try {
        await this.startTrigger(deployed, d);
      } catch (error) {
        await this.stopTriggers(deployed);
        throw error;
      }
    }
  }

  private async startTrigger(deployed: DeployedFlow, d: DeployedNode): Promise<void> {
    const flowId = deployed.flow.id;
    const leadership = this.isSingleton(d) ? this.leadership : null;
    if (leadership) this.singletonsStarted.add(d);
    try {
      await d.instance.start!({
        // Fenced: a tick after this runtime lost the lead (its timer fired before its heartbeat noticed) is refused.
        emit: (msg: FlowMessage, emitOptions) =>
          leadership && !leadership.holds()
            ? Promise.reject(new Error('this runtime is no longer the cluster leader: the tick is left to the new leader'))
            : this.hub.admission.emitFromTrigger(flowId, d.node.id, msg, emitOptions),
        log: this.hub.nodeLogger(flowId, d.node.id, d.label, deployed.redactor),
        status: d.status,
      });
    } catch (error) {
      this.singletonsStarted.delete(d);
      throw new DeployError(`node "${d.node.id}" (${d.node.type}) could not start: ${(error as Error).message}`, d.node.id);
    }
  }

  private async stopTriggers(deployed: DeployedFlow): Promise<void> {
    for (const d of deployed.nodes.values()) this.singletonsStarted.delete(d);
    await Promise.allSettled([...deployed.nodes.values()].map((d) => d.instance.stop?.()));
  }

  /**
   * A status a node reports while running a run another flow's node called (a library sub-flow): shown on the node,
   * then Node-RED's rule for subflow instances — a status node of the called flow takes it; else it goes up to the
   * caller's flow as if the calling node reported it (its source still the inner node), and up again through nested
   * calls.
   */
  statusInCalledRun(run: ActiveRun, d: DeployedNode, status: NodeStatus): void {
    this.hub.options.events.status({ flowId: run.record.flowId, nodeId: d.node.id, status });
    const source = { id: d.node.id, type: d.node.type, name: d.node.name ?? '' };
    let at: { flowId: string; nodeId: string } = { flowId: run.record.flowId, nodeId: d.node.id };
    let caller = run.caller;
    while (!this.routeStatus(at.flowId, at.nodeId, source, status) && caller) {
      at = caller;
      // The chain the called run carries (its calling run may run in another process, or have been resumed).
      caller = caller.caller ?? this.hub.active.get(caller.runId)?.caller;
    }
  }

  /**
   * A status a library sub-flow's node reports outside any run (a connection, a timer), taken by no status node inside:
   * up to every node calling that version, as each of Node-RED's per-instance copies passes it up; again through nesting.
   */
  private statusUpFromSubflow(flowId: string, source: { id: string; type: string; name: string }, status: NodeStatus, seen: Set<string>): void {
    for (const at of nodesCalling(flowId, this.hub.deployed.values())) {
      if (!this.routeStatus(at.flowId, at.nodeId, source, status) && isHiddenSubflowFlow(at.flowId) && !seen.has(at.flowId)) {
        seen.add(at.flowId);
        this.statusUpFromSubflow(at.flowId, source, status, seen);
      }
    }
  }

  /**
   * Node-RED's status nodes: each status change of a node in their scope starts a run at them with msg.status.
   * `nodeId` is what the scopes are matched against; `source` is the node that reported it. True when a status node took it.
   */
  private routeStatus(flowId: string, nodeId: string, source: { id: string; type: string; name: string }, status: NodeStatus): boolean {
    const deployed = this.hub.deployed.get(flowId);
    if (!deployed || deployed.roles.statusHandlers.length === 0) return false;
    const handlers = statusHandlersFor(deployed, nodeId);
    for (const s of handlers) {
      const msg: FlowMessage = { status: { ...status, ...(status.text === undefined ? {} : { text: String(status.text) }), source: { ...source } } };
      this.hub.admission.runNow(flowId, msg, { nodeId: s.node.id }).catch((error: unknown) => this.hub.options.log.warn(`status node "${s.node.id}": could not start a run: ${(error as Error).message}`));
    }
    return handlers.length > 0;
  }
}
