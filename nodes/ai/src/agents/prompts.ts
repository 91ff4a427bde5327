/** The words agents are prompted with, in one place (modelled on CrewAI's, so imported crews behave alike). */
import type { JsonSchema } from '@flowcrew/sdk';

export function systemPrompt(agent: { role: string; goal: string; backstory: string }, hasTools: boolean): string {
  const lines = [`You are ${agent.role}. ${agent.backstory}`.trim(), `Your personal goal is: ${agent.goal}`];
  if (hasTools) lines.push('Use the tools you are given when they help. When you have the final answer, reply with it directly instead of calling a tool.');
  return lines.join('\n');
}

export interface TaskPromptParts {
  description: string;
  expectedOutput?: string;
  /** Outputs of earlier tasks (or a manager's instructions) this task builds on. */
  context?: Array<{ label: string; text: string }>;
  memories?: string[];
  /** Passages from knowledge sources (CrewAI appends them to the task as additional information). */
  knowledge?: string[];
  outputSchema?: JsonSchema;
  /** Ask for Markdown (CrewAI's markdown task field). */
  markdown?: boolean;
  /** Today's date, YYYY-MM-DD (CrewAI's inject_date). */
  date?: string;
}

export function taskPrompt(parts: TaskPromptParts): string {
  const sections = [`Current task: ${parts.description}`];
  if (parts.date) sections.push(`Current date: ${parts.date}`);
  if (parts.context?.length) {
    sections.push(`This is the context you are working with:\n${parts.context.map((c) => `## ${c.label}\n${c.text}`).join('\n\n')}`);
  }
  if (parts.knowledge?.length) sections.push(`Additional information from your knowledge sources:\n${parts.knowledge.map((k) => `- ${k}`).join('\n')}`);
  if (parts.memories?.length) sections.push(`What you remember from earlier work that may help:\n${parts.memories.map((m) => `- ${m}`).join('\n')}`);
  if (parts.expectedOutput) {
    sections.push(`This is the expected criteria for your final answer: ${parts.expectedOutput}\nYou must return the actual complete content as the final answer, not a summary.`);
  }
  if (parts.markdown && !parts.outputSchema) {
    sections.push('Format your final answer in Markdown: # for headings, **bold**, *italic*, - for bullet points, `code` and fenced code blocks.');
  }
  if (parts.outputSchema) sections.push(schemaInstruction(parts.outputSchema));
  return sections.join('\n\n');
}

/** Before a task, with reasoning on: a plan only, the work comes next. */
export function reasoningPrompt(task: string): string {
  return `${task}\n\nBefore doing this task, write a short step-by-step plan for it (at most five steps). Reply with the plan only; do not do the task yet.`;
}

export function schemaInstruction(schema: JsonSchema): string {
  return `Your final answer must be only a JSON value, with no other text, matching this JSON Schema:\n${JSON.stringify(schema)}`;
}

export function correctionPrompt(problem: string, schema: JsonSchema | undefined): string {
  return schema
    ? `Your answer could not be used: it ${problem}. Reply again with only the corrected JSON value.`
    : `Your answer could not be used: ${problem}. Reply again with your complete final answer.`;
}
