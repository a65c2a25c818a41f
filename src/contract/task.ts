// What a transformed call site hands the runtime: the metadata of one task
// stub. The transformer writes it (stubs, discovery entries, the build
// manifest) and the runtime reads it (registry, tasks table, dashboard), so
// both import these definitions from here and nowhere else.

/** The package users import `durable` from; call sites are found through it. */
export const PACKAGE_NAME = "durable-async";

/** The runtime exports transformed code imports (see docs/INTERNALS.md). */
export const TASK_HELPER_EXPORT = "__durableTask";
/** What a module's worker-side slice registers its stubs with: they yield to the module's own. */
export const SLICE_TASK_HELPER_EXPORT = "__durableSliceTask";
export const MODULES_HELPER_EXPORT = "__durableModules";

/** Which `durable` method a call site used. */
export type TaskKind = "async" | "run" | "cron";
export const TASK_KINDS: readonly TaskKind[] = ["async", "run", "cron"];

/** Where a call site stands in the user's source: 1-based line and column, project-relative file. */
export interface CallerLocation {
  file: string;
  /** Enclosing declaration path (`OrderService.charge`), or null at module level. */
  fn: string | null;
  line: number;
  column: number;
}

/** A stub's metadata, as discovery and the build manifest carry it (no `run`). */
export interface TaskMetadata {
  /** Stable task id: `<module>#<declaration path>#<ordinal>`, or the user's `name`. */
  id: string;
  /** 16 hex chars: the closure's normalized code and capture names. */
  hash: string;
  caller: CallerLocation;
  /** The closure's original source text. */
  source: string;
  /** Capture names, sorted. */
  captures: string[];
  kind: TaskKind;
}

/** What `__durableTask` receives: the metadata plus the closure, moved to module level. */
export interface TaskDefinition extends TaskMetadata {
  run: (captures: Record<string, unknown>) => unknown;
}

/** `src/users.ts:12:3`: how errors and diagnostics name a call site. */
export function formatCaller(caller: CallerLocation): string {
  return `${caller.file}:${caller.line}:${caller.column}`;
}

/**
 * Two registrations of one id come from the same call site when they name
 * the same file: within a file the transformer already refuses duplicate ids
 * (DA1012), so the same file registering again is the module re-evaluated
 * (a reload, a second copy of a bundle), possibly edited.
 */
export function sameCallSite(a: CallerLocation, b: CallerLocation): boolean {
  return a.file === b.file;
}
