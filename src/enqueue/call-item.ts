import { normalizeAsyncOptions, type AsyncOptions, type NormalizedJobOptions } from "../config/options.js";
import type { NormalizedStart } from "../config/start.js";
import { describe } from "../config/duration.js";
import { sameOptions, snapshotOptions } from "../config/same-options.js";
import { InvalidOptionError, UntransformedCallError } from "../errors.js";
import { isTaskStub, type TaskStub } from "../tasks/registry.js";
import { callSiteFromStack, untransformedHint } from "../tasks/call-site.js";
import type { EnqueueItem } from "./index.js";

const RELATIVE_OPTIONS = ["delay", "deadline", "debounce", "onDiscard"] as const;

/**
 * Turns the stub/captures/options triple the transformer emits into an
 * EnqueueItem, or explains why the call is wrong. Validated option objects
 * are shared: most calls pass none, and a loop or bulk call passes equal
 * ones again and again.
 */
export class CallItems {
  private defaultJobOptions: NormalizedJobOptions | undefined;
  private lastOptions: { raw: unknown; normalized: NormalizedJobOptions } | undefined;

  constructor(private readonly config: Pick<NormalizedStart, "defaultMaxAttempts" | "defaultTimeoutMs" | "knownNodeTypes">) {}

  item(method: string, stub: unknown, captures: unknown, options: unknown): EnqueueItem {
    if (typeof stub === "function") throw new UntransformedCallError(method, callSiteFromStack(), untransformedHint());
    if (!isTaskStub(stub)) {
      throw new InvalidOptionError("task", `durable.${method}() expects a closure like () => sendEmail(user.id), got ${describe(stub)}.`);
    }
    if (typeof captures !== "object" || captures === null || Array.isArray(captures)) {
      throw new InvalidOptionError("captures", `expected the captures object the transformer passes, got ${describe(captures)}.`);
    }
    // The transformer pins ids from a `name` it can read at build time; one that only arrives now was not applied.
    // (A cron entry's name is the entry's, passed on by durable.cron itself.)
    const name = method !== "cron" && typeof options === "object" && options !== null ? (options as AsyncOptions).name : undefined;
    if (name !== undefined && name !== (stub as TaskStub).id) {
      throw new InvalidOptionError("name", `durable.${method}() got the name ${describe(name)} at run time, but its task id is "${(stub as TaskStub).id}": the transformer reads \`name\` at build time only, from a string literal in the call's options (or a const object literal in the same file). Write { name: ${JSON.stringify(String(name))} } in the call.`);
    }
    return { stub: stub as TaskStub, captures: captures as Record<string, unknown>, options: this.options(options) };
  }

  private options(options: unknown): NormalizedJobOptions {
    // Calls without options (most of them, and every row of a typical bulk insert) share one frozen normalization.
    if (options === undefined) return (this.defaultJobOptions ??= Object.freeze(this.normalize(undefined)));
    // Each call site builds a fresh object: equal to the last one, it shares that one's validated result.
    if (this.lastOptions && sameOptions(this.lastOptions.raw, options)) return this.lastOptions.normalized;
    const normalized = this.normalize(options);
    // `delay`, `deadline` and `debounce` are relative to now, and an onDiscard hook snapshots its captures:
    // such normalizations cannot be reused later.
    const reusable = typeof options === "object" && options !== null && !RELATIVE_OPTIONS.some((k) => (options as AsyncOptions)[k] !== undefined);
    // A copy, not the caller's object: an options object mutated and passed again must not match.
    if (reusable) this.lastOptions = { raw: snapshotOptions(options), normalized: Object.freeze(normalized) };
    return normalized;
  }

  private normalize(options: unknown): NormalizedJobOptions {
    return normalizeAsyncOptions(options, {
      maxAttempts: this.config.defaultMaxAttempts,
      timeoutMs: this.config.defaultTimeoutMs,
      nodeTypes: this.config.knownNodeTypes,
    });
  }
}

