/**
 * A task's guardrails (CrewAI's function and text guardrails), checked on each answer of the working agent.
 */
import type { JsonSchema } from '@flowcrew/sdk';
import { runAgentTask, type Agent, type AgentEnvironment, type TaskOutcome } from '../agents/agent.ts';
import { OutputSchema } from '../agents/structured-output.ts';
import { ModelOutputError } from '../providers/errors.ts';
import type { CrewTask, CrewTaskOutcome } from './crew.ts';
import { DEFAULT_GUARDRAIL_RETRIES, MANAGER_MIN_TOKENS, MAX_NOTE_CHARS } from './limits.ts';

const GUARDRAIL_SCHEMA: JsonSchema = {
  type: 'object',
  properties: { valid: { type: 'boolean' }, feedback: { type: 'string', maxLength: MAX_NOTE_CHARS } },
  required: ['valid', 'feedback'],
  additionalProperties: false,
};

/**
 * CrewAI's text guardrails: after the agent answers, its own model checks the answer against each rule; a failed
 * check sends the task back with the feedback, up to guardrailMaxRetries times, after which the crew fails with
 * the rule and the last feedback (as CrewAI does), never passing on an answer that broke a rule.
 */
export async function withGuardrails(
  agent: Agent,
  task: CrewTask,
  context: Array<{ label: string; text: string }>,
  env: AgentEnvironment,
  run: (extraContext: Array<{ label: string; text: string }>) => Promise<TaskOutcome>,
): Promise<CrewTaskOutcome> {
  const rules = task.guardrails ?? [];
  const retries = task.guardrailMaxRetries ?? DEFAULT_GUARDRAIL_RETRIES;
  let extra: Array<{ label: string; text: string }> = [];
  for (let attempt = 0; ; attempt++) {
    let result: CrewTaskOutcome = await run(extra);
    if (rules.length === 0 && !task.guardrailFunction) return result;
    const checks: Array<{ rule: string; passed: boolean; feedback: string }> = [];
    if (task.guardrailFunction) {
      const verdict = await task.guardrailFunction.check({ output: result.output, json: result.json }, env);
      checks.push({ rule: task.guardrailFunction.label, passed: verdict.valid, feedback: verdict.feedback });
      env.progress({ type: 'guardrail', task: task.key, agent: agent.role, rule: task.guardrailFunction.label, passed: verdict.valid, feedback: verdict.feedback });
      if (verdict.valid && verdict.replacement) {
        const { json: _replaced, ...rest } = result;
        result = { ...rest, output: verdict.replacement.output, ...(verdict.replacement.json === undefined ? {} : { json: verdict.replacement.json }) };
      }
    }
    // Text rules check the answer that stands after the function guardrail (CrewAI chains guardrails the same way).
    for (const rule of checks.some((c) => !c.passed) ? [] : rules) {
      const check = await runAgentTask(
        // A verdict is JSON with a note: it gets the manager's budget, whatever the agent's own maxTokens.
        { ...agent, tools: [], reasoning: false, memory: undefined, maxTokens: Math.max(agent.maxTokens ?? 0, MANAGER_MIN_TOKENS) },
        {
          key: `${task.key}:guardrail`,
          description:
            'Check whether the answer below follows this rule. Set valid to true if it does; otherwise set it to false and say in feedback precisely what to change.\n' +
            `Rule: ${rule}`,
          context: [...context, { label: 'The answer to check', text: result.output }],
          outputSchema: new OutputSchema(GUARDRAIL_SCHEMA),
        },
        env,
      );
      const verdict = check.json as { valid: boolean; feedback: string };
      checks.push({ rule, passed: verdict.valid, feedback: verdict.feedback });
      env.progress({ type: 'guardrail', task: task.key, agent: agent.role, rule, passed: verdict.valid, feedback: verdict.feedback });
    }
    const failed = checks.filter((c) => !c.passed);
    if (failed.length === 0) return { ...result, guardrails: checks };
    if (attempt >= retries) {
      throw new ModelOutputError(
        `Task "${task.key}" failed its guardrail after ${attempt + 1} attempt${attempt ? 's' : ''}: ${failed.map((f) => `"${f.rule}": ${f.feedback || 'no reason given'}`).join('; ')}`,
        { answer: result.output, guardrails: checks },
      );
    }
    extra = [
      { label: 'Your previous answer', text: result.output },
      { label: 'Why it was refused', text: failed.map((f) => `- ${f.rule}: ${f.feedback}`).join('\n') },
    ];
  }
}
