// Parsing for the syntactic analysis. oxc-parser is a native parser that
// loads in ~20 ms and parses TypeScript/JSX into an ESTree AST with UTF-16
// offsets, so a build that transforms call sites never loads the TypeScript
// compiler (~0.5 s of module loading alone) unless it asks for type checks.
import { parseSync, visitorKeys } from "./oxc.js";
import { lineAt, lineStarts } from "./lines.js";

/** An ESTree / TS-ESTree node as oxc-parser produces it, plus the parent link the scope pass adds. */
export interface Node {
  type: string;
  start: number;
  end: number;
  parent?: Node;
  // ESTree is a tagged union of ~200 shapes; the analysis reads fields by
  // node type, so a loose record keeps it readable without a type per shape.
  [key: string]: any;
}

export interface Comment {
  type: "Line" | "Block";
  start: number;
  end: number;
}

export interface ParsedFile {
  program: Node;
  comments: Comment[];
  /** Syntax errors, each with the offset it points at: the analysis reports them and stops. */
  errors: Array<{ message: string; offset: number }>;
}

function langOf(fileName: string): "ts" | "tsx" | "jsx" {
  if (/\.tsx$/.test(fileName)) return "tsx";
  if (/\.[cm]?ts$/.test(fileName)) return "ts";
  // JavaScript files may hold JSX, as TypeScript's allowJs accepts.
  return "jsx";
}

/**
 * Parses with oxc's "js" AST: TypeScript syntax is read, but type annotations
 * are left out of the tree (they are erased at run time and never captures),
 * which makes the AST a third smaller to transfer from the native parser.
 * That shape also leaves out `importKind`; `markTypeImports` puts it back.
 */
export function parse(fileName: string, source: string): ParsedFile {
  let result = parseSync(fileName, source, { lang: langOf(fileName), astType: "js", sourceType: "module", preserveParens: true });
  // A file with no import or export is CommonJS, where a top-level `return` or an identifier
  // named `await` is fine: read it as such before calling anything a syntax error.
  if (result.errors.length > 0 && !(result.program as Node).body.some((st: Node) => MODULE_SYNTAX.has(st.type))) {
    const asCommonJs = parseSync(fileName, source, { lang: langOf(fileName), astType: "js", sourceType: "commonjs", preserveParens: true });
    if (asCommonJs.errors.length < result.errors.length) result = asCommonJs;
  }
  const program = result.program as Node;
  markTypeImports(program, source);
  return {
    program,
    comments: result.comments as Comment[],
    errors: result.errors.filter((e) => e.severity !== "Warning").map((e) => ({ message: e.message.replace(/\.$/, ""), offset: e.labels?.[0]?.start ?? 0 })),
  };
}

const MODULE_SYNTAX = new Set(["ImportDeclaration", "ExportNamedDeclaration", "ExportDefaultDeclaration", "ExportAllDeclaration", "TSExportAssignment"]);

/** `import type` before the first specifier (comments allowed after `import`). */
const TYPE_IMPORT = /^import\s*(?:\/\*[\s\S]*?\*\/\s*)*type\b/;

/**
 * Sets `importKind: "type"` on type-only import declarations (`import type
 * { A }`, `import type A`, `import type * as A`) and specifiers (`import {
 * type A }`), as TS-ESTree would. The spans say which, so oxc's module record
 * is never read (bringing it over from the native parser cost more than a
 * small file's whole AST): the keyword comes before the first specifier (in
 * `import type from "m"`, `type` is the default import and starts it), and
 * oxc starts a specifier at its `type` modifier, so a type-only specifier's
 * imported name starts after the span does (`{ type as C }` imports a value
 * named `type`, whose name starts the span).
 */
function markTypeImports(program: Node, source: string): void {
  for (const statement of program.body) {
    if (statement.type !== "ImportDeclaration" || statement.specifiers.length === 0) continue;
    const wholeDeclaration = TYPE_IMPORT.test(source.slice(statement.start, statement.specifiers[0].start));
    if (wholeDeclaration) statement.importKind = "type";
    for (const spec of statement.specifiers) {
      if (wholeDeclaration || (spec.type === "ImportSpecifier" && spec.imported.start > spec.start)) spec.importKind = "type";
    }
  }
}

/** Keys that hold type annotations only: erased at run time, never captures. */
const TYPE_KEYS = new Set([
  "typeAnnotation", "returnType", "typeParameters", "typeArguments", "superTypeArguments", "superTypeParameters", "implements",
]);

/** Declarations that exist only in the type system. */
const TYPE_ONLY_NODES = new Set([
  "TSInterfaceDeclaration", "TSTypeAliasDeclaration", "TSDeclareFunction", "TSIndexSignature", "TSDeclareMethod",
]);

export function isTypeOnly(node: Node): boolean {
  return TYPE_ONLY_NODES.has(node.type) || node.declare === true;
}

const childKeyCache = new Map<string, string[]>();

/**
 * The keys of a node type that can hold child nodes, type annotations
 * excluded: oxc's own visitor keys, else (a type it does not list) the keys
 * of the first node of that type seen. Cached per type, so the walks never
 * enumerate a node's properties.
 */
export function childKeysOf(node: Node): string[] {
  let keys = childKeyCache.get(node.type);
  if (keys === undefined) {
    const known = visitorKeys[node.type];
    keys = (known ? [...known] : Object.keys(node).filter((k) => k !== "parent" && k !== "type")).filter((k) => !TYPE_KEYS.has(k));
    childKeyCache.set(node.type, keys);
  }
  return keys;
}

/**
 * Calls `fn(child, node, extra)` on each child node, type annotations
 * skipped. `extra` rides along so hot callers pass state without allocating
 * a closure per node.
 */
export function forEachChild<T>(node: Node, fn: (child: Node, parent: Node, extra: T) => void, extra: T): void {
  const keys = childKeysOf(node);
  for (let k = 0; k < keys.length; k++) {
    const value = node[keys[k]!];
    if (value === null || typeof value !== "object") continue;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        if (item !== null && typeof item === "object" && typeof item.type === "string") fn(item, node, extra);
      }
    } else if (typeof value.type === "string") {
      fn(value, node, extra);
    }
  }
}

/** Offset → 1-based line and column (UTF-16 units), with TypeScript's line breaks. */
export class LineIndex {
  private readonly starts: number[];

  constructor(text: string) {
    this.starts = lineStarts(text, /\r\n?|\n|\u2028|\u2029/g);
  }

  position(offset: number): { line: number; column: number } {
    const line = lineAt(this.starts, offset);
    return { line: line + 1, column: offset - this.starts[line]! + 1 };
  }
}

export function unwrapParens(node: Node | undefined | null): Node | undefined {
  let e = node ?? undefined;
  while (e && e.type === "ParenthesizedExpression") e = e.expression;
  return e;
}

export function isFunctionNode(node: Node): boolean {
  return node.type === "FunctionDeclaration" || node.type === "FunctionExpression" || node.type === "ArrowFunctionExpression";
}

export function contains(outer: { start: number; end: number }, inner: { start: number; end: number }): boolean {
  return inner.start >= outer.start && inner.end <= outer.end;
}
