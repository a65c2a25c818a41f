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
  loading?: Promise<unknown>;
}

interface Registry {
  stubs: Map<string, TaskStub>;
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

export function isTaskStub(value: unknown): value is TaskStub {
  return typeof value === "object" && value !== null && (value as any)[STUB_BRAND] === true;
}

function where(t: TaskMetadata): string {
  return `${t.caller.file}:${t.caller.line}`;
}

/** Called by transformed code: registers one call site's stub. See docs/INTERNALS.md. */
export function __durableTask(definition: TaskDefinition): TaskStub {
  const existing = registry.stubs.get(definition.id);
  if (existing) {
    if (existing.hash !== definition.hash) throw new DuplicateTaskError(definition.id, where(existing), where(definition));
    return existing;
  }
  const stub = Object.freeze({ ...definition, captures: [...definition.captures], [STUB_BRAND]: true as const });
  registry.stubs.set(stub.id, stub);
  registry.metadata.set(stub.id, stub);
  for (const listener of registry.listeners) listener();
  return stub;
}

/** Called by the integrations: stubs in modules that are loaded on first use. */
export function __durableModules(entries: Array<{ tasks: TaskMetadata[]; load: () => Promise<unknown> }>): void {
  for (const entry of entries) {
    const module: LazyModule = { tasks: entry.tasks, load: entry.load };
    for (const task of entry.tasks) {
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

/** Finds the stub for a task id, loading its module first if it is only known lazily. */
export async function resolveStub(id: string): Promise<TaskStub | undefined> {
  const loaded = registry.stubs.get(id);
  if (loaded) return loaded;
  const lazy = registry.lazy.get(id);
  if (!lazy) return undefined;
  lazy.loading ??= lazy.load();
  await lazy.loading;
  return registry.stubs.get(id);
}

export function getStub(id: string): TaskStub | undefined {
  return registry.stubs.get(id);
}

export function taskMetadata(id: string): TaskMetadata | undefined {
  return registry.metadata.get(id);
}
