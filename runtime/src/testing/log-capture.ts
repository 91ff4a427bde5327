/** Test helper: the runtime's real logger (pino, JSON lines) writing into an array instead of stderr. */
import { createLogger, type LogLevel, type LogModule, type RuntimeLogger } from '../logging/logger.ts';

export interface CapturedLog {
  log: RuntimeLogger;
  /** Every line written, as JSON text. */
  lines: string[];
  /** The lines parsed. */
  entries(): Array<Record<string, unknown> & { level: string; msg: string }>;
}

export function captureLog(level: LogLevel = 'debug', levels?: Partial<Record<LogModule, LogLevel>>): CapturedLog {
  const lines: string[] = [];
  const log = createLogger({ level, levels, format: 'json', destination: { write: (line: string) => void lines.push(line) } });
  return { log, lines, entries: () => lines.map((line) => JSON.parse(line)) };
}
