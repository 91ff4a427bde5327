import { afterAll, describe, expect, it } from 'vitest';
import type { Agent, AgentEnvironment } from '../agents/agent.ts';
import { SqliteVecStore } from '../memory/sqlite-vec-store.ts';
import { ScriptedProvider } from '../providers/scripted.ts';
import type { ChatRequest } from '../providers/types.ts';
import { runCrew } from './crew.ts';
import { claimLegacyMemory, CrewMemory, crewMemoryScope, type Entity } from './crew-memory.ts';

const store = SqliteVecStore.open(':memory:');
afterAll(() => store.close());

const env: AgentEnvironment = { signal: new AbortController().signal, callTool: async () => [], progress: () => undefined, recordUsage: () => undefined };
const prompt = (r: ChatRequest) => r.messages.filter((m) => m.role === 'user').at(-1)!.content;

function crewAgent(key: string, answer: (r: ChatRequest) => string, memory: CrewMemory): Agent {
  return { key, role: key, goal: 'g', backstory: '', provider: new ScriptedProvider((r) => answer(r)), tools: [], maxIterations: 2, allowDelegation: false, memory };
}

describe('crew memory', () => {
  const embedder = new ScriptedProvider([]);
  const memoryFor = (extracted: Entity[] = []) =>
    new CrewMemory({ config: { shortTerm: true, longTerm: true, entities: true }, provider: embedder, store: async () => store, scope: 'crew:f1:n1', extractEntities: async () => extracted });

  it("recalls this run's earlier results (short-term), earlier runs' results (long-term) and entities, each labelled", async () => {
    const seen: string[] = [];
    const first = memoryFor([{ name: 'Acme Corp', type: 'organisation', description: 'buys pgvector support contracts' }]);
    const research = crewAgent('research', () => 'pgvector stores embeddings inside PostgreSQL for Acme Corp', first);
    const write = crewAgent('write', (r) => (seen.push(prompt(r)), 'A post about pgvector embeddings.'), first);
    await runCrew({ agents: [research, write], tasks: [{ key: 'r', description: 'research pgvector embeddings', agent: 'research' }, { key: 'w', description: 'write about pgvector embeddings', agent: 'write', context: [] }], process: 'sequential', maxRevisions: 0 }, env);
    expect(seen[0]).toContain('Earlier in this run: Task: research pgvector embeddings\nResult: pgvector stores embeddings inside PostgreSQL for Acme Corp');

    // A new run: nothing short-term, but the long-term memory and the entity are there.
    const second = memoryFor();
    const recalled = await second.recall('what does Acme Corp do with pgvector embeddings');
    expect(recalled.some((m) => m.startsWith('Earlier in this run'))).toBe(false);
    expect(recalled).toContain('From an earlier run: Task: research pgvector embeddings\nResult: pgvector stores embeddings inside PostgreSQL for Acme Corp');
    expect(recalled).toContain('Known entity: Acme Corp (organisation): buys pgvector support contracts');
  });

  it('keeps one record per entity, updated by a later run, and keeps crews apart', async () => {
    const memory = memoryFor([{ name: 'ACME corp', type: 'organisation', description: 'moved to pgvector 0.8' }]);
    await memory.remember('t', 'Acme moved to pgvector 0.8');
    expect(await store.count('crew:f1:n1:entities')).toBe(1);
    expect(await memory.recall('Acme corp pgvector')).toContain('Known entity: ACME corp (organisation): moved to pgvector 0.8');
    const other = new CrewMemory({ config: { longTerm: true, entities: true }, provider: embedder, store: async () => store, scope: 'crew:f2:n1' });
    expect(await other.recall('Acme corp pgvector')).toEqual([]);
  });

  it("names its collections by project and crew node, or by the project's memory name with scope 'project' (refused where the host has no projects)", () => {
    const node = { flowId: 'f1', id: 'n1', projectId: 'sales' };
    expect(crewMemoryScope({ longTerm: true }, node)).toBe('crew-in:sales:f1:n1');
    expect(crewMemoryScope({ longTerm: true }, { flowId: 'f1', id: 'n1' })).toBe('crew:f1:n1');
    expect(crewMemoryScope({ longTerm: true, scope: 'project' }, node)).toBe('crew-project:sales:default');
    expect(crewMemoryScope({ longTerm: true, scope: 'project', name: 'research' }, { ...node, flowId: 'f2', id: 'n9' })).toBe('crew-project:sales:research');
    expect(() => crewMemoryScope({ longTerm: true, scope: 'project' }, { flowId: 'f1', id: 'n1' })).toThrow(/scope 'project' needs a host that runs flows in projects/);
  });

  it('recalls memory stored before it was keyed by project for the project that claims it first, never for another', async () => {
    const legacyScope = 'crew:old-flow:n1';
    // Memory as a crew wrote it before the key had the project in it.
    await new CrewMemory({ config: { longTerm: true }, provider: embedder, store: async () => store, scope: legacyScope }).remember('find the pgvector release year', 'pgvector was first released in 2021');
    const inProject = (projectId: string) =>
      new CrewMemory({ config: { longTerm: true }, provider: embedder, store: async () => store, scope: `crew-in:${projectId}:old-flow:n1`, legacy: { scope: legacyScope, projectId } });
    const sales = inProject('sales');
    expect(await sales.recall('pgvector release year')).toContain('From an earlier run: Task: find the pgvector release year\nResult: pgvector was first released in 2021');
    // New results go under the new key; both are recalled.
    await sales.remember('find the pgvector licence', 'pgvector release notes name the PostgreSQL licence');
    expect(await store.count('crew-in:sales:old-flow:n1:long-term')).toBe(1);
    expect(await store.count(`${legacyScope}:long-term`)).toBe(1);
    expect((await inProject('sales').recall('pgvector release licence')).filter((m) => m.startsWith('From an earlier run'))).toHaveLength(2);
    // The same flow id in another project (the flow deleted and made again there): nothing of it.
    expect(await inProject('ops').recall('pgvector release year')).toEqual([]);
    expect(await claimLegacyMemory(store, { scope: legacyScope, projectId: 'ops' })).toBe(false);
    // Nothing stored under an old key: nothing claimed, so the key stays free.
    expect(await claimLegacyMemory(store, { scope: 'crew:never:n1', projectId: 'ops' })).toBe(false);
    expect(await store.getCollection('crew:never:n1:owner')).toBeUndefined();
  });
});
