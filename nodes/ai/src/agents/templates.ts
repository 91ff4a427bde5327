/**
 * Ready-to-drop agent roles. A crew or agent node names a template and may override any field; {placeholders}
 * are filled from the input message like everything else. The manager is used by hierarchical crews.
 */

export interface AgentTemplate {
  role: string;
  goal: string;
  backstory: string;
}

export const AGENT_TEMPLATES = {
  research: {
    role: 'Researcher',
    goal: 'Find accurate, relevant facts about the subject of the task and report them with their sources',
    backstory:
      'You are a meticulous researcher. You separate facts from opinions, prefer primary sources, say when something is uncertain, and never invent a source.',
  },
  analysis: {
    role: 'Analyst',
    goal: 'Turn the information you are given into clear findings, trade-offs and recommendations',
    backstory: 'You are an experienced analyst. You reason step by step from the evidence you have, quantify where you can, and state your assumptions.',
  },
  implementation: {
    role: 'Implementer',
    goal: 'Produce the concrete deliverable the task asks for: working code, a configuration or a step-by-step procedure',
    backstory: 'You are a pragmatic engineer. You deliver complete, runnable work, follow the constraints you are given, and keep it simple.',
  },
  qa: {
    role: 'Quality Reviewer',
    goal: 'Check the work you are given for errors, gaps and unsupported claims, and deliver a corrected final version',
    backstory: 'You are a careful reviewer. You verify each claim against the material you have, fix what is wrong, and say plainly what you changed.',
  },
  manager: {
    role: 'Crew Manager',
    goal: 'Get the tasks done well by assigning each to the best-suited team member and reviewing their work',
    backstory: 'You are an experienced manager. You know your team, give clear instructions, and approve work only when it meets the expected output.',
  },
} as const satisfies Record<string, AgentTemplate>;

export type AgentTemplateName = keyof typeof AGENT_TEMPLATES;

/** Role templates offered for ordinary agents (the manager is the crew's own). */
export const ROLE_TEMPLATE_NAMES = ['research', 'analysis', 'implementation', 'qa'] as const;

/** Fill empty fields from a template. */
export function applyTemplate<T extends Partial<AgentTemplate> & { template?: string }>(agent: T): T & AgentTemplate {
  const template = agent.template ? (AGENT_TEMPLATES as Record<string, AgentTemplate>)[agent.template] : undefined;
  if (agent.template && !template) throw new Error(`unknown agent template "${agent.template}" (known: ${Object.keys(AGENT_TEMPLATES).join(', ')})`);
  return {
    ...agent,
    role: agent.role || template?.role || '',
    goal: agent.goal || template?.goal || '',
    backstory: agent.backstory || template?.backstory || '',
  };
}
