// analyze(file) → call sites + diagnostics, from the syntax alone: parsing,
// scopes and captures need no type information, so a build never loads the
// TypeScript compiler for them. Capture *types* are checked by a separate pass
// (capture-types.ts) when the caller asks for it. Pure: reads the text, never
// mutates it.
import { scanClosure, type Capture, type ForbiddenUse, type ModuleRead } from "./captures.js";
import { declarationSegments } from "./declaration-path.js";
import { makeDiagnostic, sortDiagnostics, type Diagnostic, type DiagnosticCode } from "./diagnostics.js";
export { sortDiagnostics };
import { bodyHash, normalizedCode } from "./hash.js";
import { findDurableUses, type DurableAlias, type DurableCall, type DurableNonLiteral } from "./call-sites.js";
import { LaterWrites, type LaterWrite } from "./later-writes.js";
import { projectRelative } from "./module-path.js";
import { optionLiteral } from "./option-literal.js";
import type { ScopeAnalysis } from "./scope-model.js";
import { analyzeScopes } from "./scopes.js";
import { planSlice, type SlicePlan } from "./slice.js";
import { contains, isFunctionNode, LineIndex, parse, type Comment, type Node } from "./syntax.js";
import { knownNodeTypes, PACKAGE_NAME, unknownNodeTypeMessage, type CallerLocation, type TaskKind } from "../src/contract/index.js";

/** One transformed call site: the stub metadata plus the offsets rewrite needs. */
export interface CallSite {
  index: number;
  kind: TaskKind;
  id: string;
  hash: string;
  caller: CallerLocation;
  source: string;
  captures: string[];
  /** Offsets in the original text. The argument range adds any parentheses around the closure. */
  argumentStart: number;
  argumentEnd: number;
  closureStart: number;
  closureEnd: number;
  /** Just after the closure's `(`: where the captures parameter goes. */
  paramsInsert: number;
  /** Index of the call site whose closure contains this one, for nested calls. */
  parent: number | null;
  /** Offset of each value capture's first reference, for the capture type check (functions and classes are already errors). */
  captureReferences: Array<{ name: string; offset: number }>;
}

export interface Analysis {
  /** Absolute file name. */
  fileName: string;
  /** Project-relative file name used in ids and diagnostics. */
  file: string;
  callSites: CallSite[];
  diagnostics: Diagnostic[];
  /** Offset after the last import (or directive prologue): where stubs go. */
  stubInsert: number;
  /**
   * The module takes the runtime: an `import` of it (static, or `import()`
   * found by text), or in CommonJS a `require()` of it (found by text: a false
   * positive only costs an unused registry import). Integrations attach the
   * registry to these modules.
   */
  importsRuntime: boolean;
  /** No import or export declarations: a CommonJS module, which gets the stub helper with `require`. */
  commonJs: boolean;
  /** Source text analyzed: the capture type check maps offsets back into it. */
  source: string;
  /** What a worker loads to run this module's tasks (null without call sites). */
  slice: SlicePlan | null;
}

export interface AnalyzeOptions {
  root: string;
  /** Known node types; when given, a literal `nodeType` outside it is an error. */
  nodeTypes?: readonly string[];
  /** Class names registered with superjson elsewhere (beyond `registerClass(...)` calls the analyzer sees). */
  serializableClasses?: readonly string[];
  /**
   * Check capture types for serializability with the TypeScript checker.
   * Default true for `transform()` and `durable check`, false for the bundler
   * plugins and the Node hook, where the checker would cost more than the
   * build (the enqueue-time check covers the same values at run time).
   */
  typeCheck?: boolean;
  /** Report what the worker-side slice runs or leaves out (DA4xxx warnings; `durable check` asks for them). */
  sliceDiagnostics?: boolean;
  /** The module transformed code imports the runtime from (default `durable-async`). */
  runtimeModule?: string;
}

const REQUIRE_OF_PACKAGE = new RegExp(String.raw`\brequire\s*\(\s*(["'])${PACKAGE_NAME}\1\s*\)`);
const DYNAMIC_IMPORT_OF_PACKAGE = new RegExp(String.raw`\bimport\s*\(\s*(["'\x60])${PACKAGE_NAME}\1\s*[,)]`);

const MODULE_DECLARATIONS = new Set([
  "ImportDeclaration", "ExportNamedDeclaration", "ExportDefaultDeclaration", "ExportAllDeclaration", "TSImportEqualsDeclaration", "TSExportAssignment",
]);

/**
 * Where stubs go: after the directive prologue and the imports that open the
 * module, before its first other statement. Imports are hoisted, so nothing
 * of the module runs before that point: a module-level call site finds its
 * stub initialized wherever it stands, even above a later `import`.
 */
function stubInsertOffset(program: Node, text: string): number {
  let offset = 0;
  if (text.startsWith("#!")) offset = text.indexOf("\n") + 1 || text.length;
  for (const statement of program.body) {
    const isDirective = statement.type === "ExpressionStatement" && typeof statement.directive === "string";
    if (statement.type !== "ImportDeclaration" && !isDirective) break;
    offset = statement.end;
  }
  // Start on a fresh line after the import so the stub block maps cleanly.
  const newline = text.indexOf("\n", offset);
  return offset === 0 ? 0 : newline === -1 ? text.length : newline + 1;
}

/** The offset just after the closure's `(`, skipping keywords, its name, type parameters and comments. */
function paramsOpenParen(fn: Node, text: string): number {
  let i = Math.max(fn.start, fn.id?.end ?? 0, fn.typeParameters?.end ?? 0);
  while (i < fn.end) {
    if (text.startsWith("/*", i)) i = text.indexOf("*/", i + 2) + 2;
    else if (text.startsWith("//", i)) i = text.indexOf("\n", i) + 1;
    else if (text[i] === "(") return i + 1;
    else i++;
  }
  return fn.start;
}

/** The text of a parameter's binding name, without its type annotation or default. */
function parameterName(param: Node, text: string): string {
  let p = param;
  if (p.type === "TSParameterProperty") p = p.parameter;
  if (p.type === "AssignmentPattern") p = p.left;
  if (p.type === "RestElement") p = p.argument;
  if (p.type === "Identifier") return p.name;
  return text.slice(p.start, p.typeAnnotation?.start ?? p.end).trimEnd();
}

const FORBIDDEN: Record<ForbiddenUse["what"], [DiagnosticCode, string]> = {
  this: ["DA1001", "`this` is used inside a durable closure; the worker runs it without the caller's this."],
  super: ["DA1002", "`super` is used inside a durable closure; the worker runs it without the caller's super."],
  arguments: ["DA1003", "`arguments` is used inside a durable closure; the worker runs it without the caller's arguments."],
  "new.target": ["DA1014", "`new.target` is used inside a durable closure; the worker runs it outside the constructor call."],
  "#private": ["DA1015", "The private name `NAME` is used inside a durable closure; the worker runs the closure outside the class that declares it."],
  eval: ["DA1016", "`eval` is called inside a durable closure; it would read the caller's variables, which the worker does not have."],
};

const WHEN: Record<LaterWrite["why"], (call: string) => string> = {
  after: (call) => `after the ${call} call`,
  loop: (call) => `in a loop around the ${call} call`,
  again: (call) => `in the function around the ${call} call, which can run again`,
  called: (call) => `in a function that runs after the ${call} call`,
};

class FileAnalyzer {
  readonly diagnostics: Diagnostic[] = [];
  readonly callSites: CallSite[] = [];
  private readonly ordinals = new Map<string, number>();
  /** Closure node of each call site, by call-site index: nested calls find their parent here. */
  readonly closureNodes: Node[] = [];
  readonly lines: LineIndex;
  private readonly laterWrites: LaterWrites;
  /** Read on the first `nodeType` option only: a process.env lookup is slow, and most files have none. */
  private nodeTypes: readonly string[] | undefined;

  constructor(
    private readonly text: string,
    private readonly scopes: ScopeAnalysis,
    private readonly comments: readonly Comment[],
    private readonly file: string,
    private readonly options: AnalyzeOptions,
  ) {
    this.lines = new LineIndex(text);
    this.laterWrites = new LaterWrites(scopes);
  }

  private get knownNodeTypes(): readonly string[] {
    this.nodeTypes ??= this.options.nodeTypes ?? knownNodeTypes();
    return this.nodeTypes;
  }

  position(offset: number) {
    return { file: this.file, ...this.lines.position(offset) };
  }

  report(code: DiagnosticCode, node: Node, message: string, name?: string): void {
    this.diagnostics.push(makeDiagnostic(code, this.position(node.start), message, name));
  }

  analyzeCall(call: DurableCall): void {
    const { text } = this;
    const fn = call.closure;
    const parentIndex = this.enclosingSite(call.node);
    const parent = parentIndex === null ? undefined : this.callSites[parentIndex];
    const boundary = parent ? this.closureNodes[parentIndex!] : undefined;
    const segments = declarationSegments(call.node, text, boundary);
    const scopeKey = parent ? `${parent.id}>${segments.length ? `${segments.join(".")}#` : ""}` : `${this.file}#${segments.join(".") || "<module>"}#`;
    const ordinal = this.ordinals.get(scopeKey) ?? 0;
    this.ordinals.set(scopeKey, ordinal + 1);

    const name = optionLiteral(call.options, "name", this.scopes);
    if (name && name.value === undefined) this.report("DA1011", name.node, "The `name` option is not a string literal.");
    const nodeType = optionLiteral(call.options, "nodeType", this.scopes);
    if (nodeType?.value !== undefined && !this.knownNodeTypes.includes(nodeType.value)) {
      this.report("DA1013", nodeType.node, unknownNodeTypeMessage(nodeType.value, this.knownNodeTypes), nodeType.value);
    }
    const id = name?.value ?? `${scopeKey}${ordinal}`;
    if (this.callSites.some((site) => site.id === id)) this.report("DA1012", call.node, `Task id "${id}" is used by another call site in this file.`, id);

    const { names, references } = this.checkClosure(call, fn);
    const { line, column } = this.position(call.node.start);
    const callerFn = parent ? parent.caller.fn : segments.length ? segments.join(".") : null;
    this.callSites.push({
      index: this.callSites.length,
      kind: call.kind,
      id,
      hash: bodyHash(normalizedCode(text, fn, this.comments, this.scopes.literals), names),
      caller: { file: this.file, fn: callerFn, line, column },
      source: text.slice(fn.start, fn.end),
      captures: names,
      argumentStart: call.argument.start,
      argumentEnd: call.argument.end,
      closureStart: fn.start,
      closureEnd: fn.end,
      paramsInsert: paramsOpenParen(fn, text),
      parent: parentIndex,
      captureReferences: references,
    });
    this.closureNodes.push(fn);
  }

  private enclosingSite(node: Node): number | null {
    for (let i = this.closureNodes.length - 1; i >= 0; i--) {
      const c = this.closureNodes[i]!;
      if (node.start >= c.start && node.end <= c.end) return i;
    }
    return null;
  }

  /** Reports every capture problem; returns the sorted capture names and where each value capture is first used. */
  private checkClosure(call: DurableCall, fn: Node): { names: string[]; references: CallSite["captureReferences"] } {
    if (fn.params.length > 0) {
      this.report("DA1004", fn.params[0], `The closure passed to durable.${call.kind} declares parameters.`, parameterName(fn.params[0], this.text));
    }
    const scan = scanClosure(fn, this.scopes);
    for (const use of scan.forbidden) {
      const [code, message] = FORBIDDEN[use.what];
      const name = use.what === "#private" ? `#${use.node.name}` : use.what;
      this.report(code, use.node, message.replace("NAME", name), name);
    }
    for (const read of scan.moduleReads) this.checkModuleRead(read, call);
    const references: CallSite["captureReferences"] = [];
    for (const capture of scan.captures) {
      const ref = capture.firstReference;
      if (capture.kind === "function") {
        this.report("DA1005", ref, `Closure captures the local function \`${capture.name}\`; functions cannot be serialized.`, capture.name);
        continue;
      }
      if (capture.kind === "class") {
        this.report("DA1006", ref, `Closure captures the local class \`${capture.name}\`; classes cannot be serialized.`, capture.name);
        continue;
      }
      this.checkDeclaredAfter(capture, call);
      for (const write of capture.writesInside) {
        this.report("DA1008", write, `Captured variable \`${capture.name}\` is reassigned inside the closure.`, capture.name);
      }
      for (const write of this.laterWrites.find(capture, call.node, fn)) {
        this.report("DA1007", write.node, `Captured variable \`${capture.name}\` is reassigned ${WHEN[write.why](`durable.${call.kind}`)}; the job sees the value at enqueue time.`, capture.name);
      }
      references.push({ name: capture.name, offset: ref.start });
    }
    return { names: scan.captures.map((c) => c.name), references };
  }

  /**
   * A module-level `let`/`var` is not captured: the stub reads it in its own
   * module, so when the module reassigns it (`setTenant(t)`) a worker reads
   * its own copy, not the value this process had at enqueue.
   */
  private checkModuleRead(read: ModuleRead, call: DurableCall): void {
    const { binding, firstReference } = read;
    const writes = binding.references.filter((ref) => ref.write && !declares(ref.id));
    if (writes.length === 0) return;
    const at = this.position(firstReference.start);
    // A reference inside a nested call site's closure is also the outer closure's: report it once.
    if (this.diagnostics.some((d) => d.code === "DA3006" && d.line === at.line && d.column === at.column)) return;
    const lines = [...new Set(writes.map((w) => this.lines.position(w.id.start).line))];
    const where = lines.length === 1 ? `line ${lines[0]}` : `lines ${lines.slice(0, -1).join(", ")} and ${lines.at(-1)}`;
    this.report("DA3006", firstReference,
      `Closure reads the module variable \`${binding.name}\`, which the module reassigns (${where}); module variables are not captured, ` +
        `so the job reads the worker's own \`${binding.name}\`, not this process' value when durable.${call.kind} was called.`,
      binding.name);
  }

  /**
   * A `let`/`const` captured by a call that runs before its declaration is
   * initialized: the captures object `{ z }` is built at the call, so the
   * call always throws a ReferenceError (temporal dead zone). Not when the
   * call sits in a function (or class field) that may run later.
   */
  private checkDeclaredAfter(capture: Capture, call: DurableCall): void {
    const { binding } = capture;
    const decl = binding.declaration;
    if (binding.kind !== "let" && binding.kind !== "const" && binding.kind !== "using") return;
    if (decl.type !== "VariableDeclarator" || call.node.start >= decl.end) return;
    for (let p = call.node.parent; p && p !== binding.scope.node; p = p.parent) {
      if (isFunctionNode(p) || p.type === "PropertyDefinition" || p.type === "AccessorProperty" || p.type === "StaticBlock") return;
    }
    const declLine = this.lines.position(binding.id.start).line;
    const callLine = this.lines.position(call.node.start).line;
    const where = contains(decl, call.node) ? `by the statement that makes the durable.${call.kind} call (line ${declLine})` : `at line ${declLine}, after the durable.${call.kind} call at line ${callLine}`;
    this.report("DA1019", capture.firstReference,
      `Captured variable \`${binding.name}\` is declared ${where}; the captures are read when the call runs, before \`${binding.name}\` is initialized, ` +
        "so the call always throws a ReferenceError.",
      binding.name);
  }

  alias(use: DurableAlias): void {
    if (use.how === "variable") {
      this.report("DA1017", use.node, "`durable` is assigned to a variable that can change; calls through it are not compiled and throw at run time.", "durable");
    } else {
      this.report("DA3003", use.node, "`durable` is handed to other code; durable calls made through it there are not compiled and throw at run time.", "durable");
    }
  }

  misuse(node: Node, text: string): void {
    this.report("DA1009", node, `\`${text}\` is used as a value; only direct calls with an inline closure can be made durable.`, text);
  }

  nonLiteral(call: DurableNonLiteral): void {
    const arg = call.argument ?? call.node;
    const argText = call.argument ? this.text.slice(call.argument.start, call.argument.end) : undefined;
    this.report("DA1010", arg, `durable.${call.kind} is called with ${argText ? `\`${argText}\`` : "no function"}, not an inline closure.`, argText);
  }
}


const PATTERN_PARTS = new Set(["Property", "ObjectPattern", "ArrayPattern", "AssignmentPattern", "RestElement"]);

/** The identifier is a name a declaration binds (`var x = 1`, a `var` redeclared, `const { x } = o`), not the target of an assignment. */
function declares(id: Node): boolean {
  let node = id;
  while (node.parent && PATTERN_PARTS.has(node.parent.type)) node = node.parent;
  return node.parent?.type === "VariableDeclarator" && node.parent.id === node;
}

/**
 * `export { durable } from "durable-async"` and `export * from
 * "durable-async"`: they bind nothing here, so the uses pass misses them, and
 * a module importing `durable` from this file never mentions the package, so
 * no integration even reads it. Re-exports are not followed (a module's calls
 * are compiled from its own text); this warning is where `durable check`
 * says so.
 */
function reExportsOfDurable(program: Node, source: string): Node[] {
  const found: Node[] = [];
  for (const st of program.body as Node[]) {
    if (st.type !== "ExportAllDeclaration" && st.type !== "ExportNamedDeclaration") continue;
    // The "js" AST carries no exportKind: `export type …` is read from the text, as markTypeImports does.
    if (st.source?.value !== PACKAGE_NAME || /^export\s+type\b/.test(source.slice(st.start, st.end))) continue;
    if (st.type === "ExportAllDeclaration") found.push(st);
    else {
      for (const spec of st.specifiers as Node[]) {
        const local = spec.local.type === "Identifier" ? spec.local.name : spec.local.value;
        // `{ type durable as D }`: oxc starts the specifier at its `type` modifier.
        if (local === "durable" && spec.local.start === spec.start) found.push(spec);
      }
    }
  }
  return found;
}

/** A file that does not parse: its syntax errors at their own lines, and nothing to rewrite (so no tool reports them in rewritten code). */
function syntaxErrors(fileName: string, file: string, source: string, errors: ReadonlyArray<{ message: string; offset: number }>): Analysis {
  const lines = new LineIndex(source);
  const diagnostics = errors.map((e) => makeDiagnostic("DA1018", { file, ...lines.position(e.offset) }, `Syntax error: ${e.message}.`));
  return { fileName, file, source, callSites: [], diagnostics, stubInsert: 0, importsRuntime: false, commonJs: false, slice: null };
}

/** Analyzes one file's text. `fileName` is absolute; ids use its path relative to `options.root`. */
export function analyze(fileName: string, source: string, options: AnalyzeOptions): Analysis {
  const file = projectRelative(options.root, fileName);
  const parsed = parse(fileName, source);
  if (parsed.errors.length > 0) return syntaxErrors(fileName, file, source, parsed.errors);
  const scopes = analyzeScopes(parsed.program);
  const analyzer = new FileAnalyzer(source, scopes, parsed.comments, file, options);
  for (const use of findDurableUses(scopes, source)) {
    if (use.type === "alias") analyzer.alias(use);
    else if (use.type === "misuse") analyzer.misuse(use.node, use.text);
    else if (use.type === "non-literal") analyzer.nonLiteral(use);
    else analyzer.analyzeCall(use);
  }
  for (const node of reExportsOfDurable(parsed.program, source)) {
    analyzer.report("DA3003", node, "`durable` is re-exported here; calls in a module that imports it from this file are not compiled " +
      `(only \`durable\` imported from "${PACKAGE_NAME}" itself is) and throw UntransformedCallError at run time.`, "durable");
  }
  const commonJs = !parsed.program.body.some((st: Node) => MODULE_DECLARATIONS.has(st.type));
  const importsRuntime = commonJs
    ? REQUIRE_OF_PACKAGE.test(source)
    : parsed.program.body.some((st: Node) => st.type === "ImportDeclaration" && st.source.value === PACKAGE_NAME && st.importKind !== "type")
      || DYNAMIC_IMPORT_OF_PACKAGE.test(source);
  const slice = analyzer.callSites.length === 0 ? null : planSlice({
    program: parsed.program, scopes, source, callSites: analyzer.callSites, closures: analyzer.closureNodes,
    runtimeModule: options.runtimeModule ?? PACKAGE_NAME, file, lines: analyzer.lines,
  }, options.sliceDiagnostics);
  const diagnostics = slice && slice.diagnostics.length > 0 ? [...analyzer.diagnostics, ...slice.diagnostics] : analyzer.diagnostics;
  return {
    fileName, file, source, callSites: analyzer.callSites, diagnostics: sortDiagnostics(diagnostics),
    stubInsert: stubInsertOffset(parsed.program, source), importsRuntime, commonJs, slice,
  };
}

