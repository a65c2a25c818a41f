#!/usr/bin/env node
// One enqueue ratio on a noisy machine: alternates short bursts of the same
// enqueue workload between two systems (A B B A A B …) many times on one
// server, so a change in the machine's load lands on both alike, and prints
// the ratio of the medians. For the key ratios when `run.mjs` reports a
// loaded machine.
//
//   node bench/ab.mjs [--a=durable] [--b=graphile] [--producers=1] [--jobs=100] [--bursts=12]
import os from "node:os";
import { startPostgres, startRedis } from "./lib/services.mjs";
import { snapshotDist } from "./lib/dist.mjs";
import { median, nowMs } from "./lib/clock.mjs";

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback;
const [nameA, nameB] = [arg("a", "durable"), arg("b", "graphile")];
const producers = Number(arg("producers", 1));
const jobs = Number(arg("jobs", 100 * producers));
const bursts = Number(arg("bursts", 12));
const log = (m) => process.stderr.write(`${m}\n`);
const dropSnapshot = snapshotDist();
const server = await startPostgres(log);
const redis = [nameA, nameB].includes("bullmq") ? await startRedis(log) : null;
const env = { pgUrl: server.url, redis: redis ? { host: redis.host, port: redis.port } : null };
const loads = [os.loadavg()[0]];

const open = async (file) => {
  const system = await import(`./systems/${file}.mjs`);
  await system.reset(env);
  return { system, client: await system.client(env), rates: [] };
};
const sides = [await open(nameA), await open(nameB)];
let seq = 0;
const burst = async (c) => {
  let left = jobs;
  const loop = async () => {
    while (left-- > 0) await c.enqueue(seq++);
  };
  const t0 = nowMs();
  await Promise.all(Array.from({ length: producers }, loop));
  return (jobs / (nowMs() - t0)) * 1000;
};
for (const side of sides) await Promise.all(Array.from({ length: producers }, () => side.client.enqueue(-1)));
for (let i = 0; i < bursts; i++) {
  // A B, then B A: neither side always goes first.
  for (const side of i % 2 ? [...sides].reverse() : sides) side.rates.push(await burst(side.client));
}
loads.push(os.loadavg()[0]);
for (const side of sides) await side.client.close();
const [a, b] = sides;
const fmt = (list) => list.map((r) => Math.round(r)).join(" ");
console.log(`${server.description}; ${producers} producer(s), ${jobs} jobs per burst, ${bursts} bursts each; 1-min load ${loads.map((l) => l.toFixed(1)).join(" -> ")}`);
console.log(`${a.system.name}: ${fmt(a.rates)} jobs/s (median ${Math.round(median(a.rates))})`);
console.log(`${b.system.name}: ${fmt(b.rates)} jobs/s (median ${Math.round(median(b.rates))})`);
console.log(`${a.system.name} / ${b.system.name} = ${(median(a.rates) / median(b.rates)).toFixed(2)}×`);
await redis?.stop();
await server.stop();
dropSnapshot();
