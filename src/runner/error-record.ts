import type { RecordedError } from "../errors.js";
import { storableText, truncateText } from "../serialize/text.js";

// A closure may throw anything: an Error whose message is an object, whose
// getters throw, whose cause chain loops, a string, null, a symbol, a Proxy
// that throws on every access. Every one of them must become a recorded
// error (the attempt is spent), so nothing here may throw, and every text
// that reaches the database goes through storableText().

const MAX_MESSAGE = 10_000;
const MAX_STACK = 20_000;
const MAX_CAUSES = 5;

/** Runs `read`, returning `fallback` if it throws (hostile getters, revoked proxies). */
function safely<T>(read: () => T, fallback: T): T {
  try {
    return read();
  } catch {
    return fallback;
  }
}

const text = (value: string, max: number) => storableText(truncateText(value, max));

/** A short description of any value, for a thrown non-error or a non-string field. */
export function describeThrown(value: unknown): string {
  switch (typeof value) {
    case "string":
      return value;
    case "symbol":
      return safely(() => value.toString(), "Symbol()");
    case "undefined":
      return "undefined";
    case "function":
      return `a function ${safely(() => value.name, "") || "(anonymous)"}`;
    case "object":
      if (value === null) return "null";
      return safely(() => JSON.stringify(value), undefined) ?? safely(() => Object.prototype.toString.call(value), "[object]");
    default:
      return String(value);
  }
}

function isError(value: unknown): value is Error {
  return safely(() => value instanceof Error, false);
}

function field(error: object, key: string): unknown {
  return safely(() => (error as Record<string, unknown>)[key], undefined);
}

function messageOf(error: unknown): string {
  if (!isError(error)) return `non-error thrown: ${describeThrown(error)}`;
  const message = field(error, "message");
  return typeof message === "string" ? message : describeThrown(message);
}

/** "Caused by:" lines for the error's cause chain, bounded and cycle-safe. */
function causeLines(error: unknown): string {
  const seen = new Set<unknown>([error]);
  let lines = "";
  let cause = typeof error === "object" && error !== null ? field(error, "cause") : undefined;
  for (let depth = 0; cause !== undefined && depth < MAX_CAUSES; depth++) {
    if (seen.has(cause)) return `${lines}\nCaused by: (a cycle back to an error above)`;
    seen.add(cause);
    const name = isError(cause) ? field(cause, "name") : undefined;
    lines += `\nCaused by: ${typeof name === "string" ? `${name}: ` : ""}${messageOf(cause)}`;
    cause = typeof cause === "object" && cause !== null ? field(cause, "cause") : undefined;
  }
  return lines;
}

/** The recorded form of whatever was thrown: safe text, never throws. */
export function recordError(error: unknown, attempt: number, at = new Date()): RecordedError {
  const recorded: RecordedError = { attempt, at: at.toISOString(), message: text(messageOf(error), MAX_MESSAGE) };
  if (!isError(error)) return { ...recorded, name: "NonError" };
  const name = field(error, "name");
  const stack = field(error, "stack");
  const code = field(error, "code");
  recorded.name = typeof name === "string" ? text(name, 200) : "Error";
  const causes = causeLines(error);
  if (typeof stack === "string" || causes) recorded.stack = text(`${typeof stack === "string" ? stack : ""}${causes}`, MAX_STACK);
  if (typeof code === "string" || typeof code === "number") recorded.code = text(String(code), 200);
  return recorded;
}

/** The error's first line, for log lines. */
export function firstLine(recorded: RecordedError): string {
  const line = recorded.message.split("\n", 1)[0] ?? "";
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/** An Error for listeners and callers: the thrown value when it is one, else one carrying the recorded message. */
export function asError(thrown: unknown, message: string): Error {
  return safely(() => thrown instanceof Error, false) ? (thrown as Error) : new Error(message);
}
