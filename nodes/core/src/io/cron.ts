/** cron: Flowcrew's schedule trigger (cron expression with optional seconds, optional time zone). */
import nodeCron, { type ScheduledTask } from 'node-cron';
import { defineNode, type FlowMessage } from '@flowcrew/sdk';

export interface CronProps {
  /** 5 fields (minute hour day month weekday) or 6 with seconds first. */
  expression: string;
  /** IANA time zone, e.g. 'Europe/Paris'; the server's zone when unset. */
  timezone?: string;
  /** Any JSON value, sent as msg.payload. */
  payload?: unknown;
}

/** Throws a readable Error when the expression or time zone is not usable. */
export function validateSchedule(expression: unknown, timezone?: unknown): void {
  if (typeof expression !== 'string' || expression.trim() === '') throw new Error('cron: expression is required');
  if (!nodeCron.validate(expression)) {
    const reasons = nodeCron.validateDetailed(expression).errors.map((e) => e.message);
    throw new Error(`cron: invalid expression "${expression}": ${reasons.join('; ') || 'not a cron expression'}`);
  }
  if (timezone !== undefined && timezone !== '') {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: String(timezone) });
    } catch {
      throw new Error(`cron: unknown time zone "${timezone}"`);
    }
  }
}

export const cronNode = defineNode<CronProps>({
  type: 'cron',
  category: 'trigger',
  clusterSingleton: true,
  label: 'schedule',
  icon: 'schedule',
  color: '#a6bbcf',
  inputs: 0,
  outputs: 1,
  props: {
    type: 'object',
    properties: {
      expression: { type: 'string', minLength: 1, default: '0 * * * *', format: 'cron', title: 'Schedule (cron)', description: 'e.g. "0 * * * *" (every hour); a leading sixth field gives seconds.' },
      timezone: { type: 'string', title: 'Time zone', description: 'IANA time zone, e.g. Europe/Paris; empty: the runtime\'s.' },
      payload: { title: 'Payload', description: 'Value sent as msg.payload.' },
    },
    required: ['expression'],
  },
  help: `Starts a flow on a cron schedule.

### Properties
- **expression**: five fields \`minute hour day-of-month month day-of-week\`, e.g. \`*/15 * * * *\` (every 15 minutes)
  or \`0 9 * * 1-5\` (09:00 on weekdays). Add a sixth field at the front for seconds: \`*/10 * * * * *\` fires every 10 seconds.
  Names (\`jan\`, \`mon\`), ranges, lists and steps are accepted. An invalid expression fails the deploy.
- **timezone**: the IANA time zone the schedule is read in (default: the server's).
- **payload**: any JSON value to send as \`msg.payload\`.

### Output
\`{ payload, topic: "cron", firedAt }\`, where \`firedAt\` is the ISO time of the scheduled tick.

### Running by hand
"Run now" sends your input message if it has a \`payload\`; otherwise it sends the configured payload, as a tick would.
`,
  create(init) {
    const { expression, timezone, payload } = init.props;
    validateSchedule(expression, timezone);
    // Each message gets its own copy: a downstream node changing the payload must not change the next tick's.
    const message = (firedAt: Date): FlowMessage => ({ payload: structuredClone(payload), topic: 'cron', firedAt: firedAt.toISOString() });
    let task: ScheduledTask | undefined;

    return {
      start(trigger) {
        task = nodeCron.createTask(
          expression,
          (tick) => {
            trigger.emit(message(tick.date)).catch((error: unknown) => trigger.log.error(`cron: could not start a run: ${(error as Error).message}`));
          },
          {
            name: `cron ${init.id}`,
            timezone: timezone || undefined,
            logger: {
              info: (m) => trigger.log.info(m),
              warn: (m) => trigger.log.warn(m),
              error: (m) => trigger.log.error(String(m)),
              debug: (m) => trigger.log.debug(String(m)),
            },
          },
        );
        void task.start();
      },
      async stop() {
        const stopping = task;
        task = undefined;
        await stopping?.destroy();
      },
      onInput(msg) {
        return msg.payload !== undefined ? msg : { ...msg, ...message(new Date()) };
      },
    };
  },
});
