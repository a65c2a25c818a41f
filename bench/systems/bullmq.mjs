// BullMQ on a redis-server the bench starts on loopback. Results come back
// through QueueEvents + job.waitUntilFinished(), BullMQ's own await API.
import { Queue, QueueEvents, Worker } from "bullmq";
import IORedis from "ioredis";

export const name = "BullMQ";
export const hasAwait = true;
const QUEUE = "bench";

const connection = (env) => ({ host: env.redis.host, port: env.redis.port, maxRetriesPerRequest: null });

export function available(env) {
  return env.redis ? true : "redis-server is not installed (apt-get install redis-server)";
}

export async function reset(env) {
  const redis = new IORedis(connection(env));
  await redis.flushall();
  redis.disconnect();
}

export async function client(env) {
  const queue = new Queue(QUEUE, { connection: connection(env) });
  let events = null;
  return {
    async insertBulk(from, count) {
      const jobs = [];
      for (let i = 0; i < count; i++) jobs.push({ name: "noop", data: { seq: from + i } });
      await queue.addBulk(jobs);
    },
    enqueue: (seq) => queue.add("noop", { seq }),
    async awaitResult(job) {
      if (!events) {
        events = new QueueEvents(QUEUE, { connection: connection(env) });
        await events.waitUntilReady();
      }
      return job.waitUntilFinished(events, 60_000);
    },
    async prepareAwait() {
      events ??= new QueueEvents(QUEUE, { connection: connection(env) });
      await events.waitUntilReady();
    },
    async remaining() {
      const counts = await queue.getJobCounts("wait", "active", "delayed", "prioritized", "paused");
      return Object.values(counts).reduce((a, b) => a + b, 0);
    },
    async close() {
      await events?.close();
      await queue.close();
    },
  };
}

export async function worker(env, { concurrency, onJob }) {
  const w = new Worker(QUEUE, async (job) => onJob(job.data), { connection: connection(env), concurrency });
  w.on("error", () => undefined);
  await w.waitUntilReady();
  return { stop: () => w.close() };
}
