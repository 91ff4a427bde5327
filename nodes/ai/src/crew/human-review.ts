/**
 * CrewAI's `human_input: true`: after a task's answer, a person reviews it. Accepting (or an empty feedback, as in
 * CrewAI) lets the crew go on; feedback sends the task back to its agent with the feedback, and the new answer is
 * reviewed again. The question goes through ctx.waitForInput, so the run waits durably (status `waiting`, no
 * process holding it) and the crew invocation runs again once answered: each round's draft is kept as a step of the
 * crew (checkpoint.ts), so the person's feedback applies to the very answer they saw and no model call is repeated.
 */
import type { JsonSchema, WaitAnswer, WaitRequest } from '@flowcrew/sdk';
import type { AgentEnvironment } from '../agents/agent.ts';
import type { CrewResume, StepMark } from './checkpoint.ts';
import type { CrewTask, CrewTaskOutcome } from './crew.ts';

export const FEEDBACK_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['approved'],
  properties: {
    approved: { type: 'boolean', title: 'Accept this answer' },
    feedback: { type: 'string', title: 'Feedback for the agent (when not accepted)' },
  },
};

/** Who is asked and for how long (the crew node's humanInput settings). */
export type HumanQuestion = Pick<WaitRequest, 'assignees' | 'timeoutMs' | 'escalation' | 'notifyFlow'>;

export interface HumanReviewer {
  ask(request: WaitRequest): Promise<WaitAnswer>;
  question?: HumanQuestion;
}

export interface HumanReview {
  round: number;
  approved: boolean;
  feedback: string;
  by: string | null;
  via: WaitAnswer['via'];
  timedOut: boolean;
}

type Context = Array<{ label: string; text: string }>;

export async function withHumanReview(
  task: CrewTask,
  reviewer: HumanReviewer | undefined,
  resume: CrewResume | undefined,
  clock: () => () => StepMark,
  env: AgentEnvironment,
  first: () => Promise<CrewTaskOutcome>,
  redo: (more: Context) => Promise<CrewTaskOutcome>,
): Promise<CrewTaskOutcome> {
  if (!task.humanInput) return first();
  if (!reviewer) throw new Error(`task "${task.key}" asks for human input, but this runtime cannot wait for people`);
  const drafted = async (round: number, make: () => Promise<CrewTaskOutcome>) => {
    const kept = resume?.draft(task.key, round);
    if (kept) return kept;
    const timed = clock();
    const made = await make();
    await resume?.saveDraft(task.key, round, made, timed());
    return made;
  };
  let result = await drafted(0, first);
  const reviews: HumanReview[] = [];
  for (let round = 0; ; round++) {
    env.progress({ type: 'note', task: task.key, agent: result.agent, text: `asking a person to review the answer${round ? ` (revision ${round})` : ''}` });
    const reply = await reviewer.ask({
      ...reviewer.question,
      key: `task:${task.key}:${round}`,
      title: `Review the answer to task "${task.key}"${round ? ` (revision ${round})` : ''}`,
      message: `${task.description}${task.expectedOutput ? `\n\nExpected: ${task.expectedOutput}` : ''}\n\nAccept the answer, or say what to change: the agent (${result.agent}) then revises it.`,
      schema: FEEDBACK_SCHEMA,
      context: { task: task.key, agent: result.agent, answer: result.output },
    });
    // No answer by the timeout: the answer stands (noted), as a person who said nothing in CrewAI's prompt.
    const given = (reply.answer ?? { approved: true }) as { approved?: boolean; feedback?: string };
    const feedback = (given.feedback ?? '').trim();
    const approved = given.approved === true;
    reviews.push({ round, approved, feedback, by: reply.by, via: reply.via, timedOut: reply.timedOut });
    if (approved) return { ...result, humanReviews: reviews, notes: reply.timedOut ? [...result.notes, 'no human review before the timeout: the answer was accepted as it was'] : result.notes };
    const previous = result;
    result = await drafted(round + 1, () =>
      redo([
        { label: 'Your previous answer', text: previous.output },
        { label: `Feedback from ${reply.by ?? 'a person'}`, text: feedback || 'The answer was not accepted. Improve it.' },
      ]),
    );
  }
}
