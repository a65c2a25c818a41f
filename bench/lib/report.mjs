// The printed report: one table (each system's figures and our ratio to each
// peer) and the targets of issues 2 and 7 with PASS/MISS.
const US = "durable-async";
const PEERS = ["graphile-worker", "pg-boss", "BullMQ"];

const fmtRate = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString("en-US") : "n/a");
const fmtMs = (x) => (Number.isFinite(x) ? (x < 10 ? x.toFixed(2) : x.toFixed(1)) : "n/a");
const fmtLat = (s) => (s ? `${fmtMs(s.p50)} / ${fmtMs(s.p95)} / ${fmtMs(s.p99)}` : "n/a");
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : "n/a");

export const ROWS = [
  { label: "single enqueue, sequential (jobs/s)", get: (r) => r.single?.rate, fmt: fmtRate },
  { label: "enqueue, 4 producers (jobs/s)", get: (r) => r.conc4?.rate, fmt: fmtRate },
  { label: "enqueue, 32 producers (jobs/s)", get: (r) => r.conc32?.rate, fmt: fmtRate },
  { label: "bulk insert (jobs/s)", get: (r) => r.bulk?.rate, fmt: fmtRate },
  { label: "unique bulk insert (jobs/s)", get: (r) => (r.unique?.works ? r.unique.unique : undefined), fmt: fmtRate, usOnly: true },
  { label: "drain 1 proc × 10 (jobs/s)", get: (r) => r.drain1?.rate, fmt: fmtRate },
  { label: "drain 2 procs × 10 (jobs/s)", get: (r) => r.drain2?.rate, fmt: fmtRate },
  { label: "pickup p50/p95/p99 (ms)", get: (r) => r.pickup, fmt: fmtLat, key: (s) => s?.p50 },
  { label: "await p50/p95/p99 (ms)", get: (r) => r.await, fmt: fmtLat, key: (s) => s?.p50 },
];

function table(rows, leftColumns = 1) {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((c, i) => (i < leftColumns ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join("  ").trimEnd()).join("\n");
}

export function targets(results) {
  const us = results[US] ?? {};
  const g = results["graphile-worker"] ?? {};
  const b = results.BullMQ ?? {};
  const rows = [];
  const check = (name, ours, theirs, pass, detail) => {
    const known = Number.isFinite(ours) && (theirs === null || Number.isFinite(theirs));
    rows.push({ name, status: known ? (pass(ours, theirs) ? "PASS" : "MISS") : "n/a", detail: known ? detail(ours, theirs) : "not measured" });
  };
  const rate = (x) => `${fmtRate(x)} jobs/s`;
  check("single enqueue ≥ 1.5× graphile-worker", us.single?.rate, g.single?.rate, (a, t) => a >= 1.5 * t, (a, t) => `${rate(a)} vs ${rate(t)} = ${ratio(a, t)} (need 1.50×)`);
  check("enqueue × 32 ≥ BullMQ", us.conc32?.rate, b.conc32?.rate, (a, t) => a >= t, (a, t) => `${rate(a)} vs ${rate(t)} = ${ratio(a, t)}`);
  for (const [key, label] of [["drain1", "1×10"], ["drain2", "2×10"]]) {
    check(`drain ${label} ≥ 1.5× graphile-worker`, us[key]?.rate, g[key]?.rate, (a, t) => a >= 1.5 * t, (a, t) => `${rate(a)} vs ${rate(t)} = ${ratio(a, t)} (need 1.50×)`);
    check(`drain ${label} ≥ BullMQ`, us[key]?.rate, b[key]?.rate, (a, t) => a >= t, (a, t) => `${rate(a)} vs ${rate(t)} = ${ratio(a, t)}`);
  }
  check("pickup p50 ≤ graphile-worker", us.pickup?.p50, g.pickup?.p50, (a, t) => a <= t, (a, t) => `${fmtMs(a)} ms vs ${fmtMs(t)} ms`);
  check("pickup p50 ≤ 1.25× BullMQ", us.pickup?.p50, b.pickup?.p50, (a, t) => a <= 1.25 * t, (a, t) => `${fmtMs(a)} ms vs ${fmtMs(t)} ms`);
  check("await p50 ≤ 5 ms", us.await?.p50, null, (a) => a <= 5, (a) => `${fmtMs(a)} ms`);
  check("await p50 ≤ 1.25× BullMQ", us.await?.p50, b.await?.p50, (a, t) => a <= 1.25 * t, (a, t) => `${fmtMs(a)} ms vs ${fmtMs(t)} ms`);
  const pb = results["pg-boss"] ?? {};
  check("await p50 ≥ 3× faster than pg-boss", us.await?.p50, pb.await?.p50, (a, t) => 3 * a <= t, (a, t) => `${fmtMs(a)} ms vs ${fmtMs(t)} ms = ${(t / a).toFixed(2)}× faster`);
  check("bulk insert ≥ graphile-worker", us.bulk?.rate, g.bulk?.rate, (a, t) => a >= t, (a, t) => `${rate(a)} vs ${rate(t)} = ${ratio(a, t)}`);
  if (us.unique && !us.unique.works) rows.push({ name: "unique insert ≥ 50% of plain", status: "n/a", detail: "the `unique` option does not dedupe in this build" });
  else check("unique insert ≥ 50% of plain", us.unique?.unique, us.unique?.plain, (a, t) => a >= 0.5 * t, (a, t) => `${rate(a)} vs plain ${rate(t)} = ${((a / t) * 100).toFixed(0)}%`);
  return rows;
}

export function formatReport({ results, skipped, machine, size }) {
  const systems = [US, ...PEERS];
  const present = PEERS.filter((p) => results[p]);
  const header = ["workload", ...systems, ...present.map((p) => `us/${p}`)];
  const body = ROWS.map((row) => {
    const cells = systems.map((s) => (results[s] && !(row.usOnly && s !== US) ? row.fmt(row.get(results[s])) : results[s] ? "-" : "skipped"));
    const key = row.key ?? ((x) => x);
    const ratios = present.map((p) => (row.usOnly ? "-" : ratio(key(row.get(results[US] ?? {})), key(row.get(results[p])))));
    return [row.label, ...cells, ...ratios];
  });
  const out = [];
  out.push("");
  out.push(`machine: ${machine.cpus}, ${machine.memory}, Node ${machine.node}; ${machine.postgres}`);
  out.push(`build: ${machine.build}`);
  out.push(`mode: ${machine.mode} (${size.reps} rounds, each running every system once; rates are medians over rounds, latencies pool all rounds' samples; ${size.drainJobs.toLocaleString("en-US")} jobs per drain; ${size.bulkJobs.toLocaleString("en-US")} jobs in calls of ${size.bulkBatch} per bulk insert; pickup/await n=${size.pickup}; enqueue: ${size.singleJobs.toLocaleString("en-US")} sequential, ${size.concurrentJobs.toLocaleString("en-US")} by 4 and by 32 producers); took ${machine.seconds} s`);
  if (machine.load) {
    const busy = machine.load.max > 3;
    out.push(`1-min load average during the run: mean ${machine.load.mean.toFixed(1)}, max ${machine.load.max.toFixed(1)} on ${machine.cpus.split(" ")[0]} cores${busy ? " (WARNING: other work was running; figures are skewed)" : ""}`);
  }
  out.push("");
  out.push(table([header, ...body]));
  out.push("");
  out.push("us/peer = durable-async ÷ peer: above 1 is better for rates, below 1 is better for latencies (p50 compared).");
  out.push(`per round (jobs/s), to judge the noise${machine.load?.rounds ? `; 1-min load at each round's start: ${machine.load.rounds.map((l) => l.toFixed(1)).join(" / ")}` : ""}:`);
  const rounds = (x) => (x?.runs ? x.runs.map((r) => fmtRate(r)).join(" / ") : "-");
  for (const s of systems.filter((name) => results[name])) {
    const r = results[s];
    out.push(`  ${s}: single ${rounds(r.single)}; ×4 ${rounds(r.conc4)}; ×32 ${rounds(r.conc32)}; bulk ${rounds(r.bulk)}; drain 1×10 ${rounds(r.drain1)}; drain 2×10 ${rounds(r.drain2)}`);
  }
  if (results[US]?.unique?.works) out.push(`unique: ${fmtRate(results[US].unique.unique)} jobs/s vs plain ${fmtRate(results[US].unique.plain)} jobs/s in the same runs.`);
  for (const [name, why] of Object.entries(skipped)) out.push(`${name}: skipped: ${why}`);
  out.push("");
  out.push("targets (issues 2, 7 and 19):");
  const t = targets(results);
  out.push(table(t.map((r) => [r.status, r.name, r.detail]), 3));
  return out.join("\n");
}
