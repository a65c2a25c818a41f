// Lexical scope analysis over the ESTree AST: every binding with its scope and
// every value reference resolved to its binding. This is what the checker's
// symbols gave the analysis before, without loading the TypeScript compiler.
// Modules are strict, so function declarations in blocks are block-scoped.
// Type positions are skipped: a local type named in an annotation is erased
// at run time and is never a capture.
import { hoistTarget, resolve, type BindingKind, type Reference, type Scope, type ScopeAnalysis, type ScopeKind } from "./scope-model.js";
import { forEachChild, isTypeOnly, type Node } from "./syntax.js";

class ScopeBuilder {
  readonly references: Reference[] = [];
  /** `visit` as a callback made once, so the generic walk allocates no closure per node. */
  private readonly visitChild = (child: Node, parent: Node, scope: Scope): void => this.visit(child, parent, scope);
  readonly literals: Node[] = [];
  readonly selfReferences: Node[] = [];

  newScope(kind: ScopeKind, node: Node, parent: Scope | null): Scope {
    return { kind, node, parent, bindings: new Map() };
  }

  /**
   * Declares a binding when the walk meets it. References are resolved only
   * after the whole walk, so hoisting needs no pre-pass. A repeated `var` (or
   * a `var` after a parameter of the same name) keeps the first binding; a
   * function declaration takes the name from a `var`, as it does at run time.
   */
  declare(scope: Scope, id: Node, kind: BindingKind, declaration: Node): void {
    const existing = scope.bindings.get(id.name);
    if (existing && (kind === "var" || (existing.kind === "function" && kind !== "function"))) return;
    scope.bindings.set(id.name, { name: id.name, kind, id, declaration, scope, references: [] });
  }

  /**
   * Walks a binding or assignment pattern: `onName` gets each identifier it
   * binds or assigns; default values, computed keys and member-expression
   * targets (`obj.x = …`) are read in `scope`.
   */
  walkPattern(pattern: Node, parent: Node, scope: Scope, onName: (id: Node, up: Node) => void): void {
    pattern.parent = parent;
    switch (pattern.type) {
      case "Identifier":
        onName(pattern, parent);
        return;
      case "ObjectPattern":
        for (const prop of pattern.properties) {
          prop.parent = pattern;
          if (prop.type === "RestElement") this.walkPattern(prop.argument, prop, scope, onName);
          else {
            if (prop.computed) this.visit(prop.key, prop, scope);
            else prop.key.parent = prop;
            this.walkPattern(prop.value, prop, scope, onName);
          }
        }
        return;
      case "ArrayPattern":
        for (const el of pattern.elements) if (el) this.walkPattern(el, pattern, scope, onName);
        return;
      case "AssignmentPattern":
        this.walkPattern(pattern.left, pattern, scope, onName);
        this.visit(pattern.right, pattern, scope);
        return;
      case "RestElement":
        this.walkPattern(pattern.argument, pattern, scope, onName);
        return;
      case "TSParameterProperty":
        this.walkPattern(pattern.parameter, pattern, scope, onName);
        return;
      // `(x as T) = v`, `x! = v`: the wrapped identifier is the target.
      case "ParenthesizedExpression":
      case "TSAsExpression":
      case "TSSatisfiesExpression":
      case "TSNonNullExpression":
      case "TSTypeAssertion":
        this.walkPattern(pattern.expression, pattern, scope, onName);
        return;
      default:
        this.visit(pattern, parent, scope);
    }
  }

  /** Declares every identifier of a binding pattern in `target`; defaults and computed keys are read in `scope`. */
  declarePattern(pattern: Node, parent: Node, scope: Scope, kind: BindingKind, declaration: Node, target: Scope = scope): void {
    this.walkPattern(pattern, parent, scope, (id) => this.declare(target, id, kind, declaration));
  }

  reference(id: Node, scope: Scope, write: boolean): void {
    this.references.push({ id, name: id.name, write, scope, binding: null });
  }

  /** An assignment target: identifiers in it are written; member expressions and defaults are read. */
  assignTarget(target: Node, parent: Node, scope: Scope): void {
    this.walkPattern(target, parent, scope, (id) => this.reference(id, scope, true));
  }

  /** A function: its own scope holds the name (for expressions), the parameters and the body's top-level bindings. */
  visitFunction(fn: Node, scope: Scope): void {
    const fnScope = this.newScope("function", fn, scope);
    if (fn.type === "FunctionExpression" && fn.id) {
      fn.id.parent = fn;
      this.declare(fnScope, fn.id, "function", fn);
    } else if (fn.id) {
      fn.id.parent = fn;
    }
    for (const p of fn.params) {
      if (p.type === "TSParameterProperty") {
        p.parent = fn;
        for (const d of p.decorators ?? []) this.visit(d, p, scope);
        this.declarePattern(p.parameter, p, fnScope, "param", fn);
      } else {
        for (const d of p.decorators ?? []) this.visit(d, p, scope);
        this.declarePattern(p, fn, fnScope, "param", fn);
      }
    }
    const body = fn.body;
    if (!body) return;
    body.parent = fn;
    if (body.type === "BlockStatement") {
      for (const st of body.body) this.visit(st, body, fnScope);
    } else {
      this.visit(body, fn, fnScope);
    }
  }

  visitClass(cls: Node, scope: Scope): void {
    for (const d of cls.decorators ?? []) this.visit(d, cls, scope);
    if (cls.superClass) this.visit(cls.superClass, cls, scope);
    let inner = scope;
    if (cls.id) {
      cls.id.parent = cls;
      if (cls.type === "ClassExpression") {
        inner = this.newScope("class", cls, scope);
        this.declare(inner, cls.id, "class", cls);
      }
    }
    const body = cls.body;
    body.parent = cls;
    for (const member of body.body) {
      member.parent = body;
      if (isTypeOnly(member)) continue;
      for (const d of member.decorators ?? []) this.visit(d, member, inner);
      if (member.key) {
        if (member.computed) this.visit(member.key, member, inner);
        else member.key.parent = member;
      }
      if (member.type === "StaticBlock") {
        const blockScope = this.newScope("function", member, inner);
        for (const st of member.body) this.visit(st, member, blockScope);
      } else if (member.value) {
        this.visit(member.value, member, inner);
      }
    }
  }

  visitBlock(node: Node, statements: Node[], scope: Scope): void {
    const block = this.newScope("block", node, scope);
    for (const st of statements) this.visit(st, node, block);
  }

  visitJsxName(name: Node, parent: Node, scope: Scope): void {
    name.parent = parent;
    if (name.type === "JSXIdentifier") {
      // Lower-case and dashed names are intrinsic elements, not bindings.
      if (/^[A-Z_$]/.test(name.name) && !name.name.includes("-")) this.reference(name, scope, false);
    } else if (name.type === "JSXMemberExpression") {
      this.visitJsxName(name.object, name, scope);
      name.property.parent = name;
    } else {
      this.visit(name, parent, scope);
    }
  }

  visit(node: Node, parent: Node | undefined, scope: Scope): void {
    node.parent = parent;
    if (isTypeOnly(node)) return;
    const handler = HANDLERS[node.type];
    if (handler) handler(this, node, scope, parent);
    else forEachChild(node, this.visitChild, scope);
  }

  visitSwitch(node: Node, scope: Scope): void {
    this.visit(node.discriminant, node, scope);
    const block = this.newScope("block", node, scope);
    for (const c of node.cases) {
      c.parent = node;
      if (c.test) this.visit(c.test, c, block);
      for (const st of c.consequent) this.visit(st, c, block);
    }
  }

  visitFor(node: Node, scope: Scope): void {
    const loop = this.newScope("block", node, scope);
    if (node.type === "ForStatement") {
      if (node.init) this.visit(node.init, node, loop);
      if (node.test) this.visit(node.test, node, loop);
      if (node.update) this.visit(node.update, node, loop);
    } else {
      if (node.left.type === "VariableDeclaration") this.visit(node.left, node, loop);
      else this.assignTarget(node.left, node, loop);
      this.visit(node.right, node, loop);
    }
    this.visit(node.body, node, loop);
  }

  visitCatch(node: Node, scope: Scope): void {
    const catchScope = this.newScope("block", node, scope);
    if (node.param) this.declarePattern(node.param, node, catchScope, "catch", node);
    this.visit(node.body, node, catchScope);
  }

  visitVariables(node: Node, parent: Node | undefined, scope: Scope): void {
    const kind: BindingKind = node.kind === "var" ? "var" : node.kind === "const" ? "const" : node.kind === "let" ? "let" : "using";
    const target = kind === "var" ? hoistTarget(scope) : scope;
    // A `var` with a value (or a `for (var … in/of …)` head) assigns each time it runs, redeclared or not.
    const head = parent !== undefined && (parent.type === "ForInStatement" || parent.type === "ForOfStatement") && parent.left === node;
    for (const d of node.declarations) {
      d.parent = node;
      // The names land in `target`; defaults and computed keys are read in `scope`.
      this.walkPattern(d.id, d, scope, (id) => {
        this.declare(target, id, kind, d);
        if (kind === "var" && (head || d.init)) this.reference(id, scope, true);
      });
      if (d.init) this.visit(d.init, d, scope);
    }
  }

  visitMember(node: Node, scope: Scope): void {
    this.visit(node.object, node, scope);
    if (node.computed) this.visit(node.property, node, scope);
    else {
      node.property.parent = node;
      if (node.property.type === "PrivateIdentifier") this.selfReferences.push(node.property);
    }
  }

  visitProperty(node: Node, scope: Scope): void {
    if (node.computed) this.visit(node.key, node, scope);
    else node.key.parent = node;
    if (node.shorthand) {
      node.value.parent = node;
      this.reference(node.value, scope, false);
    } else {
      this.visit(node.value, node, scope);
    }
  }

  visitImport(node: Node, scope: Scope): void {
    for (const spec of node.specifiers) {
      spec.parent = node;
      spec.local.parent = spec;
      if (node.importKind !== "type" && spec.importKind !== "type") this.declare(scope, spec.local, "import", node);
    }
  }

  visitEnum(node: Node, scope: Scope): void {
    node.id.parent = node;
    this.declare(scope, node.id, "enum", node);
    for (const m of node.body?.members ?? node.members ?? []) if (m.initializer) this.visit(m.initializer, m, scope);
  }

  visitNamespace(node: Node, scope: Scope): void {
    // `namespace A.B {}` binds `A`.
    let id = node.id;
    while (id?.type === "TSQualifiedName") id = id.left;
    if (id?.type === "Identifier") this.declare(scope, id, "namespace", node);
    if (node.body) this.visit(node.body, node, scope);
  }
}

type Handler = (b: ScopeBuilder, node: Node, scope: Scope, parent: Node | undefined) => void;
const skip: Handler = () => undefined;
const literal: Handler = (b, node) => {
  b.literals.push(node);
};
const self: Handler = (b, node) => {
  b.selfReferences.push(node);
};

/**
 * What the walk does per node type (the rest: visit the children in the
 * same scope). `selfReferences` gathers what a closure can only use inside
 * its caller: `this`, `super`, `new.target` and `#private` names.
 */
const HANDLERS: Record<string, Handler | undefined> = {
  Identifier: (b, node, scope) => b.reference(node, scope, false),
  Literal: (b, node) => {
    if (typeof node.value === "string" || node.regex) b.literals.push(node);
  },
  TemplateElement: literal,
  JSXText: literal,
  ThisExpression: self,
  Super: self,
  PrivateIdentifier: self,
  MetaProperty: (b, node) => {
    if (node.meta.name === "new") b.selfReferences.push(node);
  },
  FunctionDeclaration: (b, node, scope) => {
    if (node.id) b.declare(scope, node.id, "function", node);
    b.visitFunction(node, scope);
  },
  FunctionExpression: (b, node, scope) => b.visitFunction(node, scope),
  ArrowFunctionExpression: (b, node, scope) => b.visitFunction(node, scope),
  ClassDeclaration: (b, node, scope) => {
    if (node.id) b.declare(scope, node.id, "class", node);
    b.visitClass(node, scope);
  },
  ClassExpression: (b, node, scope) => b.visitClass(node, scope),
  BlockStatement: (b, node, scope) => b.visitBlock(node, node.body, scope),
  StaticBlock: skip, // visited by visitClass
  SwitchStatement: (b, node, scope) => b.visitSwitch(node, scope),
  ForStatement: (b, node, scope) => b.visitFor(node, scope),
  ForInStatement: (b, node, scope) => b.visitFor(node, scope),
  ForOfStatement: (b, node, scope) => b.visitFor(node, scope),
  CatchClause: (b, node, scope) => b.visitCatch(node, scope),
  VariableDeclaration: (b, node, scope, parent) => b.visitVariables(node, parent, scope),
  AssignmentExpression: (b, node, scope) => {
    b.assignTarget(node.left, node, scope);
    b.visit(node.right, node, scope);
  },
  UpdateExpression: (b, node, scope) => b.assignTarget(node.argument, node, scope),
  MemberExpression: (b, node, scope) => b.visitMember(node, scope),
  Property: (b, node, scope) => b.visitProperty(node, scope),
  LabeledStatement: (b, node, scope) => {
    node.label.parent = node;
    b.visit(node.body, node, scope);
  },
  BreakStatement: skip,
  ContinueStatement: skip,
  ExportAllDeclaration: skip,
  TSImportEqualsDeclaration: (b, node, scope) => {
    if (node.importKind !== "type") b.declare(scope, node.id, "import", node);
  },
  ImportDeclaration: (b, node, scope) => b.visitImport(node, scope),
  ExportNamedDeclaration: (b, node, scope) => {
    if (node.declaration) b.visit(node.declaration, node, scope);
    else if (!node.source) for (const spec of node.specifiers) b.visit(spec.local, spec, scope);
  },
  TSEnumDeclaration: (b, node, scope) => b.visitEnum(node, scope),
  TSModuleDeclaration: (b, node, scope) => b.visitNamespace(node, scope),
  TSModuleBlock: (b, node, scope) => b.visitBlock(node, node.body, scope),
  JSXOpeningElement: (b, node, scope) => {
    b.visitJsxName(node.name, node, scope);
    for (const attr of node.attributes) b.visit(attr, node, scope);
  },
  JSXClosingElement: skip,
  JSXAttribute: (b, node, scope) => {
    node.name.parent = node;
    if (node.value) b.visit(node.value, node, scope);
  },
};

export function analyzeScopes(program: Node): ScopeAnalysis {
  const builder = new ScopeBuilder();
  const module = builder.newScope("module", program, null);
  for (const st of program.body) builder.visit(st, program, module);
  // Child keys follow the AST's field order (a template's quasis before its
  // expressions): sort, since captures are found by binary search on position.
  builder.references.sort((a, b) => a.id.start - b.id.start);
  builder.selfReferences.sort((a, b) => a.start - b.start);
  for (const ref of builder.references) {
    ref.binding = resolve(ref);
    ref.binding?.references.push(ref);
  }
  return { module, references: builder.references, literals: builder.literals, selfReferences: builder.selfReferences };
}
