// Writes to a captured variable that the enqueue-time snapshot would miss,
// judged by control flow: a write counts when it can run after the call,
// while the variable the closure captured is still the one written. In
// place, the closure runs later and would see such a write; the job never
// does.
//
// - Reachability comes from the flow graph of the function that owns the
//   variable (control-flow.ts): a `return` before a write, the other branch of
//   an `if`, another `switch` case after a `break` never count; a write a loop
//   brings round again does.
// - A `let` in a block (or a loop head) is a fresh variable each time the
//   block is entered: a path that leaves the block ends the one captured.
//   `var` and parameters live as long as their function.
// - A write inside a nested function runs when that function runs: where it
//   is created, and wherever its name is referenced. When the call itself
//   sits in a nested function, that function can run again, so every write in
//   it counts.
import type { Capture } from "./captures.js";
import { buildFlowGraph, type FlowGraph, type FlowUnit } from "./control-flow.js";
import { functionScopeOf, type Binding, type ScopeAnalysis } from "./scope-model.js";
import { contains, isFunctionNode, unwrapParens, type Node } from "./syntax.js";

export interface LaterWrite {
  node: Node;
  /**
   * after: later in the source; loop: brought round again by a loop; again:
   * in the function around the call, which can run again; called: in a
   * function that is called (or created) after the call.
   */
  why: "after" | "loop" | "again" | "called";
}

/** A place code runs from: the units that hold it (several inside a copied `finally`) and the node whose end marks the moment. */
interface Point {
  units: readonly FlowUnit[];
  at: Node;
}

function isMutable(binding: Binding): boolean {
  return binding.kind === "let" || binding.kind === "var" || binding.kind === "param" || binding.kind === "catch";
}

const WRITERS = new Set(["AssignmentExpression", "UpdateExpression", "VariableDeclarator", "ForInStatement", "ForOfStatement"]);

/** The expression whose end is when a write happens (`x = f()` writes after `f()` ran). */
function writeSite(id: Node): Node {
  for (let p = id.parent; p; p = p.parent) {
    if (WRITERS.has(p.type)) return p.type.startsWith("For") ? id : p;
    if (/Statement$|Declaration$/.test(p.type)) break;
  }
  return id;
}

/** A reference that calls its function runs it once the arguments are evaluated: at the end of the call. */
function callSite(id: Node): Node {
  let node = id;
  while (node.parent?.type === "ParenthesizedExpression") node = node.parent;
  const p = node.parent;
  return p && (p.type === "CallExpression" || p.type === "NewExpression") && p.callee === node ? p : id;
}

/** `a ? call : write` (or the reverse): one expression runs one branch. */
function inExclusiveBranches(a: Node, b: Node): boolean {
  for (let p = a.parent; p; p = p.parent) {
    if (!contains(p, b)) continue;
    if (p.type !== "ConditionalExpression") return false;
    const inA = [p.consequent, p.alternate].find((x) => contains(x, a));
    const inB = [p.consequent, p.alternate].find((x) => contains(x, b));
    return inA !== undefined && inB !== undefined && inA !== inB;
  }
  return false;
}

export class LaterWrites {
  private readonly graphs = new Map<Node, FlowGraph>();
  private declared: Map<Node, Binding> | undefined;

  constructor(private readonly scopes: ScopeAnalysis) {}

  find(capture: Capture, call: Node, closure: Node): LaterWrite[] {
    const binding = capture.binding;
    if (!isMutable(binding)) return [];
    // Most captures are never written outside the closure: no graph to build.
    const writes = binding.references.filter((ref) => ref.write && !contains(closure, ref.id));
    if (writes.length === 0) return [];
    const owner = functionScopeOf(binding).node;
    const graph = this.graph(owner);
    const outer = (node: Node) => outermostFunction(node, owner);
    const around = outer(call);
    const starts = around ? this.runPoints(around, graph, outer) : [{ units: graph.unitsOf(call), at: call }];
    const reachable = graph.reachableFrom(starts.flatMap((s) => s.units), instanceRegion(binding));
    const after = (p: Point): boolean => p.units.some((u) => reachable.has(u)) || starts.some((s) =>
      p.units.some((u) => s.units.includes(u)) && p.at.end >= s.at.end && !inExclusiveBranches(s.at, p.at));
    const out: LaterWrite[] = [];
    for (const ref of writes) {
      if (around && contains(around, ref.id)) {
        out.push({ node: ref.id, why: ref.id.start >= call.end ? "after" : "again" });
        continue;
      }
      const fn = outer(ref.id);
      const site = writeSite(ref.id);
      const why = ref.id.start >= call.end || (contains(site, call) && site.end >= call.end) ? "after" : fn ? "called" : "loop";
      const points = fn ? this.runPoints(fn, graph, outer) : [{ units: graph.unitsOf(ref.id), at: site }];
      if (points.some(after)) out.push({ node: ref.id, why });
    }
    return out;
  }

  private graph(owner: Node): FlowGraph {
    let graph = this.graphs.get(owner);
    if (!graph) this.graphs.set(owner, (graph = buildFlowGraph(owner)));
    return graph;
  }

  /** Where the nested function `fn` may run: where it is created, and where its name is referenced. */
  private runPoints(fn: Node, graph: FlowGraph, outer: (node: Node) => Node | undefined, seen = new Set<Node>()): Point[] {
    seen.add(fn);
    const points: Point[] = fn.type === "FunctionDeclaration" ? [] : [{ units: graph.unitsOf(fn), at: fn }];
    for (const ref of this.nameOf(fn)?.references ?? []) {
      const inner = outer(ref.id);
      if (!inner) points.push({ units: graph.unitsOf(ref.id), at: callSite(ref.id) });
      else if (!seen.has(inner)) points.push(...this.runPoints(inner, graph, outer, seen));
    }
    return points;
  }

  /** The binding a nested function is known by: its declaration's name, or the variable it initializes. */
  private nameOf(fn: Node): Binding | undefined {
    let id: Node | undefined = fn.type === "FunctionDeclaration" ? fn.id : undefined;
    if (fn.type !== "FunctionDeclaration") {
      let node = fn;
      while (node.parent?.type === "ParenthesizedExpression") node = node.parent;
      const p = node.parent;
      if (p?.type === "VariableDeclarator" && unwrapParens(p.init) === fn && p.id.type === "Identifier") id = p.id;
    }
    if (!id) return undefined;
    if (!this.declared) {
      this.declared = new Map();
      for (const ref of this.scopes.references) if (ref.binding) this.declared.set(ref.binding.id, ref.binding);
    }
    return this.declared.get(id);
  }
}

/** The outermost function (or class static block) inside `owner` that holds `node`. */
function outermostFunction(node: Node, owner: Node): Node | undefined {
  let found: Node | undefined;
  for (let p = node.parent; p && p !== owner; p = p.parent) if (isFunctionNode(p) || p.type === "StaticBlock") found = p;
  return found;
}

/**
 * The units where the captured variable is still the one the closure took: its
 * whole function for `var`, parameters and function-level `let`; its block
 * for a block's `let`; the test and body of one iteration for a `for (let …)`
 * head (the update already writes the next iteration's copy).
 */
function instanceRegion(binding: Binding): (unit: FlowUnit) => boolean {
  const scope = binding.scope;
  if (binding.kind === "var" || binding.kind === "param" || scope.kind === "function") return () => true;
  const node = scope.node;
  const parts: Node[] = node.type === "ForStatement" ? [node.test, node.body].filter(Boolean)
    : node.type === "ForInStatement" || node.type === "ForOfStatement" ? [node.body] : [node];
  return (unit) => parts.some((part) => contains(part, unit.node));
}
