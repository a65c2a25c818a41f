import { createConnection, createServer, type Server, type Socket } from "node:net";

export type SilenceMode =
  /** Bytes sent during the silence are dropped; those connections stay dead after it (a peer or NAT that vanished). */
  | "blackhole"
  /** Bytes are held and delivered when the silence ends (a partition that heals; TCP retransmits). */
  | "pause";

interface Pair {
  client: Socket;
  upstream: Socket | null;
  dead: boolean;
  held: Array<{ to: "upstream" | "client"; chunk: Buffer }>;
}

/**
 * A TCP proxy that can go silent: while silent it keeps every socket open but
 * forwards nothing in either direction and closes nothing (half-open).
 */
export class SilentProxy {
  private server: Server | null = null;
  private readonly pairs = new Set<Pair>();
  private silent = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }, private readonly mode: SilenceMode = "blackhole") {}

  async start(): Promise<number> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server!.address() as { port: number }).port;
    return this.port;
  }

  private accept(client: Socket): void {
    const pair: Pair = { client, upstream: null, dead: this.silent && this.mode === "blackhole", held: [] };
    this.pairs.add(pair);
    const drop = () => {
      pair.upstream?.destroy();
      client.destroy();
      this.pairs.delete(pair);
    };
    client.on("error", drop);
    client.on("close", drop);
    client.on("data", (chunk) => this.forward(pair, "upstream", chunk));
    if (pair.dead) return; // accepted, then nothing: the connect hangs
    const upstream = createConnection(this.target);
    pair.upstream = upstream;
    upstream.on("error", drop);
    upstream.on("close", drop);
    upstream.on("data", (chunk) => this.forward(pair, "client", chunk));
  }

  private forward(pair: Pair, to: "upstream" | "client", chunk: Buffer): void {
    if (pair.dead) return;
    if (this.silent) {
      pair.held.push({ to, chunk });
      return;
    }
    (to === "upstream" ? pair.upstream : pair.client)?.write(chunk);
  }

  /** From now on nothing is forwarded, and nothing is closed. */
  goSilent(): void {
    this.silent = true;
    if (this.mode === "blackhole") for (const pair of this.pairs) pair.dead = true;
  }

  /** Forwarding starts again: held bytes are delivered (pause); black-holed connections stay dead. */
  resume(): void {
    this.silent = false;
    for (const pair of this.pairs) {
      for (const { to, chunk } of pair.held.splice(0)) (to === "upstream" ? pair.upstream : pair.client)?.write(chunk);
    }
  }

  /** Closes every connection now, both ways, with nothing sent first (a peer that went away); new ones still pass. */
  cut(): void {
    for (const pair of this.pairs) {
      pair.upstream?.destroy();
      pair.client.destroy();
    }
    this.pairs.clear();
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
