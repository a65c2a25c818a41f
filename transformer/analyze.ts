// analyze(file) → call sites + diagnostics. Pure: reads the AST and the
// checker, never mutates either, so one Project serves a whole build.
import { readFileSync } from "node:fs";
import type { Project, SourceFile } from "ts-morph";
import { ts } from "ts-morph";
import { findLaterWrites, scanClosure, type Closure } from "./captures.js";
import { declarationSegments } from "./declaration-path.js";
import { makeDiagnostic, type Diagnostic, type DiagnosticCode } from "./diagnostics.js";
import { bodyHash, normalizedTokens } from "./hash.js";
import { findDurableUses, type DurableCall, type DurableNonLiteral } from "./call-sites.js";
import { PACKAGE_NAME, projectRelative } from "./prefilter.js";
import { checkSerializable, registeredClassNames } from "./serializable.js";
import { suggest } from "../src/config/suggest.js";

/** The runtime's built-in node types (src/config/options.ts DEFAULT_NODE_TYPES), kept here so the hook thread loads no runtime modules. */
const DEFAULT_NODE_TYPES = ["worker", "api", "datasync"];

/** The runtime's built-in node types plus those declared in DURABLE_NODE_TYPES (comma-separated), when the integration passes none. */
function defaultNodeTypes(): string[] {
  const declared = (process.env.DURABLE_NODE_TYPES ?? "").split(",").map((t) => t.trim()).filter(Boolean);
  return [...DEFAULT_NODE_TYPES, ...declared];
}

export type CallKind = "async" | "run" | "cron";

export interface CallerLocation {
  file: string;
  fn: string | null;
  line: number;
  column: number;
}

/** One transformed call site: the stub metadata plus the offsets rewrite needs. */
export interface CallSite {
  index: number;
  kind: CallKind;
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
  /** The module imports the runtime (not only mentions its name in a string). */
  importsRuntime: boolean;
}

export interface AnalyzeOptions {
  root: string;
  /** Known node types; when given, a literal `nodeType` outside it is an error. */
  nodeTypes?: readonly string[];
  /** Class names registered with superjson elsewhere (beyond `registerClass(...)` calls the analyzer sees). */
  serializableClasses?: readonly string[];
  /** Check capture types for serializability (default true); needs a full Program. */
  typeCheck?: boolean;
}

/** Where module-level stubs go: after imports, so a module-level cron finds its stub. */
function stubInsertOffset(sf: ts.SourceFile): number {
  let offset = 0;
  const text = sf.text;
  if (text.startsWith("#!")) offset = text.indexOf("\n") + 1 || text.length;
  for (const statement of sf.statements) {
    const isDirective = ts.isExpressionStatement(statement) && ts.isStringLiteral(statement.expression) && offset >= 0;
    if (ts.isImportDeclaration(statement) || ts.isImportEqualsDeclaration(statement) || isDirective) {
      offset = statement.end;
    }
  }
  // Start on a fresh line after the import so the stub block maps cleanly.
  const newline = text.indexOf("\n", offset);
  return offset === 0 ? 0 : newline === -1 ? text.length : newline + 1;
}

function position(sf: ts.SourceFile, offset: number, file: string) {
  const { line, character } = sf.getLineAndCharacterOfPosition(offset);
  return { file, line: line + 1, column: character + 1 };
}

function optionLiteral(options: ts.Expression | undefined, key: string): { node: ts.Expression; value?: string } | undefined {
  if (!options || !ts.isObjectLiteralExpression(options)) return undefined;
  for (const prop of options.properties) {
    if (ts.isPropertyAssignment(prop) && ts.isIdentifier(prop.name) && prop.name.text === key) {
      const init = prop.initializer;
      const value = ts.isStringLiteral(init) || ts.isNoSubstitutionTemplateLiteral(init) ? init.text : undefined;
      return { node: init, value };
    }
    if (ts.isShorthandPropertyAssignment(prop) && prop.name.text === key) return { node: prop.name };
  }
  return undefined;
}

class FileAnalyzer {
  readonly diagnostics: Diagnostic[] = [];
  readonly callSites: CallSite[] = [];
  private readonly ordinals = new Map<string, number>();
  private readonly registered: Set<string>;
  /** Closure node of each call site, by call-site index: nested calls find their parent here. */
  private readonly closureNodes: Closure[] = [];
  private readonly isJavaScript: boolean;

  constructor(
    private readonly sf: ts.SourceFile,
    private readonly checker: ts.TypeChecker,
    private readonly file: string,
    private readonly options: AnalyzeOptions,
  ) {
    this.registered = registeredClassNames([sf.text]);
    this.isJavaScript = /\.(js|jsx|mjs|cjs)$/.test(sf.fileName);
    for (const name of options.serializableClasses ?? []) this.registered.add(name);
  }

  report(code: DiagnosticCode, node: ts.Node, message: string, name?: string): void {
    this.diagnostics.push(makeDiagnostic(code, position(this.sf, node.getStart(this.sf), this.file), message, name));
  }

  analyzeCall(call: DurableCall): void {
    const { sf } = this;
    const fn = call.closure;
    const parentIndex = this.enclosingSite(call.node);
    const parent = parentIndex === null ? undefined : this.callSites[parentIndex];
    const boundary = parent ? this.closureNodes[parentIndex!] : undefined;
    const segments = declarationSegments(call.node, sf, boundary);
    const scopeKey = parent ? `${parent.id}>${segments.length ? `${segments.join(".")}#` : ""}` : `${this.file}#${segments.join(".") || "<module>"}#`;
    const ordinal = this.ordinals.get(scopeKey) ?? 0;
    this.ordinals.set(scopeKey, ordinal + 1);

    const name = optionLiteral(call.options, "name");
    if (name && name.value === undefined) this.report("DA1011", name.node, "The `name` option is not a string literal.");
    const nodeType = optionLiteral(call.options, "nodeType");
    const knownNodeTypes = this.options.nodeTypes ?? defaultNodeTypes();
    if (nodeType?.value !== undefined && !knownNodeTypes.includes(nodeType.value)) {
      const guess = suggest(nodeType.value, knownNodeTypes);
      this.report("DA1013", nodeType.node, `Unknown node type "${nodeType.value}"${guess ? ` (did you mean "${guess}"?)` : ""}; known: ${knownNodeTypes.join(", ")}.`, nodeType.value);
    }
    const id = name?.value ?? `${scopeKey}${ordinal}`;
    if (this.callSites.some((site) => site.id === id)) this.report("DA1012", call.node, `Task id "${id}" is used by another call site in this file.`, id);

    const captures = this.checkClosure(call, fn);
    const { line, column } = position(sf, call.node.getStart(sf), this.file);
    const openParen = fn.getChildren(sf).find((c) => c.kind === ts.SyntaxKind.OpenParenToken);
    const callerFn = parent ? parent.caller.fn : segments.length ? segments.join(".") : null;
    this.callSites.push({
      index: this.callSites.length,
      kind: call.kind,
      id,
      hash: bodyHash(normalizedTokens(fn, sf), captures),
      caller: { file: this.file, fn: callerFn, line, column },
      source: fn.getText(sf),
      captures,
      argumentStart: call.argument.getStart(sf),
      argumentEnd: call.argument.end,
      closureStart: fn.getStart(sf),
      closureEnd: fn.end,
      paramsInsert: openParen ? openParen.end : fn.getStart(sf),
      parent: parentIndex,
    });
    this.closureNodes.push(fn);
  }

  private enclosingSite(node: ts.Node): number | null {
    for (let i = this.closureNodes.length - 1; i >= 0; i--) {
      const c = this.closureNodes[i]!;
      if (node.pos >= c.pos && node.end <= c.end) return i;
    }
    return null;
  }

  /** Reports every capture problem; returns the sorted capture names. */
  private checkClosure(call: DurableCall, fn: Closure): string[] {
    const { checker } = this;
    if (fn.parameters.length > 0) {
      this.report("DA1004", fn.parameters[0]!, `The closure passed to durable.${call.kind} declares parameters.`, fn.parameters[0]!.name.getText(this.sf));
    }
    const scan = scanClosure(fn, checker);
    for (const use of scan.forbidden) {
      const code = use.what === "this" ? "DA1001" : use.what === "super" ? "DA1002" : "DA1003";
      this.report(code, use.node, `\`${use.what}\` is used inside a durable closure; the worker runs it without the caller's ${use.what}.`, use.what);
    }
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
      for (const write of capture.writesInside) {
        this.report("DA1008", write, `Captured variable \`${capture.name}\` is reassigned inside the closure.`, capture.name);
      }
      for (const write of findLaterWrites(capture, call.node, fn, checker)) {
        const when = write.pos >= call.node.end ? "after the" : "in a loop around the";
        this.report("DA1007", write, `Captured variable \`${capture.name}\` is reassigned ${when} durable.${call.kind} call; the job sees the value at enqueue time.`, capture.name);
      }
      if (this.options.typeCheck === false) continue;
      const type = checker.getTypeAtLocation(ref);
      for (const problem of checkSerializable(type, { checker, registeredClasses: this.registered })) {
        // Untyped JavaScript would warn on every capture; the enqueue-time
        // check on the actual values covers it.
        if (this.isJavaScript && problem.code.startsWith("DA3")) continue;
        const path = `captures.${capture.name}${problem.path ? `.${problem.path}` : ""}`;
        this.report(problem.code, ref, `Captured value \`${path}\` ${problem.detail}.`, capture.name);
      }
    }
    return scan.captures.map((c) => c.name);
  }

  misuse(node: ts.Node, text: string): void {
    this.report("DA1009", node, `\`${text}\` is used as a value; only direct calls with an inline closure can be made durable.`, text);
  }

  nonLiteral(call: DurableNonLiteral): void {
    const arg = call.argument ?? call.node;
    this.report("DA1010", arg, `durable.${call.kind} is called with ${call.argument ? `\`${call.argument.getText(this.sf)}\`` : "no function"}, not an inline closure.`, call.argument?.getText(this.sf));
  }
}

/** Analyzes a file already in the project. */
export function analyze(sourceFile: SourceFile, options: AnalyzeOptions): Analysis {
  const sf = sourceFile.compilerNode;
  const fileName = sourceFile.getFilePath();
  const file = projectRelative(options.root, fileName);
  const analyzer = new FileAnalyzer(sf, sourceFile.getProject().getTypeChecker().compilerObject, file, options);
  const uses = findDurableUses(sf, sourceFile.getProject().getTypeChecker().compilerObject);
  for (const use of uses) {
    if (use.type === "misuse") analyzer.misuse(use.node, use.text);
    else if (use.type === "non-literal") analyzer.nonLiteral(use);
    else analyzer.analyzeCall(use);
  }
  analyzer.diagnostics.sort((a, b) => a.line - b.line || a.column - b.column || a.code.localeCompare(b.code));
  const importsRuntime = sf.statements.some((st) =>
    ts.isImportDeclaration(st) && ts.isStringLiteral(st.moduleSpecifier) && st.moduleSpecifier.text === PACKAGE_NAME && !st.importClause?.isTypeOnly);
  return { fileName, file, callSites: analyzer.callSites, diagnostics: analyzer.diagnostics, stubInsert: stubInsertOffset(sf), importsRuntime };
}

/** Adds (or refreshes) `fileName` in the project with `source` and analyzes it. */
export function analyzeSource(project: Project, fileName: string, source: string | undefined, options: AnalyzeOptions): Analysis {
  const text = source ?? readFileSync(fileName, "utf8");
  const existing = project.getSourceFile(fileName);
  const sourceFile = existing && existing.getFullText() === text
    ? existing
    : project.createSourceFile(fileName, text, { overwrite: true });
  return analyze(sourceFile, options);
}

export { PACKAGE_NAME };
