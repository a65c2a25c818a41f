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
  const source = join(root, "dist");
  if (!existsSync(join(source, "src", "index.js"))) throw new Error("dist/ is missing: run `node scripts/build.mjs` (npm run bench does) first.");
  const target = join(root, "node_modules", ".cache", "durable-bench", String(process.pid), "dist");
  mkdirSync(target, { recursive: true });
  cpSync(source, target, { recursive: true });
  // migrate.js finds migrations/ by walking up from itself, as in the package.
  cpSync(join(root, "migrations"), join(target, "..", "migrations"), { recursive: true });
  process.env.DURABLE_BENCH_DIST = target;
  return () => rmSync(join(target, ".."), { recursive: true, force: true });
}
