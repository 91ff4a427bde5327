import { describe, expect, it } from 'vitest';
import { bindingProblem, credentialBindingIssues } from './credential-binding.ts';

const httpRequest = { credentials: { type: 'http-auth', schema: {} } };

describe('credential binding', () => {
  it('accepts a credential of the type the node takes', () => {
    expect(bindingProblem('http-request', httpRequest, { id: 'c1', name: 'login', type: 'http-auth' })).toBeNull();
  });

  it('refuses another type, and any credential on a node type that takes none', () => {
    expect(bindingProblem('http-request', httpRequest, { id: 'c1', name: 'model', type: 'ai-model' })).toBe(
      'credential "model" (c1) is of type "ai-model", but node type "http-request" takes "http-auth" credentials: attach a "http-auth" credential',
    );
    expect(bindingProblem('change', {}, { id: 'c1', name: 'c1', type: 'http-auth' })).toBe('credential "c1" cannot be attached: node type "change" takes no credential');
  });

  it('reports each misbound node with a pointer, skipping credentials that do not exist yet', async () => {
    const stored = { model: { id: 'model', name: 'model', type: 'ai-model' }, login: { id: 'login', name: 'login', type: 'http-auth' } } as Record<string, { id: string; name: string; type: string }>;
    const issues = await credentialBindingIssues(
      { nodes: [{ id: 'a', type: 'http-request', credentials: 'login' }, { id: 'b', type: 'http-request', credentials: 'model' }, { id: 'c', type: 'http-request', credentials: 'later' }] },
      (type) => (type === 'http-request' ? httpRequest : undefined),
      async (id) => stored[id],
    );
    expect(issues).toEqual([{ pointer: '/nodes/1/credentials', nodeId: 'b', message: expect.stringContaining('is of type "ai-model"') }]);
  });
});
