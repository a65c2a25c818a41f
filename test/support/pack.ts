import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { repoRoot } from "./examples.js";

/**
 * `npm pack` as from a fresh clone: the repository's files (tracked, plus new
 * ones not ignored, so uncommitted work is packed too) copied to a temporary
 * folder without dist/, packed there so that `prepack` has to build. Only
 * node_modules is shared (a symlink), and the repository's own dist/, which
 * other tests are using, is never touched. Returns the tarball's path.
 */
export function packFreshCopy(into: string): string {
  const clone = mkdtempSync(join(tmpdir(), "durable-clone-"));
  const files = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard", "-z"], { cwd: repoRoot, encoding: "utf8" })
    .split("\0")
    .filter(Boolean);
  for (const file of files) {
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    try {
      cpSync(join(repoRoot, file), join(clone, file));
    } catch (error: any) {
      if (error.code !== "ENOENT") throw error; // deleted in the work tree, not yet in the index
    }
  }
  symlinkSync(join(repoRoot, "node_modules"), join(clone, "node_modules"));
  try {
    execFileSync("npm", ["pack", "--silent", "--pack-destination", into], { cwd: clone, stdio: "pipe" });
  } finally {
    rmSync(clone, { recursive: true, force: true });
  }
  const tarball = readdirSync(into).find((f) => f.endsWith(".tgz"));
  if (!tarball) throw new Error(`npm pack wrote no tarball into ${into}`);
  const target = join(into, "durable-async.tgz");
  renameSync(join(into, tarball), target);
  return target;
}
