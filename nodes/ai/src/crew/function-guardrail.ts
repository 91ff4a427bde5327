/**
 * CrewAI's function guardrails, in JavaScript: the code runs in the function node's sandbox (isolated-vm in a sandbox
 * process, with its time and memory limits), reached through ctx.callTool, so each check is its own recorded
 * invocation in the run and nothing the code does touches the host. Like CrewAI's `(bool, Any)` guardrails it may
 * pass the answer, refuse it with a reason (the task is redone with that reason), or pass a replacement answer.
 */
import type { JsonSchema } from '@flowcrew/sdk';
import type { GuardrailFunction, GuardrailVerdict } from './crew.ts';

/** The node type whose sandbox runs the code. */
export const GUARDRAIL_NODE_TYPE = 'function';
/** Seconds one check may run. */
const TIME_LIMIT_S = 5;

export const guardrailFunctionSchema: JsonSchema = {
  type: 'string',
  minLength: 1,
  format: 'javascript',
  description:
    'JavaScript checking the answer (CrewAI function guardrail), run in the function sandbox: the body of an async function of ' +
    '(output, json, task) returning true, false, [valid, feedbackOrReplacement] or {valid, feedback}.',
};

/**
 * The function node's `func`: the author's code is the body of `async (output, json, task) => …`; what it returns
 * travels back as msg.payload (an array returned bare would be read as one message per output port).
 */
export function sandboxCode(code: string): string {
  return `const verdict = await (async (output, json, task) => {\n${code}\n})(msg.payload.output, msg.payload.json, msg.payload.task);\nreturn { payload: verdict === undefined ? null : verdict };`;
}

export function functionGuardrail(code: string, task: { key: string; description: string; expectedOutput?: string }): GuardrailFunction {
  const where = `the guardrail function of task "${task.key}"`;
  return {
    label: 'function',
    async check(answer, env) {
      const outputs = await env.callTool({
        type: GUARDRAIL_NODE_TYPE,
        props: { func: sandboxCode(code), outputs: 1, timeout: TIME_LIMIT_S },
        input: { payload: { output: answer.output, json: answer.json ?? null, task } },
        label: `guardrail of task "${task.key}"`,
      });
      if (outputs.length === 0) throw new Error(`${where} sent no answer: return true, false, [valid, value] or {valid, feedback}`);
      return verdictOf(outputs[0]!.payload, where);
    },
  };
}

/** What the code returned, read as CrewAI reads a guardrail's result. */
export function verdictOf(value: unknown, where: string): GuardrailVerdict {
  if (value === true) return { valid: true, feedback: '' };
  if (value === false) return { valid: false, feedback: `${where} returned false` };
  if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'boolean') {
    const [valid, detail] = value as [boolean, unknown];
    if (!valid) return { valid, feedback: text(detail) || `${where} refused the answer` };
    if (detail === undefined || detail === null) return { valid, feedback: '' };
    return { valid, feedback: '', replacement: typeof detail === 'string' ? { output: detail } : { output: JSON.stringify(detail), json: detail } };
  }
  if (value && typeof value === 'object' && typeof (value as { valid?: unknown }).valid === 'boolean') {
    const { valid, feedback } = value as { valid: boolean; feedback?: unknown };
    return { valid, feedback: text(feedback) || (valid ? '' : `${where} refused the answer`) };
  }
  throw new Error(`${where} returned ${JSON.stringify(value)?.slice(0, 200) ?? String(value)}: return true, false, [valid, feedbackOrReplacement] or {valid, feedback}`);
}

function text(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
