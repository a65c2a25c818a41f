import type { TaskDefinition, TaskMetadata } from "../contract/index.js";
import { DuplicateTaskError } from "../errors.js";

export type { CallerLocation, TaskDefinition, TaskMetadata } from "../contract/index.js";

// The stub registry is process-wide and lives on globalThis, so a bundle that
// ends up with two copies of this package still has one registry.

const STUB_BRAND = Symbol.for("durable-async.stub");

export interface TaskStub extends TaskDefinition {
  readonly [STUB_BRAND]: true;
}

interface LazyModule {
  tasks: TaskMetadata[];
  load: () => Promise<unknown>;
  /** The module declares cron entries while it loads: a node that runs jobs loads it at start. */
  cron: boolean;
  loading?: Promise<unknown>;
}

interface Registry {
  stubs: Map<string, TaskStub>;
  /** Ids whose stub came from a worker-side slice: the module's own stub replaces it when the module loads. */
  fromSlice?: Set<string>;
  lazy: Map<string, LazyModule>;
  metadata: Map<string, TaskMetadata>;
  listeners: Set<() => void>;
}

const REGISTRY_KEY = Symbol.for("durable-async.registry");
const registry: Registry = ((globalThis as any)[REGISTRY_KEY] ??= {
  stubs: new Map(),
  lazy: new Map(),
  metadata: new Map(),
  listeners: new Set(),
});
// A registry made by an older copy of the package has no slice set yet.
const fromSlice = (registry.fromSlice ??= new Set());

export function isTaskStub(value: unknown): value is TaskStub {
  return typeof value === "object" && value !== null && (value as any)[STUB_BRAND] === true;
}

function where(t: TaskMetadata): string {
  return `${t.caller.file}:${t.caller.line}`;
}

function register(definition: TaskDefinition, slice: boolean): TaskStub {
  const stub = Object.freeze({ ...definition, captures: [...definition.captures], [STUB_BRAND]: true as const });
  const isNew = !registry.stubs.has(stub.id);
  registry.stubs.set(stub.id, stub);
  registry.metadata.set(stub.id, stub);
  if (slice) fromSlice.add(stub.id);
  else fromSlice.delete(stub.id);
  if (isNew) for (const listener of registry.listeners) listener();
  return stub;
}

/**
 * Called by transformed code: registers one call site's stub. See
 * docs/INTERNALS.md. A stub a worker-side slice registered first gives way:
 * the module's own closures see the module's own state, which a process that
 * loaded the module (an API node that also runs jobs) must use.
 */
export function __durableTask(definition: TaskDefinition): TaskStub {
  const existing = registry.stubs.get(definition.id);
  if (existing && existing.hash !== definition.hash) throw new DuplicateTaskError(definition.id, where(existing), where(definition));
  if (existing && !fromSlice.has(definition.id)) return existing;
  return register(definition, false);
}

/** Called by a worker-side slice: registers its stub unless the module's own (or an equal slice's) is there already. */
export function __durableSliceTask(definition: TaskDefinition): TaskStub {
  const existing = registry.stubs.get(definition.id);
  if (existing && existing.hash !== definition.hash) throw new DuplicateTaskError(definition.id, where(existing), where(definition));
  return existing ?? register(definition, true);
}

/** Called by the integrations: stubs in modules that are loaded on first use. */
export function __durableModules(entries: Array<{ tasks: TaskMetadata[]; load: () => Promise<unknown>; cron?: boolean }>): void {
  for (const entry of entries) {
    const module: LazyModule = { tasks: entry.tasks, load: entry.load, cron: entry.cron === true };
    for (const task of entry.tasks) {
      // Two modules under one id would run each other's jobs: refuse, naming both places.
      const known = registry.metadata.get(task.id);
      if (known && known.hash !== task.hash) throw new DuplicateTaskError(task.id, where(known), where(task));
      if (!registry.stubs.has(task.id)) registry.metadata.set(task.id, task);
      registry.lazy.set(task.id, module);
    }
  }
  for (const listener of registry.listeners) listener();
}

/** Every task this process can run: loaded stubs and lazily loadable ones. */
export function knownTasks(): TaskMetadata[] {
  return [...registry.metadata.values()];
}

export function onTasksChanged(listener: () => void): () => void {
  registry.listeners.add(listener);
  return () => registry.listeners.delete(listener);
}

/** Loads a lazily known module once; a failed load is forgotten, so the next job tries again. */
function loadLazy(lazy: LazyModule): Promise<unknown> {
  lazy.loading ??= lazy.load().catch((error: unknown) => {
    lazy.loading = undefined;
    throw error;
  });
  return lazy.loading;
}

/** Finds the stub for a task id, loading its module (or the module's worker-side slice) first if it is only known lazily. */
export async function resolveStub(id: string): Promise<TaskStub | undefined> {
  const loaded = registry.stubs.get(id);
  if (loaded) return loaded;
  const lazy = registry.lazy.get(id);
  if (!lazy) return undefined;
  await loadLazy(lazy);
  return registry.stubs.get(id);
}

/**
 * Loads every lazily known module that declares cron entries while it loads
 * and whose stubs are not registered yet (the module itself was not
 * imported), so its entries reach this process's scheduler. Resolves with
 * the modules that failed to load.
 */
export async function loadCronModules(): Promise<Array<{ file: string; error: unknown }>> {
  const pending = new Set<LazyModule>();
  for (const lazy of registry.lazy.values()) {
    if (lazy.cron && lazy.tasks.some((t) => !registry.stubs.has(t.id))) pending.add(lazy);
  }
  const failed: Array<{ file: string; error: unknown }> = [];
  await Promise.all([...pending].map((lazy) => loadLazy(lazy).catch((error: unknown) => {
    failed.push({ file: lazy.tasks[0]?.caller.file ?? "?", error });
  })));
  return failed;
}

export function getStub(id: string): TaskStub | undefined {
  return registry.stubs.get(id);
}

export function taskMetadata(id: string): TaskMetadata | undefined {
  return registry.metadata.get(id);
}
