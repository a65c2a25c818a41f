// The module part of a task id: a file's path relative to its project root,
// with forward slashes. The root comes from the files themselves
// (src/contract/project-root.ts), so every process of a codebase derives the
// same ids wherever it was started from.
import { isAbsolute, relative, resolve, sep } from "node:path";
import { projectRootOf } from "../src/contract/index.js";

/** A path tail that path.relative() would leave as it is: no empty, "." or ".." segment, no trailing separator. */
const NOT_NORMAL = /(?:^|[\\/])\.{0,2}(?:[\\/]|$)/;
let lastRoot = { given: "", resolved: "" };

/** Forward-slash, project-relative path: the module part of a task id. */
export function projectRelative(root: string, fileName: string): string {
  if (!isAbsolute(fileName)) return fileName.split(sep).join("/");
  // Most files lie under the root: take the tail directly. path.relative()
  // resolves both paths on every call, and in a cold process that was a few
  // milliseconds of a build's 100 calls.
  if (lastRoot.given !== root) lastRoot = { given: root, resolved: resolve(root) };
  const prefix = lastRoot.resolved.endsWith(sep) ? lastRoot.resolved : lastRoot.resolved + sep;
  const tail = fileName.startsWith(prefix) ? fileName.slice(prefix.length) : "";
  const rel = tail !== "" && !NOT_NORMAL.test(tail) ? tail : relative(root, fileName);
  return rel.split(sep).join("/");
}

/** The root a file's id is relative to: the explicit one when a build names it, else the file's own project root. */
export function idRoot(fileName: string, explicitRoot: string | undefined): string {
  return explicitRoot ?? projectRootOf(fileName);
}
