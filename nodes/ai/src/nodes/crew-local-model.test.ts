/**
 * The one crew test on the real local model (SmolLM2-135M via node-llama-cpp), with the default settings: the crew's
 * other behaviour is tested on scripted models (crew-node.test.ts and the crew/ tests), where the model is not the
 * subject. This file takes the model's own time: ~6 calls, ~1,400 prompt and ~200 answer tokens on one CPU thread
 * (measured 63-115 s on two cores at load 11-22).
 */
import { describe, expect, it } from 'vitest';
import { createTestNode } from '@flowcrew/sdk/testing';
import { requireLocalModel, skipLocalModelTests } from '../testing/local-model.ts';
import { setUpNodeTests } from '../testing/test-setup.ts';
import { crewNode } from './crew-node.ts';

setUpNodeTests();

describe.skipIf(skipLocalModelTests)('a crew on the local model', () => {
  it('runs a hierarchical crew on SmolLM2 with the default settings: the manager plans, assigns, reviews', async () => {
    requireLocalModel();
    // Nothing but the crew itself: no token limits, no manager settings (its budget is the default one).
    const node = await createTestNode(crewNode, {
      process: 'hierarchical',
      agents: [
        { key: 'researcher', template: 'research' },
        { key: 'writer', template: 'implementation' },
      ],
      tasks: [{ key: 'facts', description: 'List three facts about {topic}.', expectedOutput: 'Three short bullet points.' }],
    });
    const [out] = await node.input({ payload: { topic: 'solar panels' } });
    const crew = out!.msg.crew as { plan: string; tasks: Array<{ task: string; agent: string; output: string; review: { approved: boolean; feedback: string } }> };
    expect(crew.plan.length).toBeGreaterThan(0);
    expect(crew.tasks).toHaveLength(1);
    expect(crew.tasks[0]).toMatchObject({ task: 'facts', agent: expect.stringMatching(/^(Researcher|Implementer)$/), review: { approved: expect.any(Boolean) } });
    expect(crew.tasks[0]!.output.length).toBeGreaterThan(0);
    // Plan, assignment, work, review (and at most one revision with its review): no answer was rejected.
    expect(node.progress.filter((p) => (p as { type: string }).type === 'answer-rejected')).toEqual([]);
    expect(node.usages.length).toBeGreaterThanOrEqual(4);
    expect(node.usages.length).toBeLessThanOrEqual(6);
  }, 1_200_000);
});
