// Where a user's call stands, for errors about call sites the transformer
// never saw. The stack is cut at the API method the user called (the
// `durable` facade, a DurableInstance, the testing target), so the first frame
// left is the user's own line, whatever the files are called (a bundle holds
// the package and the app in one file; Vitest runs the package from source).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PACKAGE_NAME } from "../contract/index.js";

// On globalThis: the copy of the package that throws (the testing target, a
// bundle's own copy) is not always the one whose method the user called.
const boundaries: Set<Function> = ((globalThis as Record<symbol, unknown>)[Symbol.for("durable-async.call-boundaries")] ??= new Set<Function>()) as Set<Function>;

/** Marks functions users call directly: the frame that called one of them is the call site. */
export function markCallBoundary(...fns: Function[]): void {
  for (const fn of fns) boundaries.add(fn);
}

/** `at handler (/app/src/routes.ts:12:5)` → `/app/src/routes.ts:12:5 (in handler)`. */
function describeFrame(frame: string): string {
  const line = frame.trim().replace(/^at\s+/, "");
  const match = /^(.*?) \((.*)\)$/.exec(line);
  if (!match) return line;
  const [, fn, location] = match;
  return fn && fn !== "<anonymous>" && !fn.startsWith("Object.<anonymous>") ? `${location} (in ${fn})` : location!;
}

/** The user's call site: the first frame below the outermost marked method on the stack. */
export function callSiteFromStack(): string | undefined {
  let best: string[] | undefined;
  // Whole stacks, so that the outermost marked method is the one that leaves the fewest frames.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 500;
  try {
    for (const fn of boundaries) {
      const holder: { stack?: string } = {};
      Error.captureStackTrace(holder, fn);
      // Without `fn` on the stack, nothing is left but the message line.
      const frames = (holder.stack ?? "").split("\n").slice(1).filter((l) => l.trim().startsWith("at "));
      if (frames.length > 0 && (!best || frames.length < best.length)) best = frames;
    }
  } finally {
    Error.stackTraceLimit = limit;
  }
  const frame = best?.find((l) => !l.includes("node:internal"));
  return frame ? describeFrame(frame) : undefined;
}

/** `/app/src/a.ts:3:5 (in f)` or `file:///app/src/a.ts:3:5` → the file's path, when it is one. */
function fileOf(location: string): string | undefined {
  const match = /^(.*?):\d+:\d+(?: \(in .*\))?$/.exec(location);
  const file = match?.[1];
  if (!file) return undefined;
  try {
    return file.startsWith("file:") ? fileURLToPath(file) : file.startsWith("/") || /^[A-Za-z]:[\\/]/.test(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

/** `import { durable } from "./lib/reexport.js"` (or a require of it): where the file takes `durable` from, when it is not the package. */
function localDurableImport(text: string): string | undefined {
  const imports = /\bimport\s+(?!type\b)[^;]*?\{([^}]*)\}\s*from\s*["']([^"']+)["']|\{([^}]*)\}\s*=\s*require\(\s*["']([^"']+)["']\s*\)/g;
  for (const m of text.matchAll(imports)) {
    const names = m[1] ?? m[3] ?? "";
    const from = m[2] ?? m[4]!;
    if (from !== PACKAGE_NAME && /(?:^|,)\s*durable\b(?!\s*:)/.test(names.replace(/\btype\s+durable\b[^,]*/g, ""))) return from;
  }
  return undefined;
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

/**
 * What to tell a user whose call was not transformed, from where the process
 * runs and what the calling file holds. Read on the error path only: the
 * transformer compiles calls on `durable` imported from the package itself,
 * so a file that takes it from a module of its own (a re-export) is never
 * compiled by any integration, whichever is on.
 */
export function untransformedHint(location = callSiteFromStack()): string {
  const file = location ? fileOf(location) : undefined;
  const underNodeModules = file !== undefined && /[\\/]node_modules[\\/]/.test(file);
  const text = file && !underNodeModules ? readText(file) : undefined;
  const from = text === undefined ? undefined : localDurableImport(text);
  const vitest = process.env.VITEST ? "Under Vitest, add the plugin to vitest.config: `plugins: [durableVite()]` from `durable-async/vite`." : "";
  if (from !== undefined) {
    return `${file} imports \`durable\` from "${from}", not from "${PACKAGE_NAME}": the transformer compiles calls on \`durable\` imported ` +
      `from "${PACKAGE_NAME}" itself and does not follow re-exports. Import it from "${PACKAGE_NAME}" in this module.${vitest ? ` ${vitest}` : ""}`;
  }
  if ((globalThis as Record<symbol, unknown>)[Symbol.for("durable-async.hook")]) {
    if (underNodeModules) {
      return "The Node hook (--import durable-async/register) is on but did not transform this file: it transforms the project's files, " +
        "not files under node_modules (a dependency that calls durable-async must be built with the transformer).";
    }
    return "The Node hook (--import durable-async/register) is on but did not transform this file: it compiles calls on `durable` " +
      `imported from "${PACKAGE_NAME}" in the module that makes them (an ES import or a CommonJS require), not files under node_modules.`;
  }
  return vitest;
}
