// Finds the references to `durable` imported from durable-async, under any
// local name (`import { durable as d }`) or through a namespace import, and
// classifies each use. Identity is by binding, so a local variable that
// shadows the import is not mistaken for it.
import { PACKAGE_NAME, TASK_KINDS, type TaskKind } from "../src/contract/index.js";
import type { Binding, ScopeAnalysis } from "./scope-model.js";
import { unwrapParens, type Node } from "./syntax.js";

const KINDS = new Set<string>(TASK_KINDS);

export interface DurableCall {
  type: "call";
  kind: TaskKind;
  node: Node;
  /** The argument as written: the closure, possibly in parentheses. */
  argument: Node;
  closure: Node;
  options: Node | undefined;
}

export interface DurableMisuse {
  type: "misuse";
  node: Node;
  text: string;
}

export interface DurableNonLiteral {
  type: "non-literal";
  kind: TaskKind;
  node: Node;
  argument: Node | undefined;
}

export type DurableUse = DurableCall | DurableMisuse | DurableNonLiteral;

/**
 * Module-level bindings of `durable` (or a namespace holding it) taken from
 * the package: `import { durable }`, `import * as da`, and in CommonJS
 * `const { durable } = require(...)`, `const durable = require(...).durable`,
 * `const da = require(...)`.
 */
function importBindings(scopes: ScopeAnalysis): Map<Binding, { namespace: boolean }> {
  const found = new Map<Binding, { namespace: boolean }>();
  const requireIsGlobal = !scopes.module.bindings.has("require");
  for (const binding of scopes.module.bindings.values()) {
    const decl = binding.declaration;
    if (binding.kind === "import" && decl.type === "ImportDeclaration" && decl.source.value === PACKAGE_NAME) {
      const spec = binding.id.parent;
      if (spec?.type === "ImportNamespaceSpecifier") found.set(binding, { namespace: true });
      else if (spec?.type === "ImportSpecifier" && importedName(spec) === "durable") found.set(binding, { namespace: false });
    } else if (requireIsGlobal && decl.type === "VariableDeclarator" && decl.init) {
      const required = requiredBinding(decl, binding);
      if (required) found.set(binding, required);
    }
  }
  return found;
}

/** `require("durable-async")`, parentheses aside. */
function isRequireOfPackage(node: Node | undefined): boolean {
  const call = unwrapParens(node);
  if (call?.type !== "CallExpression" || call.arguments.length !== 1) return false;
  const callee = unwrapParens(call.callee);
  const arg = call.arguments[0];
  return callee?.type === "Identifier" && callee.name === "require" && arg.type === "Literal" && arg.value === PACKAGE_NAME;
}

/** What a `const … = require("durable-async")…` declarator binds to `binding`, if it is `durable` or the whole module. */
function requiredBinding(decl: Node, binding: Binding): { namespace: boolean } | undefined {
  const init = unwrapParens(decl.init)!;
  if (decl.id === binding.id) {
    if (isRequireOfPackage(init)) return { namespace: true };
    if (init.type === "MemberExpression" && isRequireOfPackage(init.object) && methodName(init) === "durable") return { namespace: false };
    return undefined;
  }
  if (decl.id.type !== "ObjectPattern" || !isRequireOfPackage(init)) return undefined;
  for (const prop of decl.id.properties) {
    if (prop.type !== "Property" || prop.value !== binding.id) continue;
    const key = prop.computed ? (prop.key.type === "Literal" ? prop.key.value : undefined) : prop.key.type === "Identifier" ? prop.key.name : prop.key.value;
    return key === "durable" ? { namespace: false } : undefined;
  }
  return undefined;
}

function importedName(spec: Node): string {
  return spec.imported.type === "Identifier" ? spec.imported.name : String(spec.imported.value);
}

/** `durable.async`, `durable["async"]` → the method name. */
function methodName(access: Node): string | undefined {
  if (access.type !== "MemberExpression") return undefined;
  if (!access.computed) return access.property.name;
  const p = access.property;
  if (p.type === "Literal" && typeof p.value === "string") return p.value;
  if (p.type === "TemplateLiteral" && p.expressions.length === 0) return p.quasis[0].value.cooked;
  return undefined;
}

function classify(api: Node, source: string): DurableUse | undefined {
  const access = api.parent!;
  if (access.type === "MemberExpression" && access.object === api) {
    const method = methodName(access);
    if (!method || !KINDS.has(method)) return undefined;
    const call = access.parent;
    if (!call || call.type !== "CallExpression" || call.callee !== access) {
      return { type: "misuse", node: access, text: source.slice(access.start, access.end) };
    }
    const kind = method as TaskKind;
    const fnIndex = kind === "cron" ? 1 : 0;
    const argument: Node | undefined = call.arguments[fnIndex];
    const closure = unwrapParens(argument);
    const isClosure = closure && (closure.type === "ArrowFunctionExpression" || closure.type === "FunctionExpression");
    if (!argument || !isClosure || argument.type === "SpreadElement") return { type: "non-literal", kind, node: call, argument };
    return { type: "call", kind, node: call, argument, closure: closure!, options: call.arguments[fnIndex + 1] };
  }
  // `const { async } = durable` takes the method out of the call position.
  if (access.type === "VariableDeclarator" && access.init === api && access.id.type === "ObjectPattern") {
    for (const prop of access.id.properties) {
      if (prop.type !== "Property") continue;
      const key = prop.computed ? undefined : prop.key.type === "Identifier" ? prop.key.name : String(prop.key.value);
      if (key && KINDS.has(key)) return { type: "misuse", node: prop, text: `durable.${key}` };
    }
  }
  return undefined;
}

export interface DurableAlias {
  type: "alias";
  /** let/var/assignment: an alias the transformer cannot follow (error); handed: passed, exported, stored (warning). */
  how: "variable" | "handed";
  node: Node;
}

export type DurableUseOrAlias = DurableUse | DurableAlias;

const HANDED = new Set(["CallExpression", "NewExpression", "Property", "ArrayExpression", "SpreadElement", "ExportSpecifier", "ExportDefaultDeclaration", "ReturnStatement", "ArrowFunctionExpression"]);

/**
 * A use of `durable` itself as a value: a `const` alias (followed like the
 * import), another variable or an assignment (its calls cannot be compiled),
 * or handed to other code.
 */
function aliasOf(api: Node): { declarator: Node } | DurableAlias | undefined {
  let node = api;
  while (node.parent && (node.parent.type === "ParenthesizedExpression" || node.parent.type.startsWith("TS"))) node = node.parent;
  const p = node.parent;
  if (!p) return undefined;
  if (p.type === "VariableDeclarator" && p.init === node) {
    if (p.id.type === "Identifier" && p.parent?.kind === "const") return { declarator: p };
    return p.id.type === "Identifier" ? { type: "alias", how: "variable", node: p } : undefined; // a pattern is classify's
  }
  // `d = durable` makes a variable that can change; `module.exports.d = durable` hands it on.
  if (p.type === "AssignmentExpression" && p.right === node) return { type: "alias", how: p.left.type === "Identifier" ? "variable" : "handed", node: p };
  if (HANDED.has(p.type) && !(p.type === "CallExpression" && p.callee === node) && !(p.type === "Property" && p.key === node)) {
    return { type: "alias", how: "handed", node };
  }
  return undefined;
}

/** Every use of the durable API in source order, following `const` aliases of it. */
export function findDurableUses(scopes: ScopeAnalysis, source: string): DurableUseOrAlias[] {
  const pending = [...importBindings(scopes)];
  const uses: DurableUseOrAlias[] = [];
  let declared: Map<Node, Binding> | undefined;
  const bindingOf = (id: Node): Binding | undefined => {
    if (!declared) {
      declared = new Map();
      for (const ref of scopes.references) if (ref.binding) declared.set(ref.binding.id, ref.binding);
    }
    return declared.get(id);
  };
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [binding, { namespace }] = next;
    for (const ref of binding.references) {
      if (ref.write) continue;
      let api: Node | undefined = ref.id;
      if (namespace) {
        const p = ref.id.parent;
        api = p?.type === "MemberExpression" && p.object === ref.id && methodName(p) === "durable" ? p : undefined;
        if (!api) {
          const alias = aliasOf(ref.id);
          const target = alias && "declarator" in alias ? bindingOf(alias.declarator.id) : undefined;
          if (target) pending.push([target, { namespace: true }]);
          continue;
        }
      }
      const use = classify(api, source);
      if (use) {
        uses.push(use);
        continue;
      }
      const alias = aliasOf(api);
      if (alias && "declarator" in alias) {
        const target = bindingOf(alias.declarator.id);
        if (target) pending.push([target, { namespace: false }]);
      } else if (alias) {
        uses.push(alias);
      }
    }
  }
  return uses.sort((a, b) => a.node.start - b.node.start);
}
