/** A log entry kept by {@link captureLogger}. */
export interface LogEntry {
  readonly level: string;
  readonly fields: Record<string, unknown>;
  readonly message: string;
}

type LogFn = (fields: Record<string, unknown>, message: string) => void;

/** A pino-shaped logger (what `@handover/core` accepts) that keeps every entry. */
export interface CapturingLogger {
  readonly entries: LogEntry[];
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): CapturingLogger;
}

/** A logger that keeps every entry, with child bindings merged in; children share `entries`. */
export function captureLogger(
  entries: LogEntry[] = [],
  bindings: Record<string, unknown> = {},
): CapturingLogger {
  const at =
    (level: string): LogFn =>
    (fields, message) => {
      entries.push({ level, fields: { ...bindings, ...fields }, message });
    };
  return {
    entries,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (more) => captureLogger(entries, { ...bindings, ...more }),
  };
}

/** A pino-shaped logger that drops everything, for tests that do not look at logs. */
export const silentLogger: CapturingLogger = {
  entries: [],
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
