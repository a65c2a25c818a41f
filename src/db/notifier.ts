import pg from "pg";
import type { Logger } from "../logger.js";
import { channels } from "./schema.js";
import { parseCarried, type CarriedResult } from "./carried-results.js";

// What travels on each channel. Producers are SQL statements (pg_notify in
// the insert, completion, retry and queue-control statements); this module is
// the one place that reads the payloads back.
//
//   insert   {"queue": "ad_hoc_worker", "due": 1767225600000 | null}
//            jobs became available in that queue; `due` (epoch ms) is the
//            earliest scheduled job among them, so a node can arm a timer
//            instead of waiting for the next poll.
//   done     "101,102,103,r101:{…},r103:": ids of jobs that reached a final
//            state (completed, discarded, cancelled); a list keeps many ids
//            under Postgres' 8000-byte payload limit. Then, from the outcome
//            writer only, `r<id>:<hmac>:<stored result>` items for completed
//            jobs whose result is small (carried-results.ts), so an awaiter
//            needs no read. Older versions read only the bare ids and skip
//            these items.
//   control  "ad_hoc_worker": a queue whose controls (pause, scale, limits) changed.

export interface InsertNotice {
  queue: string;
  /** Epoch ms of the earliest scheduled job among those inserted; null when they are available now. */
  dueMs: number | null;
}
export interface DoneNotice {
  ids: string[];
  /** Results of completed jobs among `ids` that the writer carried, still to be checked (carried-results.ts). */
  results: Map<string, CarriedResult>;
}
export interface ControlNotice {
  queue: string;
}
export interface Notices {
  insert: InsertNotice;
  done: DoneNotice;
  control: ControlNotice;
}
export type NoticeKind = keyof Notices;

/** Reads a payload; null for one this version does not understand (another version's node), which polling covers. */
export function decodeNotice<K extends NoticeKind>(kind: K, payload: string): Notices[K] | null {
  if (kind === "done") return decodeDone(payload) as Notices[K] | null;
  if (kind === "control") return (payload ? { queue: payload } : null) as Notices[K] | null;
  try {
    const value = JSON.parse(payload) as { queue?: unknown; due?: unknown };
    if (typeof value?.queue !== "string") return null;
    const dueMs = typeof value.due === "number" || typeof value.due === "string" ? Number(value.due) : null;
    return { queue: value.queue, dueMs: Number.isFinite(dueMs) ? dueMs : null } as Notices[K];
  } catch {
    return null;
  }
}

const JOB_ID = /^\d{1,19}$/;

function decodeDone(payload: string): DoneNotice | null {
  const ids: string[] = [];
  const results = new Map<string, CarriedResult>();
  for (const item of payload.split(",")) {
    if (JOB_ID.test(item)) ids.push(item);
    else {
      const carried = parseCarried(item);
      if (carried) results.set(carried.id, carried);
    }
  }
  return ids.length > 0 ? { ids, results } : null;
}

/**
 * One LISTEN connection per process (per instance), shared by the runner and
 * every awaiter. It reconnects by itself with backoff; after a reconnect,
 * subscribers are told, because notifications sent while it was down are
 * lost and they must re-check state (polling covers the gap meanwhile).
 */
export class Notifier {
  private client: pg.Client | null = null;
  private readonly handlers = new Map<NoticeKind, Set<(notice: any) => void>>();
  private readonly kindOf: Map<string, NoticeKind>;
  private readonly reconnectHandlers = new Set<() => void>();
  private closed = false;
  private connecting: Promise<void> | null = null;
  private backoffMs = 100;
  private retryTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  /** A LISTEN connection only receives, so a half-open one would stay silent forever: ping it. */
  static pingIntervalMs = 10_000;
  static pingTimeoutMs = 5_000;

  constructor(
    /** A direct connection: LISTEN needs a session of its own, which a transaction-mode pooler does not give. */
    private readonly connection: pg.ClientConfig,
    schema: string,
    private readonly logger: Logger,
    /** Workers stay up on this connection; a client-only process must be free to exit when its work is done. */
    private readonly keepProcessAlive = true,
    /**
     * The channels to LISTEN on. A process that runs no jobs needs only "done"
     * (its awaiters): every insert notification it listened to would wake its
     * connection's backend and this process at the moment a worker claims.
     */
    kinds: readonly NoticeKind[] = ["insert", "done", "control"],
  ) {
    const ch = channels(schema);
    this.kindOf = new Map(kinds.map((kind) => [ch[kind], kind]));
  }

  async start(): Promise<void> {
    await this.connect(false);
  }

  on<K extends NoticeKind>(kind: K, handler: (notice: Notices[K]) => void): () => void {
    let set = this.handlers.get(kind);
    if (!set) this.handlers.set(kind, (set = new Set()));
    set.add(handler);
    return () => set!.delete(handler);
  }

  onReconnect(handler: () => void): () => void {
    this.reconnectHandlers.add(handler);
    return () => this.reconnectHandlers.delete(handler);
  }

  get connected(): boolean {
    return this.client !== null;
  }

  private connect(isReconnect: boolean): Promise<void> {
    this.connecting ??= (async () => {
      const client = new pg.Client({ ...this.connection, keepAlive: true, connectionTimeoutMillis: 10_000 } as pg.ClientConfig);
      client.on("notification", (message) => this.dispatch(message.channel, message.payload ?? ""));
      client.on("error", (error) => this.lost(client, error));
      client.on("end", () => this.lost(client, new Error("connection ended")));
      try {
        await client.connect();
        for (const channel of this.kindOf.keys()) await client.query(`listen ${pg.escapeIdentifier(channel)}`);
        this.client = client;
        this.backoffMs = 100;
        if (!this.keepProcessAlive) (client as unknown as { connection?: { stream?: { unref?(): void } } }).connection?.stream?.unref?.();
        this.schedulePing(client);
        if (isReconnect) {
          this.logger.info("durable: notification connection restored");
          for (const handler of this.reconnectHandlers) handler();
        }
      } catch (error) {
        client.removeAllListeners("end");
        await client.end().catch(() => undefined);
        if (!isReconnect) throw error;
        this.scheduleReconnect();
      } finally {
        this.connecting = null;
      }
    })();
    return this.connecting;
  }

  private dispatch(channel: string, payload: string): void {
    const kind = this.kindOf.get(channel);
    const set = kind && this.handlers.get(kind);
    if (!set || set.size === 0) return;
    const notice = decodeNotice(kind, payload);
    if (notice === null) {
      this.logger.debug("durable: ignored a notification this version does not read", { channel, payload: payload.slice(0, 200) });
      return;
    }
    for (const handler of set) handler(notice);
  }

  private schedulePing(client: pg.Client): void {
    if (this.pingTimer) clearTimeout(this.pingTimer);
    this.pingTimer = setTimeout(() => {
      this.pingTimer = null;
      if (this.client !== client || this.closed) return;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer to a ping within ${Notifier.pingTimeoutMs} ms (half-open connection)`)), Notifier.pingTimeoutMs);
      });
      Promise.race([client.query("select 1"), timeout])
        .then(() => this.schedulePing(client), (error: Error) => this.lost(client, error))
        .finally(() => clearTimeout(timer));
    }, Notifier.pingIntervalMs);
    this.pingTimer.unref();
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners("end");
    // end() waits for the server's goodbye, which a half-open socket never sends.
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.logger.warn("durable: notification connection lost; reconnecting (polling covers the gap)", { error: error.message });
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closed || this.retryTimer) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, 5_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect(true);
    }, delay);
    this.retryTimer.unref();
  }

  /** For tests and fault injection: the backend pid of the LISTEN connection. */
  async backendPid(): Promise<number | null> {
    if (!this.client) return null;
    const { rows } = await this.client.query("select pg_backend_pid() as pid");
    return rows[0].pid;
  }

  async stop(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.pingTimer) clearTimeout(this.pingTimer);
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    if (client) {
      client.removeAllListeners("end");
      await client.end().catch(() => undefined);
    }
  }
}
