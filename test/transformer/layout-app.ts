// The app the real-layout end-to-end tests run (layouts.test.ts): an HTTP
// server that listens at its top level and enqueues from route handlers, a
// module-level cron entry in a module nobody imports, a module-level call
// site above a later import, a CommonJS module, and a worker entry that
// imports none of them. Every module's top level appends a line to
// $MARKER_FILE, so a test sees which process ran which module's top level.
export const layoutApp: Record<string, string> = {
  "src/server.ts": `import { appendFileSync } from "node:fs";
import { createServer } from "node:http";
import { durable } from "durable-async";
import { greet } from "./greet.js";
import { early } from "./early.js";
import { legacy } from "./legacy.cjs";

appendFileSync(process.env.MARKER_FILE!, \`server top level in \${process.pid}\\n\`);
const prefix = "hello";

const server = createServer(async (req, res) => {
  const url = new URL(req.url!, "http://localhost");
  const name = url.searchParams.get("name") ?? "nobody";
  if (url.pathname === "/greet") {
    const job = await durable.async(() => greet(\`\${prefix} \${name}\`));
    res.end(JSON.stringify({ id: job.id }));
  } else if (url.pathname === "/legacy") {
    const job = await legacy(Number(url.searchParams.get("n")));
    res.end(JSON.stringify({ id: job.id }));
  } else if (url.pathname === "/explode") {
    const job = await durable.async(() => {
      throw new Error(\`exploded for \${name}\`);
    }, { maxAttempts: 1 });
    res.end(JSON.stringify({ id: job.id }));
  } else if (url.pathname === "/early") {
    res.end(JSON.stringify({ id: (await early).id }));
  } else {
    const registry = (globalThis as any)[Symbol.for("durable-async.registry")];
    res.end(JSON.stringify({ fromSlice: [...(registry.fromSlice ?? [])] }));
  }
});

await durable.start({
  database: process.env.DATABASE_URL, schema: process.env.DURABLE_SCHEMA,
  nodeType: (process.env.NODE_TYPES ?? "api").split(","), run: process.env.RUN_JOBS === "1", pollInterval: 200,
});
server.listen(Number(process.env.PORT), () => console.log("listening"));
`,
  "src/greet.ts": `export function greet(text: string): string {
  return text.toUpperCase();
}
`,
  "src/early.ts": `import { appendFileSync } from "node:fs";
import { durable } from "durable-async";
export const early = durable.async(() => compute(21));
import { compute } from "./compute.js";
appendFileSync(process.env.MARKER_FILE!, \`early top level in \${process.pid}\\n\`);
`,
  "src/compute.ts": `export const compute = (n: number): number => n * 2;
`,
  "src/legacy.cjs": `"use strict";
const { appendFileSync } = require("node:fs");
const { durable } = require("durable-async");
const { double } = require("./double.cjs");
appendFileSync(process.env.MARKER_FILE, "legacy top level in " + process.pid + "\\n");
exports.legacy = function legacy(n) {
  return durable.async(() => double(n));
};
`,
  "src/double.cjs": `exports.double = (n) => n * 2;
`,
  "src/schedules.ts": `import { appendFileSync } from "node:fs";
import { durable } from "durable-async";
import { compute } from "./compute.js";

appendFileSync(process.env.MARKER_FILE!, \`schedules top level in \${process.pid}\\n\`);
durable.cron("* * * * * *", () => compute(50), { name: "every-second" });
`,
  "src/worker.ts": `import { durable } from "durable-async";

await durable.start({
  database: process.env.DATABASE_URL, schema: process.env.DURABLE_SCHEMA, nodeType: "worker", pollInterval: 200,
});
console.log("worker ready");
`,
};
