// Static serializability check of a capture's type. superjson silently turns
// functions and class instances into plain objects; catching that at build
// time is the point. The runtime repeats the check on the actual values.
import { ts } from "ts-morph";
import type { DiagnosticCode } from "../diagnostics.js";

export interface SerializabilityProblem {
  code: DiagnosticCode;
  /** Path below the capture, e.g. `session.socket` (empty for the capture itself). */
  path: string;
  detail: string;
}

/** Types superjson round-trips itself (plus plain JSON). */
const SUPERJSON_TYPES = new Set([
  "Date", "RegExp", "Map", "Set", "URL", "Error", "TypeError", "RangeError", "SyntaxError", "EvalError", "ReferenceError", "URIError",
  "Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array", "Uint32Array",
  "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array", "ArrayBuffer", "SharedArrayBuffer",
  "String", "Number", "Boolean", "BigInt",
]);

/** Containers whose type arguments are the serialized contents. */
const CONTAINERS = new Set(["Map", "Set", "ReadonlyMap", "ReadonlySet", "Array", "ReadonlyArray"]);

const PROCESS_BOUND: Record<string, DiagnosticCode> = {
  Promise: "DA2003", PromiseLike: "DA2003",
  WeakMap: "DA2006", WeakSet: "DA2006", WeakRef: "DA2006",
  Readable: "DA2005", Writable: "DA2005", Duplex: "DA2005", Transform: "DA2005", PassThrough: "DA2005", Stream: "DA2005",
  ReadableStream: "DA2005", WritableStream: "DA2005", TransformStream: "DA2005", Socket: "DA2005", Server: "DA2005",
  EventEmitter: "DA2005", ChildProcess: "DA2005", WebSocket: "DA2005", ReadStream: "DA2005", WriteStream: "DA2005",
  FileHandle: "DA2005", AbortSignal: "DA2005", AbortController: "DA2005",
};

export interface CheckContext {
  checker: ts.TypeChecker;
  /** Class names known to be registered with superjson. */
  registeredClasses: ReadonlySet<string>;
}

/**
 * How deep the check follows properties and elements. Recursive types stop
 * at the first repeat; a type still deeper than this (a generic that nests a
 * new type at every level) is reported as unchecked, not passed.
 */
const MAX_DEPTH = 24;

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Names of the type's class and every base class, nearest first. */
function classChain(type: ts.Type, checker: ts.TypeChecker): string[] {
  const names: string[] = [];
  let current: ts.Type | undefined = type;
  for (let i = 0; current && i < 10; i++) {
    const sym = current.getSymbol();
    if (sym) names.push(sym.getName());
    const bases: ts.BaseType[] = current.isClassOrInterface() ? checker.getBaseTypes(current) : [];
    current = bases[0];
  }
  return names;
}

type Visit = (t: ts.Type, path: string, depth: number) => void;

/** Primitives, `any`/`unknown`/symbols (reported): the types whose check ends at the type itself. */
function leafProblem(flags: ts.TypeFlags, path: string): SerializabilityProblem | null | undefined {
  if (flags & ts.TypeFlags.Any) return { code: "DA3001", path, detail: "has type `any`" };
  if (flags & ts.TypeFlags.Unknown) return { code: "DA3002", path, detail: "has type `unknown`" };
  if (flags & (ts.TypeFlags.ESSymbol | ts.TypeFlags.UniqueESSymbol)) return { code: "DA2004", path, detail: "is a symbol" };
  if (flags & (ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BigIntLike | ts.TypeFlags.BooleanLike |
    ts.TypeFlags.EnumLike | ts.TypeFlags.Null | ts.TypeFlags.Undefined | ts.TypeFlags.Void | ts.TypeFlags.Never)) return null;
  return undefined;
}

/** Functions (`Function` itself too, which has no call signature), and what only exists in this process. */
function processBoundProblem(t: ts.Type, chain: readonly string[], path: string, checker: ts.TypeChecker): SerializabilityProblem | undefined {
  for (const name of chain) {
    const code = PROCESS_BOUND[name];
    if (code) return { code, path, detail: `is a ${name}, which only exists in this process` };
  }
  if (chain[0] === "Function" || chain[0] === "CallableFunction" || chain[0] === "NewableFunction" ||
    checker.getSignaturesOfType(t, ts.SignatureKind.Call).length > 0 || checker.getSignaturesOfType(t, ts.SignatureKind.Construct).length > 0) {
    return { code: "DA2001", path, detail: "is a function" };
  }
  return undefined;
}

/**
 * A class instance round-trips only when its own class is registered:
 * superjson looks up the instance's constructor, so a subclass of a
 * registered class arrives as a plain object.
 */
function classProblem(sym: ts.Symbol, ctx: CheckContext, path: string): SerializabilityProblem | undefined {
  const name = sym.getName();
  // Registration usually sits next to the class, in its own module.
  const declaredIn = sym.declarations?.[0]?.getSourceFile();
  if (ctx.registeredClasses.has(name) || (declaredIn && registeredIn(declaredIn).has(name))) return undefined;
  return { code: "DA2007", path, detail: `is an instance of class ${name}, which is not registered with superjson` };
}

/** Containers, arrays and tuples: their elements. Returns false for any other type. */
function visitElements(t: ts.Type, symbolName: string | undefined, path: string, depth: number, checker: ts.TypeChecker, visit: Visit): boolean {
  const isContainer = (symbolName !== undefined && CONTAINERS.has(symbolName)) || checker.isArrayType(t) || checker.isTupleType(t);
  if (!isContainer) return false;
  for (const arg of checker.getTypeArguments(t as ts.TypeReference) ?? []) visit(arg, join(path, "[]"), depth + 1);
  return true;
}

/** An object type: its properties (a method is a problem) and its index signatures (`Record<string, T>`). */
function visitMembers(t: ts.Type, path: string, depth: number, checker: ts.TypeChecker, visit: Visit): SerializabilityProblem | undefined {
  for (const prop of t.getProperties()) {
    const decl = prop.valueDeclaration ?? prop.declarations?.[0];
    if (decl && (ts.isMethodDeclaration(decl) || ts.isMethodSignature(decl) || ts.isGetAccessor(decl))) {
      return { code: "DA2002", path: join(path, prop.getName()), detail: "is a method" };
    }
    if (!decl) continue;
    visit(checker.getTypeOfSymbolAtLocation(prop, decl), join(path, prop.getName()), depth + 1);
  }
  for (const info of checker.getIndexInfosOfType(t)) visit(info.type, join(path, "[key]"), depth + 1);
  return undefined;
}

export function checkSerializable(type: ts.Type, ctx: CheckContext): SerializabilityProblem[] {
  const problems: SerializabilityProblem[] = [];
  const seen = new Set<ts.Type>();
  const report = (problem: SerializabilityProblem | undefined): void => void (problem && problems.push(problem));
  const visit: Visit = (t, path, depth) => {
    if (problems.length > 0 || seen.has(t)) return;
    const leaf = leafProblem(t.getFlags(), path);
    if (leaf !== undefined) return report(leaf ?? undefined);
    if (depth > MAX_DEPTH) return report({ code: "DA3004", path, detail: `is nested more than ${MAX_DEPTH} levels deep, past what the build checks` });
    seen.add(t);
    if (t.isUnion() || t.isIntersection()) return t.types.forEach((member) => visit(member, path, depth));
    if (t.getFlags() & ts.TypeFlags.TypeParameter) {
      const constraint = ctx.checker.getBaseConstraintOfType(t);
      return constraint ? visit(constraint, path, depth) : undefined;
    }
    const symbolName = (t.aliasSymbol ?? t.getSymbol())?.getName();
    const chain = classChain(t, ctx.checker);
    const bound = processBoundProblem(t, chain, path, ctx.checker);
    if (bound) return report(bound);
    // Map and Set are superjson's own, but their contents must round-trip too.
    if (visitElements(t, symbolName, path, depth, ctx.checker, visit)) return;
    if (symbolName && SUPERJSON_TYPES.has(symbolName)) return;
    const sym = t.getSymbol();
    if (sym && sym.flags & ts.SymbolFlags.Class) return report(classProblem(sym, ctx, path));
    report(visitMembers(t, path, depth, ctx.checker, visit));
  };
  visit(type, "", 0);
  return problems;
}

const registeredByFile = new WeakMap<ts.SourceFile, Set<string>>();

/** The classes a file registers with superjson: `registerClass(Foo)` calls in its code (never in comments or strings). */
export function registeredIn(sf: ts.SourceFile): Set<string> {
  let names = registeredByFile.get(sf);
  if (names) return names;
  names = new Set<string>();
  registeredByFile.set(sf, names);
  if (!sf.text.includes("registerClass")) return names;
  const found = names;
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isIdentifier(callee) ? callee.text : ts.isPropertyAccessExpression(callee) ? callee.name.text : "";
      const arg = node.arguments[0];
      if (name === "registerClass" && arg && ts.isIdentifier(arg)) found.add(arg.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return names;
}
