/** How the crew node sets up its knowledge (at deploy) and its memory (per run), in the node's vector store. */
import { meteredEmbeddings } from '../agents/metered-embeddings.ts';
import type { NodeInit } from '@flowcrew/sdk';
import { runAgentTask, type AgentEnvironment } from '../agents/agent.ts';
import { OutputSchema } from '../agents/structured-output.ts';
import { CrewKnowledge, type CrewKnowledgeConfig } from '../crew/crew-knowledge.ts';
import { CrewMemory, crewMemoryScope, ENTITY_SCHEMA, legacyCrewScope, memoryEnabled, type CrewMemoryConfig, type Entity } from '../crew/crew-memory.ts';
import { knowledgeDirectory } from '../memory/sources.ts';
import type { ModelProvider } from '../providers/types.ts';
import type { StoreHandle } from './node-resources.ts';

export function crewKnowledgeFor(config: CrewKnowledgeConfig | undefined, init: NodeInit<unknown>, provider: ModelProvider, store: StoreHandle | undefined): CrewKnowledge | undefined {
  if (!config?.sources?.length || !store) return undefined;
  return new CrewKnowledge(config, provider, () => store.get(), `knowledge:${init.flowId}:${init.id}`, {
    knowledgeDir: knowledgeDirectory(init.services.dataDir),
    outbound: init.services.outbound,
  });
}

/** Whether the node needs its vector store: agent memory, crew memory or knowledge. */
export function needsStore(props: { memory?: CrewMemoryConfig; knowledge?: CrewKnowledgeConfig }, agentMemory: boolean): boolean {
  return agentMemory || memoryEnabled(props.memory) || Boolean(props.knowledge?.sources?.length);
}

/** The crew's memory for one run; entity extraction runs as a model call of the run (usage and budget count it). */
export function crewMemoryFor(
  config: CrewMemoryConfig | undefined,
  init: Pick<NodeInit<unknown>, 'flowId' | 'id' | 'projectId'>,
  provider: ModelProvider,
  store: StoreHandle | undefined,
  env: AgentEnvironment,
): CrewMemory | undefined {
  if (!memoryEnabled(config) || !store) return undefined;
  const extractor = { key: 'entities', role: 'Entity extractor', goal: 'Name the entities a text is about', backstory: '', provider, tools: [], maxIterations: 2, allowDelegation: false, maxTokens: 512 };
  const schema = new OutputSchema(ENTITY_SCHEMA);
  return new CrewMemory({
    config,
    // Its embeddings count in the run's usage and budgets, like the chat calls.
    provider: meteredEmbeddings(provider, env, 'crew memory'),
    store: () => store.get(),
    scope: crewMemoryScope(config, init),
    // A crew's own memory stored before it was keyed by project is still recalled, by its project only.
    ...(config.scope !== 'project' && init.projectId !== undefined ? { legacy: { scope: legacyCrewScope(init), projectId: init.projectId } } : {}),
    async extractEntities(text) {
      const outcome = await runAgentTask(
        extractor,
        {
          key: 'entities',
          description: 'List the people, organisations, places, products and concepts the text below is about, each with its type and one sentence on what the text says about it.',
          context: [{ label: 'Text', text }],
          outputSchema: schema,
        },
        { ...env, stream: false },
      );
      return (outcome.json as { entities: Entity[] }).entities;
    },
  });
}
