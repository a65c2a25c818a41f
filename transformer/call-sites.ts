// Finds the references to `durable` imported from durable-async, under any
// local name (`import { durable as d }`) or through a namespace import, and
// classifies each use. Identity is by checker symbol, so a local variable
// that shadows the import is not mistaken for it.
import { ts } from "ts-morph";
import type { Closure } from "./captures.js";
import { PACKAGE_NAME } from "./prefilter.js";

export type DurableKind = "async" | "run" | "cron";
const KINDS = new Set<string>(["async", "run", "cron"]);

export interface DurableCall {
  type: "call";
  kind: DurableKind;
  node: ts.CallExpression;
  /** The argument as written: the closure, possibly in parentheses. */
  argument: ts.Expression;
  closure: Closure;
  options: ts.Expression | undefined;
}

export interface DurableMisuse {
  type: "misuse";
  node: ts.Node;
  text: string;
}

export interface DurableNonLiteral {
  type: "non-literal";
  kind: DurableKind;
  node: ts.CallExpression;
  argument: ts.Node | undefined;
}

export type DurableUse = DurableCall | DurableMisuse | DurableNonLiteral;

interface Binding {
  symbol: ts.Symbol;
  /** Namespace import: `ns.durable` is the API object. */
  namespace: boolean;
}

function importBindings(sf: ts.SourceFile, checker: ts.TypeChecker): Binding[] {
  const bindings: Binding[] = [];
  for (const statement of sf.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    if (statement.moduleSpecifier.text !== PACKAGE_NAME) continue;
    const clause = statement.importClause;
    if (!clause?.namedBindings || clause.isTypeOnly) continue;
    if (ts.isNamespaceImport(clause.namedBindings)) {
      const symbol = checker.getSymbolAtLocation(clause.namedBindings.name);
      if (symbol) bindings.push({ symbol, namespace: true });
      continue;
    }
    for (const element of clause.namedBindings.elements) {
      if (element.isTypeOnly || (element.propertyName ?? element.name).text !== "durable") continue;
      const symbol = checker.getSymbolAtLocation(element.name);
      if (symbol) bindings.push({ symbol, namespace: false });
    }
  }
  return bindings;
}

function unwrapClosure(node: ts.Expression | undefined): Closure | undefined {
  let e = node;
  while (e && ts.isParenthesizedExpression(e)) e = e.expression;
  return e && (ts.isArrowFunction(e) || ts.isFunctionExpression(e)) ? e : undefined;
}

/** `durable.async`, `durable["async"]` → the method name, if it is one of ours. */
function methodName(access: ts.Node): string | undefined {
  if (ts.isPropertyAccessExpression(access)) return access.name.text;
  if (ts.isElementAccessExpression(access) && ts.isStringLiteralLike(access.argumentExpression)) return access.argumentExpression.text;
  return undefined;
}

function classify(api: ts.Expression, sf: ts.SourceFile): DurableUse | undefined {
  const access = api.parent;
  const method = methodName(access);
  if ((ts.isPropertyAccessExpression(access) || ts.isElementAccessExpression(access)) && access.expression === api) {
    if (!method || !KINDS.has(method)) return undefined;
    const call = access.parent;
    if (!ts.isCallExpression(call) || call.expression !== access) {
      return { type: "misuse", node: access, text: access.getText(sf) };
    }
    const kind = method as DurableKind;
    const fnIndex = kind === "cron" ? 1 : 0;
    const argument = call.arguments[fnIndex];
    const closure = unwrapClosure(argument);
    if (!closure || (argument && ts.isSpreadElement(argument))) return { type: "non-literal", kind, node: call, argument };
    return { type: "call", kind, node: call, argument: argument!, closure, options: call.arguments[fnIndex + 1] };
  }
  // `const { async } = durable` takes the method out of the call position.
  if (ts.isVariableDeclaration(access) && access.initializer === api && ts.isObjectBindingPattern(access.name)) {
    for (const element of access.name.elements) {
      const key = (element.propertyName ?? element.name).getText(sf);
      if (KINDS.has(key)) return { type: "misuse", node: element, text: `durable.${key}` };
    }
  }
  return undefined;
}

/** Every use of the durable API in source order. */
export function findDurableUses(sf: ts.SourceFile, checker: ts.TypeChecker): DurableUse[] {
  const bindings = importBindings(sf, checker);
  if (bindings.length === 0) return [];
  const names = new Set(bindings.map((b) => b.symbol.getName()));
  const uses: DurableUse[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isIdentifier(node) && names.has(node.text) && !ts.isImportSpecifier(node.parent) && !ts.isNamespaceImport(node.parent)) {
      const symbol = checker.getSymbolAtLocation(node);
      const binding = symbol && bindings.find((b) => b.symbol === symbol);
      if (binding) {
        let api: ts.Expression | undefined = node;
        if (binding.namespace) {
          const p = node.parent;
          api = ts.isPropertyAccessExpression(p) && p.expression === node && p.name.text === "durable" ? p : undefined;
        }
        const use = api && classify(api, sf);
        if (use) uses.push(use);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return uses;
}
