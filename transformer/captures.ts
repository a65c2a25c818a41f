// Capture resolution with the checker's symbols. A name inside the closure is
// a capture when its declaration lives in an enclosing function (parameter or
// local); module bindings, imports and globals are resolved by the worker in
// the stub's own module, so they are never captured.
import { ts } from "ts-morph";

export type CaptureKind = "value" | "function" | "class";

export interface Capture {
  name: string;
  symbol: ts.Symbol;
  declaration: ts.Declaration;
  kind: CaptureKind;
  /** First reference inside the closure: where diagnostics point. */
  firstReference: ts.Identifier;
  /** References inside the closure that assign to the capture. */
  writesInside: ts.Node[];
}

export interface ForbiddenUse {
  what: "this" | "super" | "arguments";
  node: ts.Node;
}

export type Closure = ts.ArrowFunction | ts.FunctionExpression;

/** Identifier positions that name a property or label, not a binding. */
function isNonBindingName(id: ts.Identifier): boolean {
  const p = id.parent;
  if ((ts.isPropertyAccessExpression(p) || ts.isQualifiedName(p)) && (p as ts.PropertyAccessExpression).name === id) return true;
  if ((ts.isPropertyAssignment(p) || ts.isMethodDeclaration(p) || ts.isPropertyDeclaration(p) || ts.isPropertySignature(p) ||
    ts.isGetAccessor(p) || ts.isSetAccessor(p) || ts.isEnumMember(p) || ts.isMethodSignature(p)) && p.name === id) return true;
  if (ts.isBindingElement(p) && p.propertyName === id) return true;
  if (ts.isJsxAttribute(p) || ts.isLabeledStatement(p) || ts.isBreakOrContinueStatement(p) || ts.isMetaProperty(p)) return true;
  return false;
}

/** Type positions are erased: a local type referenced there is not a capture. */
function isInTypePosition(node: ts.Node, stop: ts.Node): boolean {
  for (let p = node.parent; p && p !== stop; p = p.parent) {
    if (ts.isTypeNode(p) && !ts.isExpressionWithTypeArguments(p)) return true;
    if (ts.isTypeAliasDeclaration(p) || ts.isInterfaceDeclaration(p)) return true;
  }
  return false;
}

function isFunctionLike(node: ts.Node): node is ts.SignatureDeclaration {
  return ts.isFunctionLike(node) || ts.isClassStaticBlockDeclaration(node as ts.Node);
}

/** `this`/`super`/`arguments` belong to the closure unless a non-arrow function or class intervenes. */
function ownedByClosure(node: ts.Node, closure: Closure): boolean {
  for (let p = node.parent; p && p !== closure; p = p.parent) {
    if (ts.isClassLike(p)) return false;
    if (isFunctionLike(p) && !ts.isArrowFunction(p)) return false;
  }
  return true;
}

export function isWriteReference(id: ts.Node): boolean {
  let node: ts.Node = id;
  // Walk out of destructuring assignment targets: `({ a } = x)`, `[a] = x`.
  while (
    ts.isShorthandPropertyAssignment(node.parent) || ts.isArrayLiteralExpression(node.parent) ||
    ts.isSpreadElement(node.parent) || (ts.isPropertyAssignment(node.parent) && node.parent.initializer === node) ||
    ts.isObjectLiteralExpression(node.parent) || ts.isParenthesizedExpression(node.parent)
  ) {
    node = node.parent;
  }
  const p = node.parent;
  if (ts.isBinaryExpression(p) && p.left === node) {
    const op = p.operatorToken.kind;
    return op >= ts.SyntaxKind.FirstAssignment && op <= ts.SyntaxKind.LastAssignment;
  }
  if ((ts.isPrefixUnaryExpression(p) || ts.isPostfixUnaryExpression(p)) &&
    (p.operator === ts.SyntaxKind.PlusPlusToken || p.operator === ts.SyntaxKind.MinusMinusToken)) return true;
  if ((ts.isForInStatement(p) || ts.isForOfStatement(p)) && p.initializer === node) return true;
  return false;
}

function resolveSymbol(id: ts.Identifier, checker: ts.TypeChecker): ts.Symbol | undefined {
  if (ts.isShorthandPropertyAssignment(id.parent) && id.parent.name === id) {
    return checker.getShorthandAssignmentValueSymbol(id.parent);
  }
  return checker.getSymbolAtLocation(id);
}

/** The function whose scope holds `decl`, or undefined for module scope. */
export function enclosingFunction(decl: ts.Node): ts.Node | undefined {
  // A parameter belongs to its function; a function declaration's name
  // belongs to the scope around it, so start from the parent.
  if (ts.isParameter(decl)) return decl.parent;
  for (let p: ts.Node | undefined = decl.parent; p && !ts.isSourceFile(p); p = p.parent) {
    if (isFunctionLike(p)) return p;
  }
  return undefined;
}

/**
 * Visible from the stub, which sits at the top of the module: a top-level
 * declaration, or a `var` outside any function. A `const` in a module-level
 * block or loop is not, so it is captured like a local.
 */
function isModuleScoped(decl: ts.Declaration): boolean {
  if (enclosingFunction(decl)) return false;
  let node: ts.Node = decl;
  while (ts.isBindingElement(node) || ts.isObjectBindingPattern(node) || ts.isArrayBindingPattern(node)) node = node.parent;
  if (ts.isVariableDeclaration(node) && ts.isVariableDeclarationList(node.parent)) {
    const list = node.parent;
    if (!(list.flags & ts.NodeFlags.BlockScoped)) return true;
    return ts.isVariableStatement(list.parent) && ts.isSourceFile(list.parent.parent);
  }
  return ts.isSourceFile(node.parent);
}

function captureKind(decl: ts.Declaration): CaptureKind {
  if (ts.isFunctionDeclaration(decl)) return "function";
  if (ts.isClassDeclaration(decl) || ts.isClassExpression(decl)) return "class";
  if (ts.isVariableDeclaration(decl) && decl.initializer) {
    let init = decl.initializer;
    while (ts.isParenthesizedExpression(init)) init = init.expression;
    if (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) return "function";
    if (ts.isClassExpression(init)) return "class";
  }
  return "value";
}

export interface ClosureScan {
  captures: Capture[];
  forbidden: ForbiddenUse[];
}

export function scanClosure(closure: Closure, checker: ts.TypeChecker): ClosureScan {
  const sf = closure.getSourceFile();
  const byName = new Map<ts.Symbol, Capture>();
  const forbidden: ForbiddenUse[] = [];
  const visit = (node: ts.Node): void => {
    if (node.kind === ts.SyntaxKind.ThisKeyword && ownedByClosure(node, closure)) forbidden.push({ what: "this", node });
    else if (node.kind === ts.SyntaxKind.SuperKeyword && ownedByClosure(node, closure)) forbidden.push({ what: "super", node });
    else if (ts.isIdentifier(node)) visitIdentifier(node);
    ts.forEachChild(node, visit);
  };
  const visitIdentifier = (id: ts.Identifier): void => {
    if (isNonBindingName(id) || isInTypePosition(id, closure)) return;
    const symbol = resolveSymbol(id, checker);
    if (!symbol || symbol.flags & ts.SymbolFlags.Alias) {
      if (id.text === "arguments" && ownedByClosure(id, closure)) forbidden.push({ what: "arguments", node: id });
      return;
    }
    const decl = symbol.declarations?.[0];
    if (!decl) {
      // The checker's built-in `arguments` symbol has no declaration.
      if (id.text === "arguments" && ownedByClosure(id, closure)) forbidden.push({ what: "arguments", node: id });
      return;
    }
    if (decl.getSourceFile() !== sf) return;
    if (decl.pos >= closure.pos && decl.end <= closure.end) return;
    if (!(symbol.flags & ts.SymbolFlags.Value)) return;
    if (isModuleScoped(decl)) return;
    let capture = byName.get(symbol);
    if (!capture) {
      capture = { name: id.text, symbol, declaration: decl, kind: captureKind(decl), firstReference: id, writesInside: [] };
      byName.set(symbol, capture);
    }
    if (isWriteReference(id)) capture.writesInside.push(id);
  };
  visit(closure.body);
  const captures = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { captures, forbidden };
}

const LOOP_KINDS = new Set([
  ts.SyntaxKind.ForStatement, ts.SyntaxKind.ForInStatement, ts.SyntaxKind.ForOfStatement,
  ts.SyntaxKind.WhileStatement, ts.SyntaxKind.DoStatement,
]);

function contains(outer: ts.Node, inner: ts.Node): boolean {
  return inner.pos >= outer.pos && inner.end <= outer.end;
}

/** `let`/`var` and parameters can be reassigned; `const` cannot. */
function isMutableBinding(decl: ts.Declaration): boolean {
  if (ts.isParameter(decl)) return true;
  let node: ts.Node = decl;
  while (ts.isBindingElement(node) || ts.isObjectBindingPattern(node) || ts.isArrayBindingPattern(node)) node = node.parent;
  if (ts.isParameter(node)) return true;
  if (ts.isVariableDeclaration(node) && ts.isVariableDeclarationList(node.parent)) {
    return !(node.parent.flags & ts.NodeFlags.Const) && !(node.parent.flags & ts.NodeFlags.Using);
  }
  return false;
}

/**
 * Writes to a captured `let`/`var` that the snapshot would miss: any write
 * after the call, or a write inside a loop that repeats the call when the
 * binding outlives an iteration. A `for (let …)` binding is per-iteration,
 * so the loop that declares it does not count.
 */
export function findLaterWrites(capture: Capture, call: ts.Node, closure: Closure, checker: ts.TypeChecker): ts.Node[] {
  if (!isMutableBinding(capture.declaration)) return [];
  const scope = enclosingFunction(capture.declaration);
  if (!scope) return [];
  const loops: ts.Node[] = [];
  for (let p = call.parent; p && p !== scope; p = p.parent) {
    if (LOOP_KINDS.has(p.kind) && !contains(p, capture.declaration)) loops.push(p);
  }
  const found: ts.Node[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && node.text === capture.name && !contains(closure, node) && isWriteReference(node) &&
      checker.getSymbolAtLocation(node) === capture.symbol) {
      if (node.pos >= call.end || loops.some((loop) => contains(loop, node))) found.push(node);
    }
    ts.forEachChild(node, visit);
  };
  visit(scope);
  return found;
}
