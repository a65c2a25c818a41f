// Where a user's call stands, for errors about call sites the transformer
// never saw. The stack is cut at the API method the user called (the
// `durable` facade, a DurableInstance, the testing target), so the first frame
// left is the user's own line, whatever the files are called (a bundle holds
// the package and the app in one file; Vitest runs the package from source).

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

/** What to tell a user whose call was not transformed, from where the process runs. */
export function untransformedHint(): string {
  if ((globalThis as Record<symbol, unknown>)[Symbol.for("durable-async.hook")]) {
    return "The Node hook (--import durable-async/register) is on but did not transform this file: it transforms the project's files, " +
      "not files under node_modules (a dependency that calls durable-async must be built with the transformer).";
  }
  if (process.env.VITEST) return "Under Vitest, add the plugin to vitest.config: `plugins: [durableVite()]` from `durable-async/vite`.";
  return "";
}
