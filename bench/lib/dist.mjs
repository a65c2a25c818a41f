// Which build of durable-async the bench loads. run.mjs snapshots dist/ at
// start (other work in the same tree may rebuild dist/ mid-run, and a worker
// child forked during a rebuild would fail to import it) and passes the copy
// to its children through DURABLE_BENCH_DIST. The copy sits under
// node_modules/.cache so its bare imports (pg, superjson) still resolve.
import { cpSync, existsSync, mkdirSync, rmSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";

const root = fileURLToPath(new URL("../../", import.meta.url));

export const distUrl = (path) =>
  new URL(path, process.env.DURABLE_BENCH_DIST ? pathToFileURL(process.env.DURABLE_BENCH_DIST + "/") : new URL("../../dist/", import.meta.url)).href;

export function snapshotDist() {
  const source = join(root, "dist", "src");
  const target = join(root, "node_modules", ".cache", "durable-bench", String(process.pid), "dist");
  const drop = () => rmSync(join(target, ".."), { recursive: true, force: true });
  // A build running right now deletes and rewrites dist/: retry until a copy
  // succeeds whole. Only dist/src is needed (the runtime).
  for (let attempt = 0; ; attempt++) {
    try {
      if (!existsSync(join(source, "index.js"))) throw new Error("dist/src/index.js is missing");
      drop();
      mkdirSync(target, { recursive: true });
      cpSync(source, join(target, "src"), { recursive: true });
      // migrate.js finds migrations/ by walking up from itself, as in the package.
      cpSync(join(root, "migrations"), join(target, "..", "migrations"), { recursive: true });
      if (!existsSync(join(target, "src", "index.js"))) throw new Error("dist/ changed while it was copied");
      break;
    } catch (error) {
      if (attempt >= 30) throw new Error(`cannot snapshot dist/ (${error.message}): run \`node scripts/build.mjs\` (npm run bench does) first.`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  process.env.DURABLE_BENCH_DIST = target;
  return drop;
}
