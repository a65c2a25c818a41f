// The pieces a worker-side slice is cut from: every top-level statement of a
// module, split where a slice may keep part of it (one import specifier, one
// declarator of a `const a = …, b = …`), with the module bindings each piece
// declares and the module bindings it refers to.
import type { Reference, ScopeAnalysis } from "./scope-model.js";
import type { Node } from "./syntax.js";

export type UnitKind =
  /** One value specifier of an import declaration. */
  | "import"
  /** `import "polyfill"` / `import {} from "m"`: kept for its effects, as bundlers keep it. */
  | "bare-import"
  /** `import x = require("m")` / `import x = N.y`. */
  | "import-equals"
  /** One declarator of a variable declaration. */
  | "declarator"
  | "function"
  | "class"
  | "enum"
  | "namespace"
  /** `export * from`, `export { a } from`: bind nothing here, but load another module. */
  | "reexport"
  /** Erased at run time or without effect: types, `declare`, `export { a }`, empty statements. */
  | "inert"
  | "directive"
  /** Any other statement: expressions, control flow, `export default <expression>`. */
  | "statement";

export interface Unit {
  kind: UnitKind;
  /** What a slice copies: the declaration without its `export` keyword, a specifier, a declarator. */
  node: Node;
  /** The top-level statement it belongs to. */
  statement: Node;
  /** Module bindings it declares. */
  names: string[];
  /** References inside `node` that resolve to module bindings. */
  references: Reference[];
}

export interface ModuleUnits {
  units: Unit[];
  byName: Map<string, Unit[]>;
}

const TYPE_ONLY = new Set(["TSInterfaceDeclaration", "TSTypeAliasDeclaration", "TSDeclareFunction"]);

function patternNames(pattern: Node, out: string[]): string[] {
  switch (pattern.type) {
    case "Identifier":
      out.push(pattern.name);
      break;
    case "ObjectPattern":
      for (const p of pattern.properties) patternNames(p.type === "RestElement" ? p.argument : p.value, out);
      break;
    case "ArrayPattern":
      for (const e of pattern.elements) if (e) patternNames(e, out);
      break;
    case "AssignmentPattern":
      patternNames(pattern.left, out);
      break;
    case "RestElement":
      patternNames(pattern.argument, out);
      break;
  }
  return out;
}

function unit(kind: UnitKind, node: Node, statement: Node, names: string[] = []): Unit {
  return { kind, node, statement, names, references: [] };
}

function importUnits(statement: Node): Unit[] {
  if (statement.importKind === "type") return [unit("inert", statement, statement)];
  const values = statement.specifiers.filter((s: Node) => s.importKind !== "type");
  if (statement.specifiers.length === 0) return [unit("bare-import", statement, statement)];
  if (values.length === 0) return [unit("inert", statement, statement)];
  return values.map((s: Node) => unit("import", s, statement, [s.local.name]));
}

/** `declare const x: T`: oxc's "js" AST leaves the flag out of variables, functions and classes, so the text says. */
function isAmbient(node: Node, source: string): boolean {
  if (node.declare === true) return true;
  return AMBIENT_CAPABLE.has(node.type) && /^declare\s/.test(source.slice(node.start, node.start + 8));
}
const AMBIENT_CAPABLE = new Set(["VariableDeclaration", "FunctionDeclaration", "ClassDeclaration", "TSEnumDeclaration", "TSModuleDeclaration"]);

/** The units of one declaration (already out of its `export` wrapper). */
function declarationUnits(node: Node, statement: Node, source: string): Unit[] {
  if (TYPE_ONLY.has(node.type) || isAmbient(node, source)) return [unit("inert", node, statement)];
  switch (node.type) {
    case "VariableDeclaration":
      return node.declarations.map((d: Node) => unit("declarator", d, statement, patternNames(d.id, [])));
    case "FunctionDeclaration":
      return [unit("function", node, statement, node.id ? [node.id.name] : [])];
    case "ClassDeclaration":
      return [unit("class", node, statement, node.id ? [node.id.name] : [])];
    case "TSEnumDeclaration":
      return [unit("enum", node, statement, [node.id.name])];
    case "TSModuleDeclaration": {
      // `namespace A.B {}` binds `A`; `declare module "m"` and `declare global` were inert above.
      let id = node.id;
      while (id?.type === "TSQualifiedName") id = id.left;
      return [id?.type === "Identifier" ? unit("namespace", node, statement, [id.name]) : unit("inert", node, statement)];
    }
    case "TSImportEqualsDeclaration":
      return [unit(node.importKind === "type" ? "inert" : "import-equals", node, statement, node.importKind === "type" ? [] : [node.id.name])];
    default:
      return [unit("statement", node, statement)];
  }
}

function statementUnits(statement: Node, source: string): Unit[] {
  switch (statement.type) {
    case "ImportDeclaration":
      return importUnits(statement);
    case "ExportAllDeclaration":
      return [unit(statement.exportKind === "type" ? "inert" : "reexport", statement, statement)];
    case "ExportNamedDeclaration":
      if (statement.declaration) return declarationUnits(statement.declaration, statement, source);
      return [unit(statement.source && statement.exportKind !== "type" ? "reexport" : "inert", statement, statement)];
    case "ExportDefaultDeclaration": {
      const d = statement.declaration;
      if (d.type === "FunctionDeclaration" || d.type === "ClassDeclaration" || d.type === "TSInterfaceDeclaration") return declarationUnits(d, statement, source);
      return [unit("statement", d, statement)];
    }
    case "TSExportAssignment":
    case "TSNamespaceExportDeclaration":
    case "EmptyStatement":
      return [unit("inert", statement, statement)];
    case "ExpressionStatement":
      return [unit(typeof statement.directive === "string" ? "directive" : "statement", statement, statement)];
    default:
      return declarationUnits(statement, statement, source);
  }
}

/** Splits the module into units and hands each the module-binding references inside it (one pass over both, in source order). */
export function moduleUnits(program: Node, scopes: ScopeAnalysis, source: string): ModuleUnits {
  const units = program.body.flatMap((statement: Node) => statementUnits(statement, source));
  const byName = new Map<string, Unit[]>();
  for (const u of units) {
    for (const name of u.names) {
      const list = byName.get(name);
      if (list) list.push(u);
      else byName.set(name, [u]);
    }
  }
  const refs = scopes.references;
  let r = 0;
  for (const u of units) {
    while (r < refs.length && refs[r]!.id.start < u.node.start) r++;
    for (let i = r; i < refs.length && refs[i]!.id.start < u.node.end; i++) {
      const ref = refs[i]!;
      if (ref.binding?.scope === scopes.module) u.references.push(ref);
    }
  }
  return { units, byName };
}
