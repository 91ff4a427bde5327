/**
 * The logger each node gets: lines prefixed with the flow and node, cut to `logMessageChars`, and rate-limited per
 * node (a token bucket: `logPerSecond` on average, bursts up to ten times that). Dropped lines are counted and
 * reported once a second, so a node logging 1 MB fifty times writes a few hundred KB, not 50 MB.
 * On the runtime's logger (logging/logger.ts) the lines go to the `nodes` module with `flowId`, `nodeId` and, during
 * a run, `runId` as fields; the prefix stays in the message for people reading plain text.
 */
import type { Logger } from '@flowcrew/sdk';
import { TokenBucket } from 'limiter';
import type { NodeLimits } from '../config.ts';
import { isRuntimeLogger } from '../logging/logger.ts';

export type LogLimits = Pick<NodeLimits, 'logMessageChars' | 'logPerSecond'>;

export const DEFAULT_LOG_LIMITS: LogLimits = { logMessageChars: 8192, logPerSecond: 20 };

type Level = keyof Logger;

/** One node's allowance, shared by every logger made for that node (deploy, trigger start, tool calls). */
class Allowance {
  readonly bucket: TokenBucket;
  dropped = 0;
  private reporting: NodeJS.Timeout | undefined;

  constructor(
    private readonly limits: LogLimits,
    private readonly report: (dropped: number) => void,
  ) {
    this.bucket = new TokenBucket({ bucketSize: limits.logPerSecond * 10, tokensPerInterval: limits.logPerSecond, interval: 'second' });
    this.bucket.content = this.bucket.bucketSize;
  }

  take(): boolean {
    if (this.bucket.tryRemoveTokens(1)) return true;
    this.dropped++;
    if (!this.reporting) {
      this.reporting = setTimeout(() => {
        this.reporting = undefined;
        const dropped = this.dropped;
        this.dropped = 0;
        this.report(dropped);
      }, 1000);
      this.reporting.unref();
    }
    return false;
  }
}

/** Allowances per base logger and node, so loggers made at different times for one node share one. */
const allowances = new WeakMap<Logger, Map<string, Allowance>>();

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)} … [${text.length - max} more characters cut (FLOWCREW_LOG_MESSAGE_MAX_CHARS)]`;
}

export function createNodeLogger(base: Logger, node: { flowId: string; nodeId: string; label: string; runId?: string }, limits: LogLimits = DEFAULT_LOG_LIMITS): Logger {
  const prefix = `[${node.flowId}/${node.label}]`;
  const fields = node.runId === undefined ? { flowId: node.flowId, nodeId: node.nodeId } : { runId: node.runId, flowId: node.flowId, nodeId: node.nodeId };
  const out: Logger = isRuntimeLogger(base) ? base.module('nodes').child(fields) : base;
  let byNode = allowances.get(base);
  if (!byNode) allowances.set(base, (byNode = new Map()));
  const key = `${node.flowId}\u0000${node.nodeId}`;
  let allowance = byNode.get(key);
  if (!allowance) {
    // Not `out`: the drop count spans runs, so its warning carries the node, not the run that made this logger.
    const nodeOut = node.runId === undefined || !isRuntimeLogger(base) ? out : base.module('nodes').child({ flowId: node.flowId, nodeId: node.nodeId });
    allowance = new Allowance(limits, (dropped) =>
      nodeOut.warn(`${prefix} ${dropped} log message(s) dropped: more than ${limits.logPerSecond} per second (FLOWCREW_LOG_PER_SECOND)`),
    );
    byNode.set(key, allowance);
  }
  const line = allowance;
  const at =
    (level: Level) =>
    (message: string, data?: unknown): void => {
      if (!line.take()) return;
      out[level](`${prefix} ${cut(String(message), limits.logMessageChars)}`, data === undefined ? undefined : boundedData(data, limits.logMessageChars));
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Data attached to a log line is written as JSON: past the cap, only its cut text is. */
function boundedData(data: unknown, max: number): unknown {
  if (data === null || typeof data !== 'object') return typeof data === 'string' ? cut(data, max) : data;
  let json: string | undefined;
  try {
    json = JSON.stringify(data);
  } catch {
    return data;
  }
  return json !== undefined && json.length > max ? cut(json, max) : data;
}
