import { fork, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { ensureEmbeddedPostgres, type EmbeddedServer } from "../../src/db/embedded.js";

// The fault suite's moving parts: a dedicated PostgreSQL that can be
// restarted on the same port, worker processes that run dist/ code, a paced
// enqueuer, and the bookkeeping that proves no job was lost or ran again after
// it had succeeded (issue 7, item 3).

const ROOT = resolve(import.meta.dirname, "../..");
export const WORKER_SCRIPT = join(ROOT, "test/faults/worker.mjs");

export const until = async <T>(what: string, check: () => Promise<T | false | null | undefined> | T | false | null | undefined, limitMs: number, everyMs = 100): Promise<T> => {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
};

/**
 * Copies dist/ to a private folder under .durable/, so another `npm run build`
 * in the same tree (it empties dist/ first) cannot break workers mid-run.
 * Inside the project, so `pg` and `migrations/` still resolve.
 */
export async function snapshotDist(): Promise<string> {
  const source = join(ROOT, "dist");
  await until("dist/ to be built (npm run build)", () => existsSync(join(source, "src/index.js")) && existsSync(join(source, "src/runner/index.js")), 60_000, 250);
  const target = join(ROOT, ".durable", `fault-dist-${process.pid}`);
  rmSync(target, { recursive: true, force: true });
  cpSync(source, target, { recursive: true });
  return pathToFileURL(target + "/").href;
}

export interface FaultServer {
  url: string;
  port: number;
  /** Stops (immediate = like a crash), stays down `downMs`, starts again on the same port. */
  restart(options?: { mode?: "fast" | "immediate"; downMs?: number }): Promise<{ downAt: number; upAt: number }>;
  stop(): Promise<void>;
}

/** A dedicated embedded PostgreSQL in a temp dir (fsync off: safe for a server crash, just not an OS crash). */
export async function dedicatedServer(): Promise<FaultServer> {
  const dir = mkdtempSync(join(tmpdir(), "durable-faults-"));
  const settings = { fsync: "off", full_page_writes: "off", max_connections: "300" };
  let server: EmbeddedServer = await ensureEmbeddedPostgres({ dataDir: join(dir, "pg"), settings });
  const port = server.port;
  return {
    url: server.url,
    port,
    async restart({ mode = "fast", downMs = 0 } = {}) {
      const downAt = Date.now();
      await server.stop({ mode });
      await new Promise((r) => setTimeout(r, downMs));
      server = await ensureEmbeddedPostgres({ dataDir: join(dir, "pg"), settings, port });
      return { downAt, upAt: Date.now() };
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface WorkerHandle {
  name: string;
  child: ChildProcess;
  nodeId: string;
  logs: Array<{ at: number; level: string; msg: string; fields?: unknown }>;
  exited: { code: number | null; signal: NodeJS.Signals | null } | null;
  request<T = any>(type: string, extra?: Record<string, unknown>): Promise<T>;
}

export interface RunOptions {
  name: string;
  url: string;
  dist: string;
  /** Per worker: the URL it connects with (default: url). */
  workerUrls?: string[];
  workers?: number;
  concurrency?: number;
  /** LISTEN on the enqueuer too (soak awaits results). */
  notifications?: boolean;
  /** Extra environment for worker i (0-based). */
  workerEnv?: (i: number) => Record<string, string>;
}

/** One scenario: a schema, side tables that record executions and completions, and the workers. */
export class FaultRun {
  readonly schema: string;
  readonly q: string;
  readonly pool: pg.Pool;
  workers: WorkerHandle[] = [];
  /** The enqueuing instance (run: false), from the same dist snapshot as the workers. */
  enqueuer: any;
  unexpectedExits: string[] = [];

  constructor(readonly options: RunOptions) {
    this.schema = `fault_${options.name}_${process.pid}`;
    this.q = `"${this.schema}"`;
    this.pool = new pg.Pool({ connectionString: options.url, max: 4, connectionTimeoutMillis: 5_000 });
    this.pool.on("error", () => undefined);
  }

  async setup(): Promise<void> {
    const { DurableInstance } = await import(new URL("src/index.js", this.options.dist).href);
    await this.pool.query(`drop schema if exists ${this.q} cascade`);
    this.enqueuer = new DurableInstance({ database: this.options.url, schema: this.schema, run: false, handleSignals: false, notifications: this.options.notifications ?? false, logger: quiet });
    await this.enqueuer.start();
    await this.pool.query(`
      create table ${this.q}.fault_executions (seq bigserial primary key, job_id bigint not null, attempt int not null, worker text not null, at timestamptz not null default clock_timestamp());
      create table ${this.q}.fault_completions (seq bigserial primary key, job_id bigint not null, attempt int not null, at timestamptz not null default clock_timestamp());
      create function ${this.q}.fault_record_completion() returns trigger language plpgsql as $$
        begin insert into ${this.q}.fault_completions (job_id, attempt) values (new.id, new.attempt); return null; end $$;
      -- Completing is a cross-partition update: it lands in jobs_finished as an insert.
      create trigger fault_completion after insert on ${this.q}.jobs_finished for each row when (new.state = 'completed')
        execute function ${this.q}.fault_record_completion();`);
    const count = this.options.workers ?? 3;
    this.workers = await Promise.all(Array.from({ length: count }, (_, i) => this.spawn(`w${i + 1}`, this.options.workerUrls?.[i] ?? this.options.url, this.options.workerEnv?.(i))));
  }

  private spawn(name: string, url: string, extraEnv: Record<string, string> = {}): Promise<WorkerHandle> {
    const child = fork(WORKER_SCRIPT, [], {
      env: {
        ...process.env,
        ...extraEnv,
        FAULT_DB_URL: url,
        FAULT_RECORD_URL: this.options.url,
        FAULT_SCHEMA: this.schema,
        FAULT_WORKER: name,
        FAULT_CONCURRENCY: String(this.options.concurrency ?? 10),
        DURABLE_FAULT_DIST: this.options.dist,
      },
      execArgv: ["--expose-gc"],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    let stderr = "";
    child.stderr!.on("data", (d) => (stderr = (stderr + d).slice(-20_000)));
    child.stdout!.resume();
    const pending = new Map<number, (m: any) => void>();
    let nextRequest = 1;
    const handle: WorkerHandle = {
      name,
      child,
      nodeId: "",
      logs: [],
      exited: null,
      request: (type, extra = {}) =>
        new Promise((resolveRequest, reject) => {
          const request = nextRequest++;
          const timer = setTimeout(() => reject(new Error(`${name}: no answer to ${type}`)), 10_000);
          pending.set(request, (m) => {
            clearTimeout(timer);
            resolveRequest(m);
          });
          child.send({ type, request, ...extra });
        }),
    };
    child.on("message", (m: any) => {
      if (m.type === "log") handle.logs.push({ at: m.at, level: m.level, msg: m.msg, fields: m.fields });
      if (m.type === "rescue") handle.logs.push({ at: m.at, level: "event", msg: "job:rescue", fields: { count: m.count } });
      if (m.type === "crash") this.unexpectedExits.push(`${name} crashed: ${m.error}`);
      if (m.request && pending.has(m.request)) pending.get(m.request)!(m);
    });
    return new Promise((resolveReady, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start: ${stderr}`)), 60_000);
      child.on("message", (m: any) => {
        if (m.type !== "ready") return;
        clearTimeout(timer);
        handle.nodeId = m.nodeId;
        resolveReady(handle);
      });
      child.on("exit", (code, signal) => {
        handle.exited = { code, signal };
        clearTimeout(timer);
        if (signal !== "SIGKILL" && !(code === 0 && this.closing)) this.unexpectedExits.push(`${name} exited with ${code ?? signal}: ${stderr.slice(-2000)}`);
        reject(new Error(`${name} exited with ${code ?? signal}: ${stderr}`));
      });
    });
  }

  private closing = false;
  private enqueued = 0;
  enqueueDone = false;

  /**
   * Inserts `total` fault jobs in chunks at a steady pace. A chunk that fails
   * (the database is restarting) is retried; jobs are told apart by `n`, so a
   * chunk inserted twice would show up as extra jobs, not as lost ones.
   */
  async enqueue(total: number, { chunk = 200, everyMs = 300, from = 0 } = {}): Promise<void> {
    const tasks = await import(new URL("../support/fault-tasks.mjs", import.meta.url).href);
    for (let start = from; start < from + total; start += chunk) {
      const items = Array.from({ length: Math.min(chunk, from + total - start) }, (_, i) => {
        const n = start + i;
        return [tasks.work, { n, ms: 5 + ((n * 7) % 25) }, { maxAttempts: 25, backoff: { type: "fixed", delay: 200 } }];
      });
      await until("a chunk insert to succeed", () => this.enqueuer.asyncMany(items).then(() => true, () => false), 120_000, 250);
      this.enqueued += items.length;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }

  /** Throws with a worker's own last words when one died: a crash must not read as a slow recovery. */
  checkAlive(): void {
    if (this.unexpectedExits.length > 0) throw new Error(`a worker died:\n${this.unexpectedExits.join("\n")}`);
  }

  async counts(): Promise<{ total: number; completed: number; executing: number }> {
    const { rows } = await this.pool.query(
      `select count(*)::int as total, count(*) filter (where state = 'completed')::int as completed, count(*) filter (where state = 'executing')::int as executing
       from ${this.q}.jobs where task_id = 'faults#work'`,
    );
    return rows[0];
  }

  async heldBy(nodeId: string): Promise<number> {
    const { rows } = await this.pool.query(`select count(*)::int as n from ${this.q}.jobs_active where node_id = $1 and state = 'executing'`, [nodeId]);
    return rows[0].n;
  }

  async heartbeatAt(nodeId: string): Promise<number | null> {
    const { rows } = await this.pool.query(`select heartbeat_at from ${this.q}.nodes where node_id = $1`, [nodeId]);
    return rows[0] ? new Date(rows[0].heartbeat_at).getTime() : null;
  }

  async waitAllCompleted(expected: number, limitMs: number): Promise<number> {
    const started = Date.now();
    await until(`all ${expected} jobs to complete`, async () => {
      this.checkAlive();
      const c = await this.counts().catch(() => null);
      return c !== null && c.total >= expected && c.completed === c.total;
    }, limitMs, 250);
    return Date.now() - started;
  }

  async executionsBy(worker: string, afterMs: number): Promise<number> {
    const { rows } = await this.pool.query(`select count(*)::int as n from ${this.q}.fault_executions where worker = $1 and at > to_timestamp($2 / 1000.0)`, [worker, afterMs]);
    return rows[0].n;
  }

  /** The guarantees, as numbers. */
  async verify(expected: number): Promise<FaultFigures> {
    const one = async (sql: string) => (await this.pool.query(sql)).rows[0];
    const jobs = await one(`select count(*)::int as total, count(*) filter (where state <> 'completed')::int as not_completed,
      count(distinct (captures->'json'->>'n')::int)::int as distinct_n,
      count(*) filter (where state = 'completed' and (result->>'json')::int is distinct from (captures->'json'->>'n')::int)::int as wrong_results
      from ${this.q}.jobs where task_id = 'faults#work'`);
    const dup = await one(`select count(*)::int as n from ${this.q}.fault_executions e join ${this.q}.fault_completions c using (job_id) where e.attempt > c.attempt`);
    const twice = await one(`select count(*)::int as n from (select job_id from ${this.q}.fault_completions group by job_id having count(*) > 1) x`);
    const execs = await one(`select count(*)::int as n, count(distinct job_id)::int as jobs from ${this.q}.fault_executions`);
    return {
      expected,
      jobs: jobs.total,
      lost: expected - jobs.distinct_n + jobs.not_completed,
      notCompleted: jobs.not_completed,
      wrongResults: jobs.wrong_results,
      duplicatesAfterSuccess: dup.n,
      completedTwice: twice.n,
      executions: execs.n,
      reExecutionsBeforeSuccess: execs.n - execs.jobs,
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(
      this.workers.map(async (w) => {
        if (w.exited) return;
        const exited = new Promise((r) => w.child.once("exit", r));
        try {
          w.child.send({ type: "stop" });
        } catch {
          /* already gone */
        }
        const timer = setTimeout(() => w.child.kill("SIGKILL"), 8_000);
        await exited;
        clearTimeout(timer);
      }),
    );
    await this.enqueuer?.stop({ grace: 0 }).catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }

  /** Drops the scenario's schema (only when it passed, so a failure can be inspected). */
  async drop(url: string): Promise<void> {
    const pool = new pg.Pool({ connectionString: url, max: 1 });
    // end() resolves before the server has seen the client go: a server stopped right after (scenario (b)) may still
    // send it a FATAL, which the pool re-emits and which must not fail a run that passed.
    pool.on("error", () => undefined);
    await pool.query(`drop schema if exists ${this.q} cascade`).catch(() => undefined);
    await pool.end();
  }
}

export interface FaultFigures {
  expected: number;
  jobs: number;
  lost: number;
  notCompleted: number;
  wrongResults: number;
  duplicatesAfterSuccess: number;
  completedTwice: number;
  executions: number;
  reExecutionsBeforeSuccess: number;
}

export const quiet = { debug() {}, info() {}, warn() {}, error() {} };

export function report(title: string, figures: Record<string, unknown>): void {
  console.info(`\n[fault] ${title}\n` + Object.entries(figures).map(([k, v]) => `  ${k.padEnd(28)} ${typeof v === "number" ? v.toLocaleString("en-US") : JSON.stringify(v)}`).join("\n"));
}
