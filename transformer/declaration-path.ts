// The enclosing declaration path is the human part of a task id
// (`OrderService.charge`). It is built from names only, never positions, so
// moving code or adding code above a call site does not change the id.
import type { Node } from "./syntax.js";

function nameText(name: Node | undefined | null, computed: boolean, source: string): string | undefined {
  if (!name) return undefined;
  if (computed) {
    const e = name;
    if (e.type === "Literal" && (typeof e.value === "string" || typeof e.value === "number")) return String(e.value);
    if (e.type === "TemplateLiteral" && e.expressions.length === 0) return e.quasis[0].value.cooked;
    return `[${source.slice(e.start, e.end)}]`;
  }
  if (name.type === "Identifier") return name.name;
  if (name.type === "PrivateIdentifier") return name.name;
  if (name.type === "Literal") return String(name.value);
  return undefined;
}

function isDeclarationLike(init: Node): boolean {
  let e = init;
  while (e.type === "ParenthesizedExpression" || e.type === "TSAsExpression" || e.type === "TSSatisfiesExpression") e = e.expression;
  return e.type === "ArrowFunctionExpression" || e.type === "FunctionExpression" || e.type === "ClassExpression" || e.type === "ObjectExpression";
}

/** The name one ancestor contributes to the path, if it is a named declaration. */
export function segmentOf(node: Node, source: string): string | undefined {
  switch (node.type) {
    case "FunctionDeclaration":
    case "ClassDeclaration":
      return nameText(node.id, false, source) ?? (node.parent?.type === "ExportDefaultDeclaration" ? "default" : undefined);
    case "ClassExpression":
      return nameText(node.id, false, source);
    case "MethodDefinition":
    case "TSAbstractMethodDefinition":
      return node.kind === "constructor" ? "constructor" : nameText(node.key, node.computed, source);
    case "PropertyDefinition":
    case "AccessorProperty":
    case "TSAbstractPropertyDefinition":
      return nameText(node.key, node.computed, source);
    case "Property":
      // Object-literal members (methods, getters, arrow-valued properties); patterns have no values to enter.
      return node.parent?.type === "ObjectExpression" && isDeclarationLike(node.value) ? nameText(node.key, node.computed, source) : undefined;
    case "StaticBlock":
      return "static";
    case "VariableDeclarator":
      // `const job = await durable.async(...)` names a value, not a scope.
      return node.id.type === "Identifier" && node.init && isDeclarationLike(node.init) ? node.id.name : undefined;
    case "ExportDefaultDeclaration": {
      // `export default function f() {}` is named by the function itself.
      const decl = node.declaration;
      return decl.type === "FunctionDeclaration" || decl.type === "ClassDeclaration" ? undefined : "default";
    }
    default:
      return undefined;
  }
}

/**
 * Segments from the outermost declaration down to the call, stopping at
 * `boundary` (the closure of an enclosing durable call, for nested calls).
 */
export function declarationSegments(node: Node, source: string, boundary?: Node): string[] {
  const segments: string[] = [];
  for (let p = node.parent; p && p !== boundary && p.type !== "Program"; p = p.parent) {
    const segment = segmentOf(p, source);
    if (segment !== undefined) segments.unshift(segment);
  }
  return segments;
}
