// Capture resolution from the scope analysis. A name inside the closure is a
// capture when its binding lives in an enclosing function (parameter or
// local) or in a block below module level; module bindings, imports and
// globals are resolved by the worker in the stub's own module, so they are
// never captured.
import { functionScopeOf, isLoop, type Binding, type ScopeAnalysis } from "./scope-model.js";
import { contains, forEachChild, isFunctionNode, unwrapParens, type Node } from "./syntax.js";

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
  what: "this" | "super" | "arguments";
  node: Node;
}

/** `this`/`super`/`arguments` belong to the closure unless a non-arrow function or a class intervenes. */
function ownedByClosure(node: Node, closure: Node): boolean {
  for (let p = node.parent; p && p !== closure; p = p.parent) {
    if (p.type === "ClassBody" || p.type === "ClassDeclaration" || p.type === "ClassExpression") return false;
    if (isFunctionNode(p) && p.type !== "ArrowFunctionExpression") return false;
  }
  return true;
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

export interface ClosureScan {
  captures: Capture[];
  forbidden: ForbiddenUse[];
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
  for (const node of startingIn(scopes.selfReferences, closure.body, (n) => n.start)) {
    if (ownedByClosure(node, closure)) forbidden.push({ what: node.type === "Super" ? "super" : "this", node });
  }
  for (const ref of startingIn(scopes.references, closure.body, (r) => r.id.start)) {
    const binding = ref.binding;
    if (!binding) {
      // Unbound `arguments` is the implicit object of the nearest function.
      if (ref.name === "arguments" && ownedByClosure(ref.id, closure)) forbidden.push({ what: "arguments", node: ref.id });
      continue;
    }
    if (binding.kind === "import" || binding.scope.kind === "module") continue;
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
  return { captures, forbidden };
}

/** `let`/`var` and parameters can be reassigned; `const`, `using`, functions and classes cannot. */
function isMutable(binding: Binding): boolean {
  return binding.kind === "let" || binding.kind === "var" || binding.kind === "param";
}

/**
 * The call and the write sit in opposite branches of one `if`/`else` or
 * `?:`, so the write never runs after the call (unless a loop repeats both,
 * which the loop check covers).
 */
function inExclusiveBranches(call: Node, write: Node): boolean {
  for (let p = call.parent; p; p = p.parent) {
    if (!contains(p, write)) continue;
    if (p.type !== "IfStatement" && p.type !== "ConditionalExpression") return false;
    const branches = [p.consequent, p.alternate].filter(Boolean) as Node[];
    const callBranch = branches.find((b) => contains(b, call));
    const writeBranch = branches.find((b) => contains(b, write));
    return callBranch !== undefined && writeBranch !== undefined && callBranch !== writeBranch;
  }
  return false;
}

/** The function (or class static block) whose body holds `node`, or undefined at module level. */
function enclosingFunction(node: Node): Node | undefined {
  for (let p = node.parent; p; p = p.parent) if (isFunctionNode(p) || p.type === "StaticBlock") return p;
  return undefined;
}

/** Statements of a block-like node, in order. */
function statementList(node: Node): Node[] | undefined {
  return node.type === "BlockStatement" || node.type === "StaticBlock" || node.type === "Program" ? node.body : undefined;
}

/** The statement holds a `break` or `continue` (even one that only leaves a loop inside it: conservative). */
function mayJump(statement: Node): boolean {
  let found = false;
  const visit = (node: Node): void => {
    if (found || isFunctionNode(node)) return;
    if (node.type === "BreakStatement" || node.type === "ContinueStatement") {
      found = true;
      return;
    }
    forEachChild(node, visit, undefined);
  };
  visit(statement);
  return found;
}

/**
 * The `return` or `throw` that always ends the call's function after the
 * call: the call's own statement, or a later statement of the list it falls
 * through to, with no `break`/`continue` on the way. Undefined when there is
 * none, when a function boundary lies between (the exit would leave another
 * function), or when control could go round a loop or into another switch
 * case first.
 */
function exitAfter(call: Node): Node | undefined {
  let node = call;
  for (let p = call.parent; p; node = p, p = p.parent) {
    const list = statementList(p);
    if (list) {
      const i = list.indexOf(node);
      for (let j = i; j < list.length; j++) {
        const statement = list[j]!;
        if (statement.type === "ReturnStatement" || statement.type === "ThrowStatement") return statement;
        if (j > i && mayJump(statement)) return undefined;
      }
      // Falling off a function body (or the module, or a static block) ends it with no exit to rely on.
      if (p.type !== "BlockStatement" || isFunctionNode(p.parent!)) return undefined;
      continue;
    }
    if (isFunctionNode(p) || p.type === "ClassBody" || p.type === "SwitchCase" || p.type === "LabeledStatement" || isLoop(p)) return undefined;
  }
  return undefined;
}

/** `write` sits in a `catch` or `finally` of a `try` whose block holds the call: it can run after the call despite a `return`. */
function inHandlerAround(call: Node, write: Node): boolean {
  for (let p = write.parent; p; p = p.parent) {
    if (p.type === "TryStatement" && contains(p.block, call) && !contains(p.block, write)) return true;
  }
  return false;
}

/**
 * Writes to a captured `let`/`var` that the snapshot would miss: any write
 * after the call (except in the other branch of an `if`/`else` around it),
 * or a write inside a loop that repeats the call when the binding outlives
 * an iteration. A `for (let …)` binding is per-iteration, so the loop that
 * declares it does not count. When a `return`/`throw` always follows the
 * call, its function's code past that exit never runs after the call, and
 * its loops never repeat it (writes in nested functions keep the
 * source-order rule: they may run at any time).
 */
export function findLaterWrites(capture: Capture, call: Node, closure: Node): Node[] {
  const binding = capture.binding;
  if (!isMutable(binding)) return [];
  const scope = functionScopeOf(binding);
  if (scope.kind === "module") return [];
  const fn = enclosingFunction(call);
  const after = fn ? exitAfter(call) : undefined;
  const loops: Node[] = [];
  for (let p = call.parent; p && p !== scope.node; p = p.parent) {
    if (isLoop(p) && !contains(p, binding.id) && !(after && contains(fn!, p))) loops.push(p);
  }
  const skippedByExit = (write: Node): boolean =>
    after !== undefined && enclosingFunction(write) === fn && write.start >= after.end && !inHandlerAround(call, write);
  return binding.references
    .filter((ref) => ref.write && !contains(closure, ref.id) && (
      loops.some((loop) => contains(loop, ref.id)) ||
      (ref.id.start >= call.end && !inExclusiveBranches(call, ref.id) && !skippedByExit(ref.id))))
    .map((ref) => ref.id);
}
