import type pg from "pg";
import { connectionStringProblem } from "../db/connection-string.js";
import { ConfigError, InvalidOptionError } from "../errors.js";
import { adaptLogger, type Logger } from "../logger.js";
import { describe, formatDuration, parseDuration } from "./duration.js";
import { DEFAULT_MAX_CAPTURE_BYTES, DEFAULT_MAX_CLAIM_BYTES, describeMs, MAX_DUE_DELAY_MS, MAX_TIMER_MS } from "./limits.js";
import { queueForNodeType, validateQueueName } from "./options.js";
import { didYouMean, knownNodeTypes as declaredNodeTypes } from "../contract/index.js";
import { validateSchemaName } from "../db/schema.js";
import { resolveEncryption, type EncryptionOptions, type KeyRing } from "../serialize/encryption.js";

export type BodyHashPolicy = "run-if-captures-match" | "always" | "hold";

export interface StartOptions {
  /** Connection string, pg.Pool or pool settings. Default: DATABASE_URL, else the embedded server. */
  database?: string | pg.Pool | pg.PoolConfig;
  /**
   * A direct (unpooled) connection for LISTEN, when `database` goes through a
   * transaction-mode pooler such as PgBouncer. Default: DURABLE_LISTEN_URL.
   * Without one behind a pooler, nodes poll (`pollInterval`).
   */
  listenDatabase?: string | pg.ClientConfig;
  /**
   * `database` goes through a transaction-mode pooler (PgBouncer, Supavisor,
   * RDS Proxy): no named prepared statements, no LISTEN on it. Default: detected at start.
   */
  pooler?: boolean;
  /** Named prepared statements for the hot queries. Default: off behind a pooler, on otherwise. */
  preparedStatements?: boolean;
  /** Schema holding durable's tables (default "durable"). */
  schema?: string;
  /** What this process executes: a node type or several (default "worker"). */
  nodeType?: string | string[];
  /** Extra node types besides worker, api and datasync. */
  nodeTypes?: string[];
  /** Concurrency per queue on this node; node type N runs queue "ad_hoc_N" (default 10). */
  queues?: Record<string, number>;
  /** false: enqueue and await only, execute nothing. */
  run?: boolean;
  /** Apply migrations on start (default true). */
  migrate?: boolean;
  /** Any object with debug, info, warn and error (console, pino). Default: JSON lines on stderr at DURABLE_LOG_LEVEL. */
  logger?: Logger;
  /** LISTEN/NOTIFY wake-ups (default true); polling always runs as the fallback. */
  notifications?: boolean;
  /**
   * Results of up to 2 KiB (as stored: ciphertext when encryption is on) ride
   * the completion notification, so durable.await() needs no read (default
   * true). Any role that can connect to the database can LISTEN: turn this
   * off to keep unencrypted results off the notification channel.
   */
  notifyResults?: boolean;
  pollInterval?: string | number;
  shutdownGrace?: string | number;
  defaultTimeout?: string | number;
  defaultMaxAttempts?: number;
  /** The most bytes the result of one job may take serialized (default 1 MiB); a bigger result fails the attempt. */
  maxResultBytes?: number;
  /** The most bytes the captures of one call may take serialized (default 4 MiB); a bigger capture throws at the call. */
  maxCaptureBytes?: number;
  /** The most bytes of captures and meta one claim brings into this process (default 32 MiB); the first job always comes. */
  maxClaimBytes?: number;
  heartbeatInterval?: string | number;
  leaseTtl?: string | number;
  unknownTaskGrace?: string | number;
  /** How long a job awaiting unfinished jobs (durable steps) waits in place before it suspends and frees its slot (default 250 ms; 0 suspends at once). */
  stepWait?: string | number;
  /** How long due jobs wait with no live node able to run them before a worker logs a warning (once per task) and emits `job:unrunnable` (default 1 minute). */
  unrunnableWarnAfter?: string | number;
  /** This build's name in the nodes table (e.g. a release tag or commit). Default: DURABLE_VERSION, else a hash of the task manifest. */
  version?: string;
  bodyHashPolicy?: BodyHashPolicy;
  poolSize?: number;
  /** Install SIGTERM/SIGINT handlers that stop gracefully (default true when running jobs). */
  handleSignals?: boolean;
  /** AES-256-GCM for captures and results. Default: DURABLE_ENCRYPTION_KEY (+ DURABLE_ENCRYPTION_KEYS_PREVIOUS); false turns it off. */
  encryption?: EncryptionOptions | false;
}

export interface NormalizedStart {
  database: StartOptions["database"];
  listenDatabase: StartOptions["listenDatabase"];
  /** Where listenDatabase came from, for messages: the option or DURABLE_LISTEN_URL. */
  listenSource: "listenDatabase" | "DURABLE_LISTEN_URL";
  /** undefined: detect at start. */
  pooler: boolean | undefined;
  /** undefined: decided at start from the pooler. */
  preparedStatements: boolean | undefined;
  schema: string;
  nodeTypes: string[];
  knownNodeTypes: string[];
  queues: Record<string, number>;
  run: boolean;
  migrate: boolean;
  logger: Logger;
  notifications: boolean;
  notifyResults: boolean;
  pollIntervalMs: number;
  shutdownGraceMs: number;
  defaultTimeoutMs: number;
  defaultMaxAttempts: number;
  maxResultBytes: number;
  maxCaptureBytes: number;
  maxClaimBytes: number;
  heartbeatIntervalMs: number;
  leaseTtlMs: number;
  unknownTaskGraceMs: number;
  stepWaitMs: number;
  unrunnableWarnAfterMs: number;
  version: string | null;
  bodyHashPolicy: BodyHashPolicy;
  poolSize: number;
  handleSignals: boolean;
  encryption: KeyRing | null;
}

const START_KEYS = [
  "database", "listenDatabase", "pooler", "preparedStatements", "schema", "nodeType", "nodeTypes", "queues", "run", "migrate",
  "logger", "notifications", "notifyResults", "pollInterval", "shutdownGrace", "defaultTimeout", "defaultMaxAttempts", "maxResultBytes",
  "maxCaptureBytes", "maxClaimBytes", "heartbeatInterval", "leaseTtl", "unknownTaskGrace", "stepWait", "unrunnableWarnAfter", "version", "bodyHashPolicy", "poolSize", "handleSignals", "encryption",
];

const POLICIES: BodyHashPolicy[] = ["run-if-captures-match", "always", "hold"];
const NODE_TYPE_NAME = /^[a-z][a-z0-9_]{0,40}$/;

export function normalizeStartOptions(input: StartOptions = {}): NormalizedStart {
  if (typeof input !== "object" || input === null) throw new ConfigError(`durable.start() expects an options object, got ${describe(input)}.`);
  for (const key of Object.keys(input)) {
    if (!START_KEYS.includes(key)) throw new InvalidOptionError(key, `is not an option of durable.start().${didYouMean(key, START_KEYS)}`);
  }
  const { nodeTypes, knownNodeTypes } = resolveNodeTypes(input);
  const run = bool("run", input.run, true);
  const policy = input.bodyHashPolicy ?? "run-if-captures-match";
  if (!POLICIES.includes(policy)) {
    throw new InvalidOptionError("bodyHashPolicy", `expected one of ${POLICIES.map((p) => `"${p}"`).join(", ")}, got ${describe(policy)}.`);
  }
  return {
    ...resolveConnection(input),
    schema: validateSchemaName(input.schema ?? process.env.DURABLE_SCHEMA ?? "durable"),
    nodeTypes,
    knownNodeTypes,
    queues: resolveQueues(input.queues, run ? nodeTypes : []),
    run,
    migrate: bool("migrate", input.migrate, true),
    logger: adaptLogger(input.logger),
    notifications: bool("notifications", input.notifications, true),
    notifyResults: bool("notifyResults", input.notifyResults, true),
    pollIntervalMs: duration("pollInterval", input.pollInterval, 1_000, 10),
    shutdownGraceMs: duration("shutdownGrace", input.shutdownGrace, 15_000, 0),
    defaultTimeoutMs: duration("defaultTimeout", input.defaultTimeout, 15 * 60_000),
    defaultMaxAttempts: positiveInt("defaultMaxAttempts", input.defaultMaxAttempts, 20, 1000),
    maxResultBytes: positiveInt("maxResultBytes", input.maxResultBytes, 1_048_576),
    maxCaptureBytes: positiveInt("maxCaptureBytes", input.maxCaptureBytes, DEFAULT_MAX_CAPTURE_BYTES),
    maxClaimBytes: positiveInt("maxClaimBytes", input.maxClaimBytes, DEFAULT_MAX_CLAIM_BYTES),
    ...resolveLease(input),
    unknownTaskGraceMs: duration("unknownTaskGrace", input.unknownTaskGrace, 15 * 60_000, 1, MAX_DUE_DELAY_MS),
    stepWaitMs: duration("stepWait", input.stepWait, 250, 0, 60_000),
    unrunnableWarnAfterMs: duration("unrunnableWarnAfter", input.unrunnableWarnAfter, 60_000, 0, MAX_DUE_DELAY_MS),
    version: resolveVersion(input.version),
    bodyHashPolicy: policy,
    poolSize: positiveInt("poolSize", input.poolSize, 10, 1000),
    handleSignals: bool("handleSignals", input.handleSignals, run),
    encryption: resolveEncryption(input.encryption),
  };
}

/** A build name operators type (`durable nodes drain <build>`): printable, no spaces, at most 100 characters. */
function resolveVersion(input: unknown): string | null {
  const value = input ?? (process.env.DURABLE_VERSION || undefined);
  if (value === undefined) return null;
  if (typeof value !== "string" || !/^[\x21-\x7e]{1,100}$/.test(value)) {
    throw new InvalidOptionError("version", `expected a build name like "v1.4.2" or a commit hash (printable ASCII, no spaces, at most 100 characters), got ${describe(value)}.`);
  }
  return value;
}

/** The node types this process runs, checked against the declared ones (defaults, DURABLE_NODE_TYPES, `nodeTypes`). */
function resolveNodeTypes(input: StartOptions): { nodeTypes: string[]; knownNodeTypes: string[] } {
  const extra = input.nodeTypes ?? [];
  if (!Array.isArray(extra) || extra.some((t) => typeof t !== "string" || !NODE_TYPE_NAME.test(t))) {
    throw new InvalidOptionError("nodeTypes", `expected an array of lowercase names like ["reports"], got ${describe(extra)}.`);
  }
  // DURABLE_NODE_TYPES declares extra node types for the transformer and the runtime alike.
  const knownNodeTypes = declaredNodeTypes(extra);
  const rawTypes = input.nodeType ?? "worker";
  const nodeTypes = Array.isArray(rawTypes) ? rawTypes : [rawTypes];
  for (const t of nodeTypes) {
    if (typeof t === "string" && knownNodeTypes.includes(t)) continue;
    const hint = typeof t === "string" ? didYouMean(t, knownNodeTypes) : "";
    throw new InvalidOptionError("nodeType", `unknown node type ${describe(t)}.${hint} Declare it with durable.start({ nodeTypes: [${JSON.stringify(String(t))}] }).`);
  }
  return { nodeTypes, knownNodeTypes };
}

/** Concurrency per queue: 10 for each running node type's queue, then the explicit `queues` on top. */
function resolveQueues(input: StartOptions["queues"], runningTypes: string[]): Record<string, number> {
  const queues: Record<string, number> = {};
  for (const t of runningTypes) queues[queueForNodeType(t)] = 10;
  if (input === undefined) return queues;
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new InvalidOptionError("queues", `expected an object like { ad_hoc_worker: 10 }, got ${describe(input)}.`);
  }
  for (const [name, limit] of Object.entries(input)) {
    validateQueueName(`queues.${name}`, name);
    if (!Number.isInteger(limit) || limit < 0 || limit > 10_000) {
      throw new InvalidOptionError(`queues.${name}`, `expected a concurrency from 0 to 10000, got ${describe(limit)}.`);
    }
    queues[name] = limit;
  }
  return queues;
}

function resolveLease(input: StartOptions): { heartbeatIntervalMs: number; leaseTtlMs: number } {
  const heartbeatIntervalMs = duration("heartbeatInterval", input.heartbeatInterval, 2_000, 100);
  const leaseTtlMs = duration("leaseTtl", input.leaseTtl, 10_000, 500, MAX_DUE_DELAY_MS);
  if (leaseTtlMs < heartbeatIntervalMs * 2) {
    throw new InvalidOptionError("leaseTtl", `must be at least twice heartbeatInterval (${formatDuration(heartbeatIntervalMs)}), or healthy nodes would look dead.`);
  }
  return { heartbeatIntervalMs, leaseTtlMs };
}

/** Where to connect: the pool's database, the optional direct one for LISTEN, and what is known of a pooler in between. */
function resolveConnection(input: StartOptions): Pick<NormalizedStart, "database" | "listenDatabase" | "listenSource" | "pooler" | "preparedStatements"> {
  const listenSource = input.listenDatabase !== undefined ? "listenDatabase" : "DURABLE_LISTEN_URL";
  const listen = input.listenDatabase ?? (process.env.DURABLE_LISTEN_URL || undefined);
  if (listen !== undefined && typeof listen !== "string" && (typeof listen !== "object" || listen === null || Array.isArray(listen))) {
    throw new InvalidOptionError("listenDatabase", `expected a connection string or pg client settings for a direct (unpooled) connection, got ${describe(listen)}.`);
  }
  // Checked like DATABASE_URL: pg would resolve "garbage" against the host "base" and fail with ENOTFOUND far from the cause.
  const problem = typeof listen === "string" ? connectionStringProblem(listen) : null;
  if (problem) throw new InvalidOptionError(listenSource, `${problem} (a direct connection to the server, used only for LISTEN).`);
  return {
    database: input.database,
    listenDatabase: listen,
    listenSource,
    pooler: input.pooler === undefined ? undefined : bool("pooler", input.pooler, false),
    preparedStatements: input.preparedStatements === undefined ? undefined : bool("preparedStatements", input.preparedStatements, false),
  };
}

function positiveInt(name: string, value: unknown, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > max) {
    throw new InvalidOptionError(name, `expected an integer from 1 to ${max}, got ${describe(value)}.`);
  }
  return value as number;
}

function bool(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new InvalidOptionError(name, `expected true or false, got ${describe(value)}.`);
  return value;
}

/** Durations that feed a timer stop at what a timer holds; the others are due times in the database. */
function duration(name: string, value: unknown, fallback: number, min = 1, max = MAX_TIMER_MS): number {
  const ms = value === undefined ? fallback : parseDuration(name, value);
  if (ms < min) throw new InvalidOptionError(name, `must be at least ${min} ms.`);
  if (ms > max) throw new InvalidOptionError(name, `must be at most ${describeMs(max)}${max === MAX_TIMER_MS ? ", the longest a timer can wait" : ""}; got ${describeMs(ms)}.`);
  return ms;
}
