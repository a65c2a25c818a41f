// The worker-side slice of a module (docs/INTERNALS.md "Worker-side slices"):
// what a worker loads to run a job from a module, instead of the module. It
// keeps the stubs and what their closures reach, transitively, as a bundler
// tree-shakes: imports, declarations, side-effect-only imports, module-level
// `durable.cron` entries, and the top-level statements that change a binding
// the slice keeps (`handlers.set(…)`, `config = load()`), so a job sees what
// it would see in place. Every other top-level statement (`app.listen()`,
// `await durable.start()`) never runs on a worker.
//
// When nothing the slice leaves out does anything (only imports the slice
// keeps, functions, effect-free declarations), the module is its own slice:
// the worker loads the module itself, one instance for the whole process.
import { makeDiagnostic, type Diagnostic, type DiagnosticCode } from "./diagnostics.js";
import type { Binding, Reference, ScopeAnalysis } from "./scope-model.js";
import { dottedName, escapes, hasEffects, isFrozenPrimitive, mutationOf, runsAtLoad } from "./slice-effects.js";
import { moduleUnits, type ModuleUnits, type Unit } from "./slice-units.js";
import { unwrapParens, type LineIndex, type Node } from "./syntax.js";

export interface SlicePlan {
  /** "module": the module is its own slice; "slice": a worker loads the units marked here instead. */
  mode: "module" | "slice";
  /** Units the slice keeps, in source order (empty in "module" mode). */
  units: Unit[];
  /** The module declares `durable.cron` entries that run while it loads: workers load it (its slice) at start. */
  cron: boolean;
  /** DA4xxx: what the slice runs or leaves out that a user should know about (reported by `durable check`). */
  diagnostics: Diagnostic[];
  /** Where the first statement starts: the comments above it (a `@jsx` pragma, a license) open the slice too. */
  firstStatement: number;
}

/** What the planner reads of a call site (analyze.ts's CallSite has it all). */
export interface SliceCallSite {
  kind: "async" | "run" | "cron";
  /** Index of the call site whose closure holds this one. */
  parent: number | null;
  closureStart: number;
  closureEnd: number;
}

export interface SliceInput {
  program: Node;
  scopes: ScopeAnalysis;
  source: string;
  callSites: readonly SliceCallSite[];
  /** The closure of each call site, by index. */
  closures: readonly Node[];
  /** The runtime package: the slice imports it anyway (for its stubs). */
  runtimeModule: string;
  file: string;
  lines: LineIndex;
}

const JSX_FACTORIES = ["React", "h", "jsx", "createElement", "Fragment"];
const LOCAL_KINDS = new Set<Binding["kind"]>(["var", "let", "const", "using", "function", "class", "enum", "namespace"]);

function isLocal(binding: Binding | null): binding is Binding {
  return binding !== null && LOCAL_KINDS.has(binding.kind);
}

/** The durable call around a closure, through parentheses. */
function callOf(closure: Node): Node {
  let e = closure;
  while (e.parent?.type === "ParenthesizedExpression") e = e.parent;
  return e.parent ?? closure;
}

class SlicePlanner {
  private readonly index: ModuleUnits;
  private readonly kept = new Set<Unit>();
  private readonly reached = new Set<string>();
  private readonly pending: string[] = [];
  /** Module bindings each module-level function changes when called, transitively. */
  private readonly changes = new Map<string, Set<string>>();
  readonly diagnostics: Diagnostic[] = [];
  cron = false;

  constructor(private readonly input: SliceInput, private readonly report: boolean) {
    this.index = moduleUnits(input.program, input.scopes, input.source);
  }

  plan(): SlicePlan {
    this.seed();
    for (let grew = true; grew;) {
      this.drain();
      grew = this.keepWriters();
    }
    const mode = this.index.units.every((u) => this.kept.has(u) || this.inert(u)) ? "module" : "slice";
    if (this.report) this.reportKept();
    const units = mode === "module" ? [] : this.index.units.filter((u) => this.kept.has(u));
    const firstStatement = this.input.program.body[0]?.start ?? this.input.source.length;
    return { mode, units, cron: this.cron, diagnostics: this.diagnostics, firstStatement };
  }

  /** What the closures refer to, and every statement that declares a cron entry while the module loads. */
  private seed(): void {
    const { callSites, closures, scopes } = this.input;
    for (const site of callSites) {
      if (site.parent !== null) continue; // inside its parent's closure, which is read whole
      const refs = scopes.references;
      for (let i = firstAtOrAfter(refs, site.closureStart); i < refs.length && refs[i]!.id.start < site.closureEnd; i++) {
        if (refs[i]!.binding?.scope === scopes.module) this.reach(refs[i]!.name);
      }
    }
    for (const u of this.index.units) {
      if (u.kind === "bare-import" || u.kind === "directive") this.keep(u);
    }
    this.reachJsxFactory();
    callSites.forEach((site, i) => {
      if (site.kind !== "cron" || site.parent !== null) return;
      const call = callOf(closures[i]!);
      const home = this.index.units.find((u) => call.start >= u.node.start && call.end <= u.node.end);
      if (home && runsAtLoad(call, home.node)) {
        this.cron = true;
        this.keep(home);
      } else if (this.report) {
        this.note("DA4004", call, "This durable.cron entry is declared inside a function: it is registered only when that function runs, and workers do not discover it.");
      }
    });
  }

  /**
   * JSX compiles to calls of a factory that no reference names: the one a
   * `/** @jsx h *\/` pragma names, or by convention React, h, Fragment…
   * (a tsconfig's jsxFactory is not visible here). Kept when the module binds it.
   */
  private reachJsxFactory(): void {
    const { source, scopes } = this.input;
    if (!/<\/|\/>/.test(source)) return;
    const names = new Set(JSX_FACTORIES);
    for (const m of source.matchAll(/@jsx(?:Frag)?\s+([A-Za-z_$][\w$]*)/g)) names.add(m[1]!);
    for (const name of names) if (scopes.module.bindings.has(name)) this.reach(name);
  }

  private reach(name: string): void {
    if (this.reached.has(name)) return;
    this.reached.add(name);
    this.pending.push(name);
  }

  private keep(u: Unit): void {
    if (this.kept.has(u)) return;
    this.kept.add(u);
    for (const ref of u.references) this.reach(ref.name);
  }

  private drain(): void {
    for (let name = this.pending.pop(); name !== undefined; name = this.pending.pop()) {
      for (const u of this.index.byName.get(name) ?? []) this.keep(u);
    }
  }

  /** Keeps every top-level statement that, while the module loads, changes a binding the slice keeps. */
  private keepWriters(): boolean {
    let grew = false;
    for (const u of this.index.units) {
      if (this.kept.has(u) || u.kind === "function" || u.kind === "import" || u.kind === "import-equals") continue;
      const write = u.references.find((ref) => this.changesKept(ref, u));
      if (write) {
        this.keep(u);
        grew = true;
        if (this.report) this.note("DA4002", u.node, `This top-level statement runs on the worker too: it changes \`${this.changedName(write)}\`, which a durable closure in this module uses.`);
      }
    }
    return grew;
  }

  private changesKept(ref: Reference, u: Unit): boolean {
    if (!isLocal(ref.binding) || !runsAtLoad(ref.id, u.node)) return false;
    const how = mutationOf(ref);
    if (how === undefined) return false;
    if (how !== "call") return this.reached.has(ref.name);
    for (const name of this.changedBy(ref.name)) if (this.reached.has(name)) return true;
    return false;
  }

  private changedName(ref: Reference): string {
    if (this.reached.has(ref.name) && mutationOf(ref) !== "call") return ref.name;
    return [...this.changedBy(ref.name)].find((n) => this.reached.has(n)) ?? ref.name;
  }

  /** The module bindings a call of the module-level function `name` changes (through the functions it calls, too). */
  private changedBy(name: string, seen = new Set<string>()): Set<string> {
    const known = this.changes.get(name);
    if (known) return known;
    const out = new Set<string>();
    if (seen.has(name)) return out;
    seen.add(name);
    for (const u of this.index.byName.get(name) ?? []) {
      const body = u.kind === "function" ? u.node : u.kind === "declarator" ? unwrapParens(u.node.init) : undefined;
      if (!body || (u.kind === "declarator" && body.type !== "ArrowFunctionExpression" && body.type !== "FunctionExpression")) continue;
      for (const ref of u.references) {
        if (!isLocal(ref.binding) || ref.name === name) continue;
        const how = mutationOf(ref);
        if (how === "call") for (const n of this.changedBy(ref.name, seen)) out.add(n);
        else if (how !== undefined) out.add(ref.name);
      }
    }
    this.changes.set(name, out);
    return out;
  }

  /** Running this unit in a worker changes nothing a job could see (so the module can be its own slice). */
  private inert(u: Unit): boolean {
    const { source } = this.input;
    switch (u.kind) {
      case "inert": case "function": case "directive":
        return true;
      case "import":
        // The slice imports the runtime itself. (An import whose names are
        // used as types only counts too: with verbatimModuleSyntax it is kept.)
        return u.statement.source.value === this.input.runtimeModule;
      case "declarator":
        return !hasEffects(u.node.init, source) && !u.node.id.type.endsWith("Pattern");
      case "class":
        return !hasEffects(u.node, source);
      case "enum":
        return !(u.node.body?.members ?? u.node.members ?? []).some((m: Node) => hasEffects(m.initializer, source));
      case "namespace":
        return !hasEffects(u.node.body, source);
      default:
        return false;
    }
  }

  /** DA4001 for kept declarations whose initializer does more than compute a value; DA4003 for left-out statements that use a kept variable. */
  private reportKept(): void {
    const { source } = this.input;
    for (const u of this.kept) {
      if (u.kind !== "declarator" && u.kind !== "class" && u.kind !== "namespace") continue;
      const init = u.kind === "declarator" ? u.node.init : u.node;
      if (!hasEffects(init, source, false) || isRequire(init)) continue;
      if (u.kind === "declarator" && this.isCronHome(u)) continue;
      const name = u.names[0] ?? "";
      const what = u.kind === "declarator" ? snippet(source, init) : `${u.kind} ${name}`;
      this.note("DA4001", u.node, `\`${name}\` is set up on the worker too (a durable closure in this module uses it), and setting it up does more than compute a value: \`${what}\`.`, name);
    }
    for (const u of this.index.units) {
      if (this.kept.has(u) || (u.kind !== "statement" && u.kind !== "declarator" && u.kind !== "class")) continue;
      const use = u.references.find((ref) => this.reached.has(ref.name) && isLocal(ref.binding) && !this.isFixed(ref.binding) && escapes(ref) && runsAtLoad(ref.id, u.node));
      if (use) this.note("DA4003", use.id, `\`${use.name}\` is handed to a top-level statement that workers do not run; if that changes it, a job sees another value than the caller did.`, use.name);
    }
  }

  private isCronHome(u: Unit): boolean {
    return this.input.callSites.some((s) => s.kind === "cron" && s.closureStart >= u.node.start && s.closureEnd <= u.node.end);
  }

  /** Functions, classes, enums and primitive consts: a statement can hardly change what a closure reads from them. */
  private isFixed(binding: Binding): boolean {
    return binding.kind === "function" || binding.kind === "class" || binding.kind === "enum" || isFrozenPrimitive(binding.declaration, binding.kind);
  }

  private note(code: DiagnosticCode, node: Node, message: string, name?: string): void {
    this.diagnostics.push(makeDiagnostic(code, { file: this.input.file, ...this.input.lines.position(node.start) }, message, name));
  }
}

/** Index of the first reference starting at or after `offset` (references are in source order). */
function firstAtOrAfter(refs: readonly Reference[], offset: number): number {
  let lo = 0;
  let hi = refs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (refs[mid]!.id.start < offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isRequire(node: Node | undefined): boolean {
  const n = unwrapParens(node);
  return n?.type === "CallExpression" && dottedName(n.callee) === "require";
}

function snippet(source: string, node: Node): string {
  const text = source.slice(node.start, node.end).replace(/\s+/g, " ");
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Plans the worker-side slice of a module with call sites; `report` adds the DA4xxx diagnostics `durable check` prints. */
export function planSlice(input: SliceInput, report = false): SlicePlan {
  return new SlicePlanner(input, report).plan();
}
