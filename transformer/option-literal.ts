// The options the transformer reads at build time (`name`, `nodeType`): from
// the object literal written in the call, or from a `const` in the same file
// bound to an object literal (`const opts = { name: "x" }`, and spreads of
// such consts, the last one winning, as at run time). What it cannot see (a
// parameter, an import, a call) is checked at run time: a `name` that
// arrives there and differs from the call site's id is an error.
import type { Reference, ScopeAnalysis } from "./scope-model.js";
import type { Node } from "./syntax.js";

export interface OptionValue {
  node: Node;
  /** The string, when the value is a string literal. */
  value?: string;
}

const WRAPPERS = new Set(["ParenthesizedExpression", "TSAsExpression", "TSSatisfiesExpression", "TSNonNullExpression", "TSTypeAssertion"]);

function referenceAt(references: readonly Reference[], id: Node): Reference | undefined {
  let lo = 0;
  let hi = references.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (references[mid]!.id.start < id.start) lo = mid + 1;
    else hi = mid;
  }
  const ref = references[lo];
  return ref?.id === id ? ref : undefined;
}

/** The object literal `node` is, or that the `const` it names is bound to. */
function objectLiteral(node: Node, scopes: ScopeAnalysis, seen: Set<Node>): Node | undefined {
  let e = node;
  while (WRAPPERS.has(e.type)) e = e.expression;
  if (e.type === "ObjectExpression") return e;
  if (e.type !== "Identifier") return undefined;
  const binding = referenceAt(scopes.references, e)?.binding;
  const decl = binding?.declaration;
  if (binding?.kind !== "const" || decl?.type !== "VariableDeclarator" || decl.id !== binding.id || !decl.init || seen.has(decl)) return undefined;
  seen.add(decl);
  return objectLiteral(decl.init, scopes, seen);
}

function literalValue(init: Node): string | undefined {
  if (init.type === "Literal" && typeof init.value === "string") return init.value;
  if (init.type === "TemplateLiteral" && init.expressions.length === 0) return init.quasis[0].value.cooked;
  return undefined;
}

function lookup(object: Node, key: string, scopes: ScopeAnalysis, seen: Set<Node>): OptionValue | undefined {
  for (let i = object.properties.length - 1; i >= 0; i--) {
    const prop = object.properties[i];
    if (prop.type === "SpreadElement") {
      const spread = objectLiteral(prop.argument, scopes, seen);
      const found = spread && lookup(spread, key, scopes, seen);
      if (found) return found;
      continue;
    }
    if (prop.type !== "Property" || prop.computed) continue;
    const name = prop.key.type === "Identifier" ? prop.key.name : prop.key.type === "Literal" ? String(prop.key.value) : undefined;
    if (name !== key) continue;
    return prop.shorthand ? { node: prop.value } : { node: prop.value, value: literalValue(prop.value) };
  }
  return undefined;
}

/** The value given for `key` in a call's options, where the build can see it. */
export function optionLiteral(options: Node | undefined, key: string, scopes: ScopeAnalysis): OptionValue | undefined {
  const object = options && options.type !== "SpreadElement" ? objectLiteral(options, scopes, new Set()) : undefined;
  return object && lookup(object, key, scopes, new Set());
}
