// Capture resolution from the scope analysis. A name inside the closure is a
// capture when its binding lives in an enclosing function (parameter or
// local) or in a block below module level; module bindings, imports and
// globals are resolved by the worker in the stub's own module, so they are
// never captured.
import type { Binding, ScopeAnalysis } from "./scope-model.js";
import { contains, isFunctionNode, unwrapParens, type Node } from "./syntax.js";

export type CaptureKind = "value" | "function" | "class";

export interface Capture {
  name: string;
  binding: Binding;
  kind: CaptureKind;
  /** First reference inside the closure: where diagnostics point. */
  firstReference: Node;
  /** References inside the closure that assign to the capture. */
  writesInside: Node[];
}

export interface ForbiddenUse {
  what: "this" | "super" | "arguments" | "new.target" | "#private" | "eval";
  node: Node;
}

const isClass = (node: Node): boolean => node.type === "ClassBody" || node.type === "ClassDeclaration" || node.type === "ClassExpression";

/** `this`/`super`/`arguments`/`new.target` belong to the closure unless a non-arrow function or a class intervenes. */
function ownedByClosure(node: Node, closure: Node): boolean {
  for (let p = node.parent; p && p !== closure; p = p.parent) {
    if (isClass(p)) return false;
    if (isFunctionNode(p) && p.type !== "ArrowFunctionExpression") return false;
  }
  return true;
}

/** A `#name` is declared by the class body that holds it; one declared outside the closure does not exist where the worker runs it. */
function privateNameFromOutside(node: Node, closure: Node): boolean {
  for (let p = node.parent; p && p !== closure; p = p.parent) {
    if (p.type === "ClassBody" && p.body.some((m: Node) => m.key?.type === "PrivateIdentifier" && m.key.name === node.name)) return false;
  }
  return true;
}

function forbiddenSelf(node: Node, closure: Node): ForbiddenUse | undefined {
  switch (node.type) {
    case "PrivateIdentifier":
      return privateNameFromOutside(node, closure) ? { what: "#private", node } : undefined;
    case "MetaProperty":
      return ownedByClosure(node, closure) ? { what: "new.target", node } : undefined;
    default:
      return ownedByClosure(node, closure) ? { what: node.type === "Super" ? "super" : "this", node } : undefined;
  }
}

/** `eval(…)` called directly: it reads the variables of the scope it is called in, which the worker does not have. */
function isDirectEval(id: Node): boolean {
  let node = id;
  while (node.parent?.type === "ParenthesizedExpression") node = node.parent;
  return node.parent?.type === "CallExpression" && node.parent.callee === node;
}

function captureKind(binding: Binding): CaptureKind {
  if (binding.kind === "function") return "function";
  if (binding.kind === "class") return "class";
  const decl = binding.declaration;
  if (decl.type === "VariableDeclarator" && decl.id === binding.id && decl.init) {
    const init = unwrapParens(decl.init)!;
    if (init.type === "ArrowFunctionExpression" || init.type === "FunctionExpression") return "function";
    if (init.type === "ClassExpression") return "class";
  }
  return "value";
}

/** A module-level `let`/`var` the closure reads: not captured (the stub resolves it in its own module), so a worker reads its own copy. */
export interface ModuleRead {
  binding: Binding;
  firstReference: Node;
}

export interface ClosureScan {
  captures: Capture[];
  forbidden: ForbiddenUse[];
  moduleReads: ModuleRead[];
}

/** The items of a source-ordered list that start inside `range` (binary search for the first). */
function startingIn<T>(items: readonly T[], range: { start: number; end: number }, startOf: (item: T) => number): T[] {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (startOf(items[mid]!) < range.start) lo = mid + 1;
    else hi = mid;
  }
  const out: T[] = [];
  for (let i = lo; i < items.length && startOf(items[i]!) < range.end; i++) out.push(items[i]!);
  return out;
}

export function scanClosure(closure: Node, scopes: ScopeAnalysis): ClosureScan {
  const byBinding = new Map<Binding, Capture>();
  const forbidden: ForbiddenUse[] = [];
  const moduleReads = new Map<Binding, ModuleRead>();
  for (const node of startingIn(scopes.selfReferences, closure.body, (n) => n.start)) {
    const use = forbiddenSelf(node, closure);
    if (use) forbidden.push(use);
  }
  for (const ref of startingIn(scopes.references, closure.body, (r) => r.id.start)) {
    const binding = ref.binding;
    if (!binding) {
      // Unbound `arguments` is the implicit object of the nearest function.
      if (ref.name === "arguments" && ownedByClosure(ref.id, closure)) forbidden.push({ what: "arguments", node: ref.id });
      else if (ref.name === "eval" && isDirectEval(ref.id)) forbidden.push({ what: "eval", node: ref.id });
      continue;
    }
    if (binding.kind === "import" || binding.scope.kind === "module") {
      if ((binding.kind === "let" || binding.kind === "var") && binding.scope.kind === "module" && !moduleReads.has(binding)) {
        moduleReads.set(binding, { binding, firstReference: ref.id });
      }
      continue;
    }
    if (contains(closure, binding.id)) continue;
    let capture = byBinding.get(binding);
    if (!capture) {
      capture = { name: binding.name, binding, kind: captureKind(binding), firstReference: ref.id, writesInside: [] };
      byBinding.set(binding, capture);
    }
    if (ref.write) capture.writesInside.push(ref.id);
  }
  forbidden.sort((a, b) => a.node.start - b.node.start);
  const captures = [...byBinding.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { captures, forbidden, moduleReads: [...moduleReads.values()] };
}
