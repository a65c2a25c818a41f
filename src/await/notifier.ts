import pg from "pg";
import type { Logger } from "../events/index.js";

/**
 * One LISTEN connection per process (per instance), shared by the runner and
 * every awaiter. It reconnects by itself with backoff; after a reconnect,
 * subscribers are told, because notifications sent while it was down are
 * lost and they must re-check state (polling covers the gap meanwhile).
 */
export class Notifier {
  private client: pg.Client | null = null;
  private readonly handlers = new Map<string, Set<(payload: string) => void>>();
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
    private readonly connection: pg.ClientConfig,
    private readonly channels: string[],
    private readonly logger: Logger,
    /** Workers stay up on this connection; a client-only process must be free to exit when its work is done. */
    private readonly keepProcessAlive = true,
  ) {}

  async start(): Promise<void> {
    await this.connect(false);
  }

  on(channel: string, handler: (payload: string) => void): () => void {
    let set = this.handlers.get(channel);
    if (!set) this.handlers.set(channel, (set = new Set()));
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
      client.on("notification", (message) => {
        const set = this.handlers.get(message.channel);
        if (set) for (const handler of set) handler(message.payload ?? "");
      });
      client.on("error", (error) => this.lost(client, error));
      client.on("end", () => this.lost(client, new Error("connection ended")));
      try {
        await client.connect();
        for (const channel of this.channels) await client.query(`listen ${pg.escapeIdentifier(channel)}`);
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
