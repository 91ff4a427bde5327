/**
 * The runtime's log: pino, one JSON object per line on stderr (stdout stays free for what CLI commands print), or
 * human-readable lines through pino-pretty when FLOWCREW_LOG_FORMAT=pretty or stderr is a terminal. Each part of
 * the runtime logs through its module's logger (`module: "executor"` on its lines), whose level can be set apart
 * (FLOWCREW_LOG_LEVELS="executor=debug,api=warn"); lines about a run, flow or node carry `runId`, `flowId`,
 * `nodeId` as fields (`child()`). Packs keep the SDK's plain Logger: (message, data) becomes `msg` and `data`.
 */
import { lazyRequire, type Logger } from '@flowcrew/sdk';
import { pino, type DestinationStream, type Logger as Pino } from 'pino';

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The modules with a level of their own. runtime: start, stop, boot, retention; executor: runs and invocations;
 * nodes: what nodes log (node.warn...); api: REST errors; webhook: webhook refusals and failures; identity: sign-in,
 * tokens, audit; storage; vault: credential keys; live: Socket.IO; metrics.
 */
export const LOG_MODULES = ['runtime', 'executor', 'nodes', 'api', 'webhook', 'identity', 'storage', 'vault', 'live', 'metrics'] as const;
export type LogModule = (typeof LOG_MODULES)[number];

export type LogFormat = 'json' | 'pretty';

export interface LogOptions {
  level: LogLevel;
  /** Level per module; modules not listed log at `level`. */
  levels?: Partial<Record<LogModule, LogLevel>>;
  /** Default: 'pretty' when the destination is stderr and stderr is a terminal, else 'json'. */
  format?: LogFormat;
  /** Where lines go (default stderr). Tests hand in a collector; anything with write(line). */
  destination?: { write(line: string): unknown };
}

/** The SDK Logger, plus fields and modules. Everything in the runtime that logs takes an SDK Logger and uses these when present. */
export interface RuntimeLogger extends Logger {
  /** A logger whose lines carry these fields as well (runId, flowId, nodeId...). */
  child(fields: Record<string, unknown>): RuntimeLogger;
  /** The logger of one module, at that module's level. */
  module(name: LogModule): RuntimeLogger;
  /** The pino logger underneath (for libraries that take one). */
  readonly pino: Pino;
}

type Level = Exclude<LogLevel, 'silent'>;

class PinoLogger implements RuntimeLogger {
  constructor(
    readonly pino: Pino,
    private readonly modules: (name: LogModule) => RuntimeLogger,
  ) {}

  debug(message: string, data?: unknown): void {
    this.write('debug', message, data);
  }
  info(message: string, data?: unknown): void {
    this.write('info', message, data);
  }
  warn(message: string, data?: unknown): void {
    this.write('warn', message, data);
  }
  error(message: string, data?: unknown): void {
    this.write('error', message, data);
  }

  child(fields: Record<string, unknown>): RuntimeLogger {
    return new PinoLogger(this.pino.child(fields), this.modules);
  }

  module(name: LogModule): RuntimeLogger {
    return this.modules(name);
  }

  private write(level: Level, message: string, data: unknown): void {
    if (!this.pino.isLevelEnabled(level)) return;
    // An Error goes under `err` (pino serialises message, stack and cause); anything else under `data`, never merged
    // into the line's own fields, so a node cannot forge runId or level.
    if (data === undefined) this.pino[level](message);
    else if (data instanceof Error) this.pino[level]({ err: data }, message);
    else this.pino[level]({ data }, message);
  }
}

/** pino-pretty, loaded only when pretty lines are asked for. */
const pinoPretty = lazyRequire<{ prettyFactory: (options: Record<string, unknown>) => (line: string) => string }>('pino-pretty', import.meta.url);

/** Plain text lines through pino-pretty's formatter, written synchronously like the JSON lines. */
function prettyLines(target: { write(line: string): unknown }, colorize: boolean): DestinationStream {
  const { prettyFactory } = pinoPretty();
  const format = prettyFactory({ colorize, translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l', ignore: 'pid,hostname' });
  return { write: (line: string) => void target.write(format(line)) };
}

/** A logger from explicit options, or just a level (JSON or pretty per the terminal, every module at that level). */
export function createLogger(options: LogOptions | LogLevel): RuntimeLogger {
  const opts: LogOptions = typeof options === 'string' ? { level: options } : options;
  const format = opts.format ?? (!opts.destination && process.stderr.isTTY ? 'pretty' : 'json');
  // Synchronous writes: a line logged just before a crash is written, not left in a buffer that dies with the process.
  const sink = opts.destination ?? pino.destination({ fd: 2, sync: true });
  const destination = format === 'pretty' ? prettyLines(sink, !opts.destination && process.stderr.isTTY === true) : (sink as DestinationStream);
  const root = pino(
    {
      level: opts.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names, not numbers: what people grep for and what log shippers map without configuration.
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
  const cache = new Map<LogModule, RuntimeLogger>();
  const modules = (name: LogModule): RuntimeLogger => {
    let logger = cache.get(name);
    if (!logger) {
      logger = new PinoLogger(root.child({ module: name }, { level: opts.levels?.[name] ?? opts.level }), modules);
      cache.set(name, logger);
    }
    return logger;
  };
  return new PinoLogger(root, modules);
}

export function isRuntimeLogger(log: Logger): log is RuntimeLogger {
  return typeof (log as Partial<RuntimeLogger>).child === 'function' && typeof (log as Partial<RuntimeLogger>).module === 'function';
}

/** `log` with these fields on its lines; a plain SDK Logger (a test's recorder) is returned as it is. */
export function withFields(log: Logger, fields: Record<string, unknown>): Logger {
  return isRuntimeLogger(log) ? log.child(fields) : log;
}

/** The module's logger when `log` is a RuntimeLogger; a plain SDK Logger is returned as it is. */
export function moduleLogger(log: Logger, name: LogModule): Logger {
  return isRuntimeLogger(log) ? log.module(name) : log;
}

/** FLOWCREW_LOG_LEVEL. */
export function parseLogLevel(name: string, value: string | undefined, fallback: LogLevel): LogLevel {
  if (value === undefined || value === '') return fallback;
  const level = value.toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`${name} must be one of ${LOG_LEVELS.join(', ')} (got "${value}")`);
  return level as LogLevel;
}

/** FLOWCREW_LOG_LEVELS="executor=debug,api=warn": a typo in a module or level stops the start, named. */
export function parseLogLevels(value: string | undefined): Partial<Record<LogModule, LogLevel>> {
  const levels: Partial<Record<LogModule, LogLevel>> = {};
  for (const entry of (value ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, level, extra] = entry.split('=').map((s) => s.trim());
    if (!name || level === undefined || extra !== undefined) throw new Error(`FLOWCREW_LOG_LEVELS: "${entry}" is not module=level (e.g. executor=debug)`);
    if (!(LOG_MODULES as readonly string[]).includes(name)) throw new Error(`FLOWCREW_LOG_LEVELS: unknown module "${name}" (known: ${LOG_MODULES.join(', ')})`);
    levels[name as LogModule] = parseLogLevel(`FLOWCREW_LOG_LEVELS (${name})`, level, 'info');
  }
  return levels;
}

/** FLOWCREW_LOG_FORMAT: json, pretty, or unset/auto (pretty on a terminal). */
export function parseLogFormat(value: string | undefined): LogFormat | undefined {
  if (value === undefined || value === '' || value === 'auto') return undefined;
  if (value === 'json' || value === 'pretty') return value;
  throw new Error(`FLOWCREW_LOG_FORMAT must be json, pretty or auto (got "${value}")`);
}
