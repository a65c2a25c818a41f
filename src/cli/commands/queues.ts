import type { Command } from "commander";
import { JOB_STATES } from "../../admin/index.js";
import { printTable } from "../table.js";
import { formatDuration } from "../../config/duration.js";
import { durationArg, intArg, printJson, queueArg, withAdmin, withConnection } from "../shared.js";

const CREATE_HELP = "configure the queue even if no live node serves it and it holds no jobs yet (e.g. before the deploy that adds it); without it an unknown name is refused as a typo";

export function register(program: Command): void {
  const queues = program.command("queues").description("list queues; pause, resume, scale, add or remove one (persisted, reaches every node within a second)");
  registerList(queues);
  registerControls(queues);
  registerRuntimeQueues(queues);
}

function registerList(queues: Command): void {
  withConnection(queues.command("list").description("queues with job counts by state, paused flag, concurrency and rate limit"))
    .option("--json", "print JSON instead of a table")
    .action(async (options) => {
      await withAdmin(options, async (admin) => {
        const rows = await admin.queues();
        if (options.json) return printJson(rows);
        printTable(
          [
            { header: "queue", value: (q) => q.name },
            { header: "paused", value: (q) => (q.paused ? (q.pausedUntil ? `until ${q.pausedUntil.toISOString()}` : "yes") : "no") },
            { header: "concurrency", value: (q) => (q.concurrency !== null ? `${q.concurrency} (scaled)` : q.nodeConcurrency), align: "right" },
            { header: "rate limit", value: (q) => (q.rateLimit ? `${q.rateLimit.allowed}/${formatDuration(q.rateLimit.periodMs)}${q.rateLimit.by ? ` per ${q.rateLimit.by}` : ""}` : "") },
            ...JOB_STATES.map((s) => ({ header: s, value: (q: (typeof rows)[number]) => q.counts[s] ?? 0, align: "right" as const })),
            // Only when some queue was added at run time (durable queues add): which node type runs it.
            ...(rows.some((q) => q.nodeType) ? [{ header: "added on", value: (q: (typeof rows)[number]) => q.nodeType ?? "" }] : []),
          ],
          rows,
          "No queues yet.",
        );
      });
    });
}

/** Pause, resume and scale: settings of any queue, declared in code or added at run time. */
function registerControls(queues: Command): void {
  withConnection(queues.command("pause").description("stop every node from starting jobs of a queue"))
    .argument("<queue>", "queue name, e.g. ad_hoc_worker", queueArg)
    .option("--for <duration>", "resume by itself after this long, e.g. 1h30m", durationArg)
    .option("--create", CREATE_HELP)
    .action(async (queue: string, options) => {
      await withAdmin(options, (admin) => admin.pause(queue, options.for, { create: options.create }));
      process.stdout.write(`Paused ${queue}${options.for ? ` for ${formatDuration(options.for)}` : ""}.\n`);
    });

  withConnection(queues.command("resume").description("let nodes start jobs of a paused queue again"))
    .argument("<queue>", "queue name", queueArg)
    .option("--create", CREATE_HELP)
    .action(async (queue: string, options) => {
      await withAdmin(options, (admin) => admin.resume(queue, { create: options.create }));
      process.stdout.write(`Resumed ${queue}.\n`);
    });

  withConnection(queues.command("scale").description("set the per-node concurrency of a queue on every node"))
    .argument("<queue>", "queue name", queueArg)
    .argument("<concurrency>", "jobs at a time per node (0 to 10000)", intArg(0, 10_000, "a concurrency"))
    .option("--create", CREATE_HELP)
    .action(async (queue: string, concurrency: number, options) => {
      await withAdmin(options, (admin) => admin.scale(queue, concurrency, { create: options.create }));
      process.stdout.write(`Scaled ${queue} to ${concurrency}.\n`);
    });
}

/** Queues added and removed at run time (persisted; every node of the type starts or stops them). */
function registerRuntimeQueues(queues: Command): void {
  withConnection(queues.command("add").description("start a queue on every node of a node type, now and on nodes started later (no restart)"))
    .argument("<queue>", "queue name", queueArg)
    .requiredOption("--node-type <type>", "which nodes run it, e.g. worker")
    .option("--node-types <types>", "extra node types to accept besides worker, api, datasync, DURABLE_NODE_TYPES and those of live nodes (comma-separated)")
    .option("--concurrency <n>", "jobs at a time per node (default 10)", intArg(0, 10_000, "a concurrency"))
    .action(async (queue: string, options) => {
      await withAdmin(options, (admin) => admin.addQueue(queue, options.nodeType, options.concurrency, { nodeTypes: options.nodeTypes ? String(options.nodeTypes).split(",").map((t: string) => t.trim()).filter(Boolean) : [] }));
      process.stdout.write(`Added ${queue} on ${options.nodeType} nodes.\n`);
    });

  withConnection(queues.command("remove").description("stop a queue added with `queues add` on every node (running jobs finish; its jobs stay)"))
    .argument("<queue>", "queue name", queueArg)
    .action(async (queue: string, options) => {
      await withAdmin(options, (admin) => admin.removeQueue(queue));
      process.stdout.write(`Removed ${queue}.\n`);
    });

  withConnection(queues.command("resize").description("set the per-node concurrency of a queue on every node (as scale)"))
    .argument("<queue>", "queue name", queueArg)
    .argument("<concurrency>", "jobs at a time per node (0 to 10000)", intArg(0, 10_000, "a concurrency"))
    .option("--create", CREATE_HELP)
    .action(async (queue: string, concurrency: number, options) => {
      await withAdmin(options, (admin) => admin.scale(queue, concurrency, { create: options.create }));
      process.stdout.write(`Resized ${queue} to ${concurrency}.\n`);
    });
}
