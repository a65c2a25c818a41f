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

  constructor(
    private readonly connection: pg.ClientConfig,
    private readonly channels: string[],
    private readonly logger: Logger,
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

  private lost(client: pg.Client, error: Error): void {
    if (this.client !== client) return;
    this.client = null;
    client.removeAllListeners("end");
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
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    if (client) {
      client.removeAllListeners("end");
      await client.end().catch(() => undefined);
    }
  }
}
