// A control-flow graph of one function body (or static block, or module), at
// the grain the capture check needs: each unit is a piece of code that runs
// as a whole (an expression statement, an `if` test, a loop update, a
// `return`). Nested functions are not entered; they run when they are
// called. `finally` blocks are copied per way in (normal end, each jump,
// a throw), so a `return` through a `finally` does not seem to fall through
// to the code after the `try`. Every unit inside a `try` block may throw into
// its `catch` (or `finally`).
import { isFunctionNode, isTypeOnly, type Node } from "./syntax.js";

export interface FlowUnit {
  /** The code this unit runs: a statement, or an expression of one (test, update, head). */
  node: Node;
  next: FlowUnit[];
}

interface Jump {
  kind: "loop" | "switch" | "label" | "try";
  labels: readonly string[];
  breaks: FlowUnit[];
  continues: FlowUnit[];
  /** try: the catch clause while building the block, the finalizer while building the block or the handler. */
  handler?: Node;
  finalizer?: Node;
  throws: FlowUnit[];
  finallyThrows: FlowUnit[];
}

export class FlowGraph {
  readonly units: FlowUnit[] = [];
  private readonly byNode = new Map<Node, FlowUnit[]>();

  /** A unit for `node`; `code: false` makes a no-op unit (a loop's back-edge target) that no code maps to. */
  add(node: Node, code = true): FlowUnit {
    const unit: FlowUnit = { node, next: [] };
    this.units.push(unit);
    if (!code) return unit;
    const list = this.byNode.get(node);
    if (list) list.push(unit);
    else this.byNode.set(node, [unit]);
    return unit;
  }

  /** The units (more than one inside a copied `finally`) whose code holds `node`; empty when it lies in none. */
  unitsOf(node: Node): FlowUnit[] {
    for (let n: Node | undefined = node; n; n = n.parent) {
      const found = this.byNode.get(n);
      if (found) return found;
    }
    return [];
  }

  /** Every unit reachable from `from` through at least one edge, without entering a unit `inside` rejects. */
  reachableFrom(from: readonly FlowUnit[], inside: (unit: FlowUnit) => boolean): Set<FlowUnit> {
    const seen = new Set<FlowUnit>();
    const stack = from.flatMap((u) => u.next);
    for (let u = stack.pop(); u; u = stack.pop()) {
      if (seen.has(u) || !inside(u)) continue;
      seen.add(u);
      stack.push(...u.next);
    }
    return seen;
  }
}

function link(from: readonly FlowUnit[], to: FlowUnit): void {
  for (const f of from) f.next.push(to);
}

/** Statements a label names for `continue` (loops) or that take its `break` themselves. */
const LABEL_TARGETS = new Set(["WhileStatement", "DoWhileStatement", "ForStatement", "ForInStatement", "ForOfStatement", "SwitchStatement"]);
const SKIPPED = new Set(["EmptyStatement", "DebuggerStatement", "FunctionDeclaration", "ImportDeclaration", "ExportAllDeclaration"]);

class FlowBuilder {
  readonly graph = new FlowGraph();
  private stack: Jump[] = [];

  /** A unit for `node`, entered from `preds`; inside a `try` it may throw. */
  private unit(node: Node, preds: readonly FlowUnit[]): FlowUnit {
    const u = this.graph.add(node);
    link(preds, u);
    this.raise([u]);
    return u;
  }

  /** Builds `list` in order; returns the units that fall through its end. */
  sequence(list: readonly Node[], preds: FlowUnit[]): FlowUnit[] {
    let exits = preds;
    for (const st of list) exits = this.statement(st, exits);
    return exits;
  }

  statement(node: Node, preds: FlowUnit[], labels: readonly string[] = []): FlowUnit[] {
    if (SKIPPED.has(node.type) || isTypeOnly(node)) return preds;
    switch (node.type) {
      case "BlockStatement": case "StaticBlock": case "TSModuleBlock":
        return this.sequence(node.body, preds);
      case "ExportNamedDeclaration":
        return node.declaration ? this.statement(node.declaration, preds) : preds;
      case "IfStatement": {
        const test = [this.unit(node.test, preds)];
        const then = this.statement(node.consequent, test);
        return [...then, ...(node.alternate ? this.statement(node.alternate, test) : test)];
      }
      case "LabeledStatement":
        return this.labeled(node, preds, [...labels, node.label.name]);
      case "WhileStatement": case "DoWhileStatement": case "ForStatement": case "ForInStatement": case "ForOfStatement":
        return this.loop(node, preds, labels);
      case "SwitchStatement":
        return this.switchStatement(node, preds, labels);
      case "TryStatement":
        return this.tryStatement(node, preds);
      case "BreakStatement": case "ContinueStatement":
        this.jump(node.type === "BreakStatement" ? "break" : "continue", node.label?.name, preds);
        return [];
      case "ReturnStatement":
        this.jump("return", undefined, [this.unit(node, preds)]);
        return [];
      case "ThrowStatement":
        this.unit(node, preds); // its throw edge is the implicit one every unit in a `try` has
        return [];
      case "WithStatement":
        return this.statement(node.body, [this.unit(node.object, preds)]);
      default:
        return [this.unit(node, preds)];
    }
  }

  private labeled(node: Node, preds: FlowUnit[], labels: string[]): FlowUnit[] {
    const body = node.body;
    if (body.type === "LabeledStatement") return this.labeled(body, preds, [...labels, body.label.name]);
    if (LABEL_TARGETS.has(body.type)) return this.statement(body, preds, labels);
    const ctx = this.push("label", labels);
    const exits = this.statement(body, preds);
    this.stack.pop();
    return [...exits, ...ctx.breaks];
  }

  private push(kind: Jump["kind"], labels: readonly string[] = []): Jump {
    const ctx: Jump = { kind, labels, breaks: [], continues: [], throws: [], finallyThrows: [] };
    this.stack.push(ctx);
    return ctx;
  }

  private loop(node: Node, preds: FlowUnit[], labels: readonly string[]): FlowUnit[] {
    const ctx = this.push("loop", labels);
    let exits: FlowUnit[];
    if (node.type === "WhileStatement") {
      const test = this.unit(node.test, preds);
      link(this.statement(node.body, [test]), test);
      link(ctx.continues, test);
      exits = [test];
    } else if (node.type === "DoWhileStatement") {
      const entry = this.graph.add(node, false); // where each iteration starts
      link(preds, entry);
      const bodyExits = this.statement(node.body, [entry]);
      const test = this.unit(node.test, [...bodyExits, ...ctx.continues]);
      link([test], entry);
      exits = [test];
    } else if (node.type === "ForStatement") {
      const init = node.init ? [this.unit(node.init, preds)] : preds;
      const head = this.graph.add(node, false); // where each iteration starts
      link(init, head);
      const test = node.test ? this.unit(node.test, [head]) : head;
      const bodyExits = this.statement(node.body, [test]);
      const update = node.update ? this.unit(node.update, [...bodyExits, ...ctx.continues]) : undefined;
      link(update ? [update] : [...bodyExits, ...ctx.continues], head);
      exits = node.test ? [test] : [];
    } else {
      const right = this.unit(node.right, preds);
      const head = this.unit(node.left, [right]);
      link([...this.statement(node.body, [head]), ...ctx.continues], head);
      exits = [right, head];
    }
    this.stack.pop();
    return [...exits, ...ctx.breaks];
  }

  private switchStatement(node: Node, preds: FlowUnit[], labels: readonly string[]): FlowUnit[] {
    const discriminant = this.unit(node.discriminant, preds);
    const ctx = this.push("switch", labels);
    let tests: FlowUnit[] = [discriminant];
    const entries: FlowUnit[][] = node.cases.map((c: Node) => {
      if (!c.test) return [];
      const test = this.unit(c.test, tests);
      tests = [test];
      return [test];
    });
    const fallback = node.cases.findIndex((c: Node) => !c.test);
    if (fallback >= 0) entries[fallback] = tests;
    let exits: FlowUnit[] = [];
    node.cases.forEach((c: Node, i: number) => {
      exits = this.sequence(c.consequent, [...exits, ...entries[i]!]);
    });
    this.stack.pop();
    return [...exits, ...ctx.breaks, ...(fallback < 0 ? tests : [])];
  }

  private tryStatement(node: Node, preds: FlowUnit[]): FlowUnit[] {
    const ctx = this.push("try");
    ctx.handler = node.handler ?? undefined;
    ctx.finalizer = node.finalizer ?? undefined;
    let exits = this.statement(node.block, preds);
    if (node.handler) {
      ctx.handler = undefined; // a throw in the handler goes to the finalizer, or out
      const entry = this.graph.add(node.handler); // binds the catch parameter
      link(ctx.throws, entry);
      exits = [...exits, ...this.statement(node.handler.body, [entry])];
    }
    this.stack.pop();
    if (!node.finalizer) return exits;
    if (ctx.finallyThrows.length > 0) this.raise(this.statement(node.finalizer, ctx.finallyThrows));
    return this.statement(node.finalizer, exits);
  }

  /** Where a throw from `preds` lands: the innermost `catch`, else a copy of the innermost `finally` (which throws on). */
  private raise(preds: FlowUnit[]): void {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const ctx = this.stack[i]!;
      if (ctx.kind !== "try") continue;
      if (ctx.handler) ctx.throws.push(...preds);
      else if (ctx.finalizer) ctx.finallyThrows.push(...preds);
      else continue;
      return;
    }
  }

  /** A `break`/`continue`/`return` from `preds`: through a copy of each `finally` it leaves, to its target. */
  private jump(kind: "break" | "continue" | "return", label: string | undefined, preds: FlowUnit[]): void {
    let from = preds;
    for (let i = this.stack.length - 1; i >= 0 && from.length > 0; i--) {
      const ctx = this.stack[i]!;
      if (ctx.kind === "try") {
        if (ctx.finalizer) from = this.withStack(i, () => this.statement(ctx.finalizer!, from));
        continue;
      }
      if (kind === "return") continue;
      const matches = label !== undefined ? ctx.labels.includes(label) && (kind === "break" || ctx.kind === "loop")
        : kind === "break" ? ctx.kind !== "label" : ctx.kind === "loop";
      if (!matches) continue;
      (kind === "break" ? ctx.breaks : ctx.continues).push(...from);
      return;
    }
  }

  /** Builds with only the jump targets outside the `try` at `depth`: a `finally` copy jumps from there. */
  private withStack<T>(depth: number, build: () => T): T {
    const saved = this.stack;
    this.stack = saved.slice(0, depth);
    try {
      return build();
    } finally {
      this.stack = saved;
    }
  }
}

/** The flow graph of a function's body (an expression body is one unit), a static block, or a module. */
export function buildFlowGraph(owner: Node): FlowGraph {
  const builder = new FlowBuilder();
  if (owner.type === "Program" || owner.type === "StaticBlock") builder.sequence(owner.body, []);
  else if (isFunctionNode(owner) && owner.body?.type === "BlockStatement") builder.sequence(owner.body.body, []);
  else if (owner.body) builder.statement(owner.body, []);
  return builder.graph;
}
