import { InvalidArgumentError, type Command } from "commander";
import type pg from "pg";
import { Admin } from "../admin/index.js";
import { isScoped as scoped, parseDateText, parseMetaPairs, parseStates, type JobFilter } from "../admin/filter.js";
import { parseDuration } from "../config/duration.js";
import { validateQueueName } from "../config/options.js";
import { isJobId } from "../config/job-id.js";
import { resolveDatabase, schemaVersion, validateSchemaName } from "../db/index.js";
import { connectionStringProblem } from "../db/connection-string.js";
import { DurableError, InvalidOptionError } from "../errors.js";
import { normalizeFilter } from "../reports/filter.js";
import { safeJson, terminalSafe } from "./safe-text.js";

// What every command shares: connection options, argument parsers that turn
// a bad value into an error naming the argument and the fix, and the one
// error type the entry point prints without a stack trace.

/** A user-facing failure: printed as "error: <message>", exit code 1 (2 for usage). */
export class CliError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = "CliError";
  }
}

export interface ConnectionOptions {
  database?: string;
  schema?: string;
}

export function withConnection(command: Command): Command {
  return command
    .option("--database <url>", "PostgreSQL connection string (default: $DATABASE_URL, else the embedded dev server)", databaseArg)
    .option("--schema <name>", "schema holding durable's tables (default: $DURABLE_SCHEMA or \"durable\")", schemaArg);
}

/** Not commander's InvalidArgumentError: its message would repeat the value, and a URL may hold a password. */
export function databaseArg(value: string): string {
  const problem = connectionStringProblem(value);
  if (problem) throw new CliError(`option '--database' ${problem}.`, 2);
  return value;
}

export function schemaArg(value: string): string {
  try {
    return validateSchemaName(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

export function intArg(min: number, max: number, what: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`expected ${what}: an integer from ${min} to ${max}.`);
    return n;
  };
}

export function durationArg(value: string): number {
  try {
    return parseDuration("duration", value);
  } catch {
    throw new InvalidArgumentError(`"${value}" is not a duration; use forms like "30s", "5m", "1h30m" or "7d".`);
  }
}

export function dateArg(value: string): Date {
  const d = /^\d+[smhdw]/.test(value) ? new Date(Date.now() - durationArg(value)) : (parseDateText(value) ?? new Date(NaN));
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError(`"${value}" is not a date; use 2026-01-31, 2026-01-31T12:00Z, or an age like 2h (meaning 2 hours ago).`);
  return d;
}

export function queueArg(value: string): string {
  try {
    return validateQueueName("queue", value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^Invalid option `queue`: /, ""));
  }
}

export function stateArg(value: string, previous: string[] = []): string[] {
  try {
    return [...new Set([...previous, ...parseStates(value)])];
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^Invalid option `state`: /, ""));
  }
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function jobIdArg(value: string): string {
  if (!isJobId(value)) throw new InvalidArgumentError(`"${value}" is not a job id; ids are positive integers up to 9223372036854775807 (see \`durable jobs list\`).`);
  return value;
}

/** Filter options shared by jobs list/retry/cancel/delete/export. */
export function withFilter(command: Command): Command {
  return command
    .option("--state <state>", "available|scheduled|executing|retryable|waiting|completed|discarded|cancelled, or a group: pending|failed|sent|active|finished (repeatable, or comma-separated)", stateArg)
    .option("--queue <queue>", "only this queue", queueArg)
    .option("--task <id>", "only this task id (a trailing * matches a prefix)")
    .option("--meta <key=value>", "meta containment, e.g. orgId=42 (repeatable)", collect)
    .option("--tag <tag>", "jobs carrying this tag (repeatable)", collect)
    .option("--since <date>", "inserted at or after (a date, or an age like 2h)", dateArg)
    .option("--until <date>", "inserted before (a date, or an age like 30m)", dateArg)
    .option("--waiting-for-node", "only due jobs no live node can run (no node has their task, or that version of it)");
}

export function filterFrom(options: Record<string, any>, ids: string[] = []): JobFilter {
  let meta: Record<string, unknown> | undefined;
  try {
    meta = parseMetaPairs(options.meta ?? [], "--meta");
  } catch (error) {
    throw new CliError(`${(error as Error).message.replace(/^Invalid option `--meta`: /, "option '--meta': ")}`, 2);
  }
  const filter: JobFilter = {};
  if (ids.length) filter.ids = ids;
  if (options.state?.length) filter.state = options.state;
  if (options.queue) filter.queue = options.queue;
  if (options.task) filter.task = options.task;
  if (meta) filter.meta = meta;
  if (options.tag?.length) filter.tags = options.tag;
  if (options.since) filter.since = options.since;
  if (options.until) filter.until = options.until;
  if (options.waitingForNode) filter.waitingForNode = true;
  try {
    normalizeFilter(filter);
  } catch (error) {
    if (!(error instanceof InvalidOptionError)) throw error;
    // Name the flag the user typed, not the filter key it became.
    const [, key = "", rest = ""] = /^filter\.([a-z]+)(.*)$/.exec(error.option) ?? [];
    const flag = key === "ids" || key === "id" ? "job ids" : `option '--${key === "tags" ? "tag" : key}'`;
    throw new CliError(`${flag}${rest ? ` (at ${key}${rest})` : ""}: ${error.message.replace(/^Invalid option `[^`]*`: /, "")}`, 2);
  }
  return filter;
}

export const isScoped = scoped;

/** Resolves --database / DATABASE_URL and checks the connection; a failure says which setting to check. */
export async function connectDatabase(options: ConnectionOptions, poolSize: number): Promise<Awaited<ReturnType<typeof resolveDatabase>>> {
  let db;
  try {
    db = await resolveDatabase(options.database, poolSize);
    await db.pool.query("select 1");
    return db;
  } catch (error) {
    await db?.pool.end().catch(() => undefined);
    if (error instanceof DurableError) throw error;
    throw new CliError(`cannot connect to the database: ${(error as Error).message}. Check --database / DATABASE_URL.`);
  }
}

/** Opens a pool and the admin API; fails with the fix when the schema was never migrated. */
export async function openAdmin(options: ConnectionOptions): Promise<{ admin: Admin; pool: pg.Pool; close: () => Promise<void> }> {
  const schema = options.schema ?? validateSchemaName(process.env.DURABLE_SCHEMA ?? "durable");
  const { pool } = await connectDatabase(options, 3);
  if ((await schemaVersion(pool, schema)) === 0) {
    await pool.end();
    throw new CliError(`schema "${schema}" has no durable tables. Run \`durable migrate --schema ${schema}\` first, or pass the right --schema.`);
  }
  return { admin: new Admin(pool, schema), pool, close: () => pool.end() };
}

/** Runs `fn` with an admin connection and always closes it. */
export async function withAdmin<T>(options: ConnectionOptions, fn: (admin: Admin) => Promise<T>): Promise<T> {
  const { admin, close } = await openAdmin(options);
  try {
    return await fn(admin);
  } finally {
    await close().catch(() => undefined);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(safeJson(JSON.stringify(value, (_, v) => (typeof v === "bigint" ? v.toString() : v), 2)) + "\n");
}

/** One error line for stderr; a message may quote stored names and values, so control characters are shown as text. */
export function describeError(error: unknown): string {
  const message = error instanceof CliError || error instanceof DurableError ? error.message : error instanceof Error ? error.message : String(error);
  return terminalSafe(message, { keepLines: true });
}
