import { createConnection, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP proxy that can go silent: while silent it accepts and keeps every
 * socket open but forwards nothing in either direction, like a peer or NAT
 * that vanished without a FIN or RST (half-open). Connections that saw the
 * silence stay black holes afterwards (their byte streams are broken); new
 * connections after `resume()` forward normally.
 */
export class SilentProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<{ client: Socket; upstream: Socket | null; dead: boolean }>();
  private silent = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server!.address() as { port: number }).port;
    return this.port;
  }

  private accept(client: Socket): void {
    const pair = { client, upstream: null as Socket | null, dead: this.silent };
    this.pairs.add(pair);
    const drop = () => {
      pair.upstream?.destroy();
      client.destroy();
      this.pairs.delete(pair);
    };
    client.on("error", drop);
    client.on("close", drop);
    if (pair.dead) return; // accepted, then nothing: the connect hangs like a black-holed SYN-ACK
    const upstream = createConnection(this.target);
    pair.upstream = upstream;
    upstream.on("error", drop);
    upstream.on("close", drop);
    client.on("data", (chunk) => {
      if (!pair.dead) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (!pair.dead) client.write(chunk);
    });
  }

  /** From now on nothing is forwarded, and nothing is closed. */
  goSilent(): void {
    this.silent = true;
    for (const pair of this.pairs) pair.dead = true;
  }

  /** New connections work again; the ones that went silent stay silent. */
  resume(): void {
    this.silent = false;
  }

  get connections(): number {
    return this.pairs.size;
  }

  async stop(): Promise<void> {
    for (const pair of this.pairs) {
      pair.upstream?.destroy();
      pair.client.destroy();
    }
    this.pairs.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
