/**
 * human-input: wait for a person's approval or answer, in any flow. The run waits in status `waiting` with no process
 * holding it (restarts included) until someone answers in the editor, by API or by the signed link a notify flow
 * sends, or until the timeout gives the chosen outcome.
 */
import { defineNode, getProperty, type JsonSchema, type WaitRequest } from '@flowcrew/sdk';

export interface HumanInputProps {
  mode?: 'approval' | 'form';
  title?: string;
  message?: string;
  /** mode form: JSON Schema of the answer. */
  schema?: JsonSchema;
  /** Message property shown with the question (the thing to review). */
  show?: string;
  users?: string[];
  roles?: string[];
  timeoutSeconds?: number;
  onTimeout?: 'reject' | 'approve' | 'fail' | 'answer';
  timeoutAnswer?: unknown;
  escalateAfterSeconds?: number;
  escalateToUsers?: string[];
  escalateToRoles?: string[];
  notifyFlow?: string;
}

const PROJECT_ROLES = ['owner', 'editor', 'operator', 'viewer'];

export const humanInputNode = defineNode<HumanInputProps>({
  type: 'human-input',
  category: 'flow',
  label: 'wait for approval',
  icon: 'approval',
  color: '#f3d37a',
  inputs: 1,
  outputs: 2,
  outputLabels: ['approved / answered', 'rejected'],
  props: {
    type: 'object',
    properties: {
      mode: { enum: ['approval', 'form'], default: 'approval', title: 'Ask for', description: 'approval: approve or reject, with a comment. form: an answer matching the schema below.' },
      title: { type: 'string', minLength: 1, default: 'Approval needed', title: 'Question' },
      message: { type: 'string', default: '', title: 'Details', description: 'Markdown; {{payload}}-style placeholders are not filled: put what to review in "Show".' },
      show: { type: 'string', default: 'payload', title: 'Show property', description: 'Message property shown with the question (empty: nothing).' },
      schema: { type: 'object', default: { type: 'object', properties: { answer: { type: 'string', title: 'Answer' } }, required: ['answer'] }, title: 'Answer form (JSON Schema)', 'x-editor': 'code' },
      users: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], title: 'Who may answer: users', description: 'User names; with no users and no roles, anyone who may start runs in the project.' },
      roles: { type: 'array', items: { enum: PROJECT_ROLES }, default: [], title: 'Who may answer: project roles' },
      timeoutSeconds: { type: 'integer', minimum: 0, default: 0, title: 'Timeout (s)', description: '0: wait for ever.' },
      onTimeout: { enum: ['reject', 'approve', 'fail', 'answer'], default: 'reject', title: 'At timeout', description: 'approve/reject: that outcome; answer: the timeout answer below; fail: the node fails.' },
      timeoutAnswer: { title: 'Timeout answer', description: 'For "answer": the answer used at timeout.' },
      escalateAfterSeconds: { type: 'integer', minimum: 0, default: 0, title: 'Escalate after (s)', description: '0: no escalation.' },
      escalateToUsers: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], title: 'Escalate to users' },
      escalateToRoles: { type: 'array', items: { enum: PROJECT_ROLES }, default: [], title: 'Escalate to project roles' },
      notifyFlow: { type: 'string', default: '', title: 'Notify flow', description: 'Id of a deployed flow started (at its inject node) with msg.payload = {title, message, link, ...} when asked and when escalated: send the link by mail or chat.' },
    },
  },
  help: `Pauses the run until a person answers, then sends the message on.

**Approval**: the person approves (output 1) or rejects (output 2), with an optional comment. **Form**: the answer must match
the JSON Schema in *Answer form*; it goes out on output 1.

\`msg.approval\` = \`{answer, approved, by, via, at, timedOut}\` (\`via\`: editor, api, link or timeout).

While it waits the run's status is **waiting**: no process holds it, so it survives restarts and costs nothing. Waiting
questions are listed in the editor's *Waiting* panel and at \`GET /api/v1/waits\`, answered there or at
\`POST /api/v1/waits/{id}/answer\`, or through a **signed link** (single use, expires with the timeout or after 7 days)
that a *Notify flow* receives to send by mail or chat.

**Who may answer**: users and/or project roles (instance admins and project owners always may); none: anyone who may
start runs in the project. **Timeout**: after it, the chosen outcome applies (or the node fails). **Escalation**: after
*Escalate after*, the escalation users/roles may answer too, the notify flow is started again with \`escalated: true\`,
and the audit log records it.`,
  create(init) {
    const props = init.props;
    const approval = (props.mode ?? 'approval') === 'approval';
    const timeoutAnswer = () => {
      switch (props.onTimeout ?? 'reject') {
        case 'approve':
          return { approved: true, comment: 'approved at timeout' };
        case 'reject':
          return { approved: false, comment: 'rejected at timeout' };
        case 'answer':
          return props.timeoutAnswer ?? null;
        default:
          return undefined;
      }
    };
    return {
      async onInput(msg, ctx) {
        if (!ctx.waitForInput) throw new Error('this runtime cannot wait for people (its host gives nodes no waitForInput)');
        const request: WaitRequest = {
          title: props.title ?? 'Approval needed',
          message: props.message || undefined,
          ...(approval ? {} : { schema: props.schema }),
          context: props.show ? getProperty(msg, props.show) : undefined,
          assignees: { users: props.users ?? [], roles: props.roles ?? [] },
          timeoutMs: (props.timeoutSeconds ?? 0) * 1000,
          ...(props.onTimeout === 'fail' ? {} : { timeoutAnswer: timeoutAnswer() }),
          ...(props.escalateAfterSeconds ? { escalation: { afterMs: props.escalateAfterSeconds * 1000, users: props.escalateToUsers ?? [], roles: props.escalateToRoles ?? [] } } : {}),
          ...(props.notifyFlow ? { notifyFlow: props.notifyFlow } : {}),
        };
        ctx.status({ fill: 'yellow', shape: 'ring', text: 'waiting for an answer' });
        const answer = await ctx.waitForInput(request);
        if (answer.timedOut && props.onTimeout === 'fail') throw new Error(`no answer to "${request.title}" within ${props.timeoutSeconds} s`);
        const approved = approval ? (answer.answer as { approved?: boolean } | null)?.approved === true : true;
        ctx.status({ fill: approved ? 'green' : 'red', shape: 'dot', text: `${approved ? 'approved' : 'rejected'}${answer.by ? ` by ${answer.by}` : answer.timedOut ? ' at timeout' : ''}` });
        const out = { ...msg, approval: { ...answer, approved } };
        return approved ? [out, null] : [null, out];
      },
    };
  },
});
