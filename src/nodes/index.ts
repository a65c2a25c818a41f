import { InvalidOptionError } from "../errors.js";
import { describe } from "../config/duration.js";
import type { TargetSource } from "../control/target.js";
import * as sql from "./queries.js";
import { queryWithoutJit } from "../db/tx.js";

export interface NodeInfo {
  nodeId: string;
  /** The node's build: its `version` option, else its task manifest's hash; null for a node of an older package version. */
  build: string | null;
  nodeTypes: string[];
  queues: Record<string, number>;
  taskIds: string[];
  /** "task_id:body_hash" keys it claims: its own versions and the recorded ones its body-hash policy accepts. */
  taskKeys: string[];
  hostname: string;
  pid: number;
  startedAt: Date;
  heartbeatAgeS: number | null;
  alive: boolean;
  /** Its build was drained: it claims only jobs no other build can run. */
  draining: boolean;
}

export interface BuildInfo {
  build: string | null;
  /** Live nodes of the build. */
  nodes: NodeInfo[];
  draining: boolean;
  /** Task ids the build's nodes have, sorted. */
  taskIds: string[];
  /** Pending jobs (due or scheduled) that no live node of another build can run: 0 means stopping the build leaves nothing waiting. */
  jobsOnlyItRuns: number;
}

const BUILD_NAME = /^[\x21-\x7e]{1,100}$/;

/** Nodes by build, and draining a build before stopping it: `durable.nodes`, the dashboard and `durable nodes`. */
export class NodesApi {
  constructor(private readonly target: TargetSource) {}

  /** Every node row, live or not yet cleaned up, ordered by build. */
  async list(): Promise<NodeInfo[]> {
    const t = await this.target();
    const { rows } = await t.pool.query(sql.listNodes(t.quotedSchema));
    return rows.map((r) => ({
      nodeId: r.node_id, build: r.build_id, nodeTypes: r.node_types, queues: plainObject(r.queues), taskIds: r.task_ids ?? [], taskKeys: r.task_keys ?? [],
      hostname: r.hostname, pid: r.pid, startedAt: r.started_at, heartbeatAgeS: r.heartbeat_age_s === null ? null : Number(r.heartbeat_age_s),
      alive: r.alive, draining: r.draining,
    }));
  }

  /** Live nodes grouped by build, with what each build can run and how many pending jobs only it can. */
  async builds(): Promise<BuildInfo[]> {
    const t = await this.target();
    const [nodes, only] = await Promise.all([
      this.list(),
      // The planner guesses many keys per node and would JIT-compile a statement that runs in a
      // millisecond; compiling costs hundreds (measured: 460 ms on every dashboard refresh).
      queryWithoutJit(t.pool, sql.jobsOnlyBuildRuns(t.quotedSchema)),
    ]);
    const counts = new Map(only.rows.map((r) => [r.build_id as string, r.jobs as number]));
    const builds = new Map<string, BuildInfo>();
    for (const n of nodes.filter((node) => node.alive)) {
      const key = n.build ?? "";
      const b = builds.get(key) ?? { build: n.build, nodes: [], draining: false, taskIds: [], jobsOnlyItRuns: counts.get(key) ?? 0 };
      b.nodes.push(n);
      b.draining ||= n.draining;
      b.taskIds = [...new Set([...b.taskIds, ...n.taskIds])].sort();
      builds.set(key, b);
    }
    return [...builds.values()];
  }

  /**
   * Drains a build: its nodes (and nodes of it that start later) claim only
   * jobs no live node of another build can run, and finish what they hold.
   * Returns how many live nodes of the build there are.
   */
  async drain(build: string): Promise<number> {
    return this.mark("drain", build, sql.drainBuild);
  }

  /** Undoes drain(): the build's nodes claim everything they can run again. */
  async undrain(build: string): Promise<number> {
    return this.mark("undrain", build, sql.undrainBuild);
  }

  private async mark(what: string, build: string, statement: (quotedSchema: string) => string): Promise<number> {
    if (typeof build !== "string" || !BUILD_NAME.test(build)) {
      throw new InvalidOptionError("build", `durable.nodes.${what}() expects a build name as \`durable nodes\` lists it (like "v1.4.2" or "m-3f2a9c1d0b7e"), got ${describe(build)}.`);
    }
    const t = await this.target();
    const { rowCount } = await t.pool.query(statement(t.quotedSchema), [build]);
    // Nodes read the flag on their next heartbeat; the control notification makes it now.
    await t.pool.query("select pg_notify($1, '*')", [t.channels.control]);
    return rowCount ?? 0;
  }
}

function plainObject(value: unknown): Record<string, number> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, number>) : {};
}
