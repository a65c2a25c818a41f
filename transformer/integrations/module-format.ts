// Which module system Node gives a file, as far as the Node hook needs to
// know before the file loads: `.cjs`/`.cts` are CommonJS, `.mjs`/`.mts` ES
// modules, and `.js` follows the `type` of the nearest package.json.
import { existsSync, readFileSync } from "node:fs";
import { dirname, extname, join, resolve } from "node:path";

function packageType(file: string): string | undefined {
  for (let dir = dirname(resolve(file)); ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, "utf8")) as { type?: string }).type;
      } catch {
        return undefined;
      }
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The main script is CommonJS (the hook then loads the parser at start, for the CommonJS loader's synchronous compile). */
export function isCommonJsEntry(file: string | undefined): boolean {
  if (!file) return false;
  const ext = extname(file);
  if (ext === ".cjs" || ext === ".cts") return true;
  return (ext === ".js" || ext === ".jsx") && packageType(file) !== "module";
}
