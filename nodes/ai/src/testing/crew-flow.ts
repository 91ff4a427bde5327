/** The flow every crew test deploys: an inject wired to one `ai-crew` node (id `crew`) on the given credential. */
export function crewFlow(id: string, credentialId: string, crew: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    id,
    name: id.replace(/-/g, ' '),
    ...extra,
    nodes: [
      { id: 'go', type: 'inject', props: { props: [] }, wires: [['crew']] },
      { id: 'crew', type: 'ai-crew', credentials: credentialId, props: { stream: false, ...crew }, wires: [] },
    ],
  };
}

/** The two-task crew most tests use: a researcher finds facts, a writer writes about them. */
export const researchThenWrite = {
  agents: [
    { key: 'researcher', role: 'Researcher', goal: 'Find facts' },
    { key: 'writer', role: 'Writer', goal: 'Write' },
  ],
  tasks: [
    { key: 'research', description: 'Research {topic}', agent: 'researcher' },
    { key: 'write', description: 'Write about {topic}', agent: 'writer' },
  ],
};
