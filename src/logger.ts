import { ConfigError, InvalidOptionError } from "./errors.js";

/**
 * What the runtime logs through. `durable.start({ logger })` takes any object
 * with these four methods: console, pino, winston and the like all fit.
 */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
const METHODS = ["debug", "info", "warn", "error"] as const;

/** DURABLE_LOG_LEVEL, checked: a typo there would otherwise silence (or flood) the logs without a word. */
export function logLevelFromEnv(value = process.env.DURABLE_LOG_LEVEL): LogLevel {
  if (value === undefined || value === "") return "info";
  const level = value.trim().toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(level)) return level as LogLevel;
  throw new ConfigError(`DURABLE_LOG_LEVEL=${JSON.stringify(value)} is not a log level: use one of ${LOG_LEVELS.join(", ")}.`);
}

/** JSON lines on stderr (one object per line: level, time, msg, fields), at or above `level`. */
export function defaultLogger(level: LogLevel = logLevelFromEnv()): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const write = (at: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(at) < min) return;
    process.stderr.write(JSON.stringify({ level: at, time: new Date().toISOString(), msg: message, ...fields }) + "\n");
  };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}

/**
 * pino and bunyan take the fields first (`log.warn({ jobId }, "msg")`); given
 * a message first they drop the fields. They are told apart by what they
 * carry: pino's `levels.values`, bunyan's `levels()` with `child()`.
 */
function fieldsFirst(logger: object): boolean {
  const l = logger as { child?: unknown; levels?: unknown; [Symbol.toStringTag]?: unknown };
  if (l[Symbol.toStringTag] === "Pino") return true;
  if (typeof l.child !== "function") return false;
  const levels = l.levels as { values?: unknown } | (() => unknown) | undefined;
  return typeof levels === "function" || (typeof levels === "object" && levels !== null && typeof levels.values === "object");
}

/**
 * The user's logger, adapted: the fields go where that logger expects them,
 * and a logger that throws never takes the runner down with it.
 */
export function adaptLogger(input: unknown): Logger {
  if (input === undefined) return defaultLogger();
  if (typeof input !== "object" || input === null || METHODS.some((m) => typeof (input as Record<string, unknown>)[m] !== "function")) {
    throw new InvalidOptionError("logger", "expected an object with debug, info, warn and error methods (console and pino fit).");
  }
  const target = input as Record<(typeof METHODS)[number], (...args: unknown[]) => void>;
  const swap = fieldsFirst(input);
  const call = (method: (typeof METHODS)[number]) => (message: string, fields?: Record<string, unknown>) => {
    try {
      if (fields === undefined) target[method](message);
      else if (swap) target[method](fields, message);
      else target[method](message, fields);
    } catch {
      /* a broken logger must not break job processing */
    }
  };
  return { debug: call("debug"), info: call("info"), warn: call("warn"), error: call("error") };
}

/** A connection string fit for a log line: the password replaced by "***". */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    for (const key of ["password", "sslpassword"]) if (parsed.searchParams.has(key)) parsed.searchParams.set(key, "***");
    return parsed.toString();
  } catch {
    // Not a URL (a libpq key=value string): drop any password=… pair.
    return url.replace(/(password\s*=\s*)('[^']*'|\S+)/gi, "$1***");
  }
}
