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

const MAX_DEPTH = 6;

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

export function checkSerializable(type: ts.Type, ctx: CheckContext): SerializabilityProblem[] {
  const problems: SerializabilityProblem[] = [];
  const seen = new Set<ts.Type>();
  const visit = (t: ts.Type, path: string, depth: number): void => {
    if (problems.length > 0 || depth > MAX_DEPTH || seen.has(t)) return;
    const flags = t.getFlags();
    if (flags & ts.TypeFlags.Any) return void problems.push({ code: "DA3001", path, detail: "has type `any`" });
    if (flags & ts.TypeFlags.Unknown) return void problems.push({ code: "DA3002", path, detail: "has type `unknown`" });
    if (flags & (ts.TypeFlags.ESSymbol | ts.TypeFlags.UniqueESSymbol)) return void problems.push({ code: "DA2004", path, detail: "is a symbol" });
    if (flags & (ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BigIntLike | ts.TypeFlags.BooleanLike |
      ts.TypeFlags.EnumLike | ts.TypeFlags.Null | ts.TypeFlags.Undefined | ts.TypeFlags.Void | ts.TypeFlags.Never)) return;
    seen.add(t);
    if (t.isUnion() || t.isIntersection()) {
      for (const member of t.types) visit(member, path, depth);
      return;
    }
    if (flags & ts.TypeFlags.TypeParameter) {
      const constraint = ctx.checker.getBaseConstraintOfType(t);
      if (constraint) visit(constraint, path, depth);
      return;
    }
    const symbolName = (t.aliasSymbol ?? t.getSymbol())?.getName();
    const chain = classChain(t, ctx.checker);
    for (const name of chain) {
      const code = PROCESS_BOUND[name];
      if (code) return void problems.push({ code, path, detail: `is a ${name}, which only exists in this process` });
    }
    if (ctx.checker.getSignaturesOfType(t, ts.SignatureKind.Call).length > 0 ||
      ctx.checker.getSignaturesOfType(t, ts.SignatureKind.Construct).length > 0) {
      return void problems.push({ code: "DA2001", path, detail: "is a function" });
    }
    if (symbolName && SUPERJSON_TYPES.has(symbolName)) return;
    if (symbolName && CONTAINERS.has(symbolName)) {
      for (const arg of ctx.checker.getTypeArguments(t as ts.TypeReference) ?? []) visit(arg, join(path, "[]"), depth + 1);
      return;
    }
    if (ctx.checker.isArrayType(t) || ctx.checker.isTupleType(t)) {
      for (const arg of ctx.checker.getTypeArguments(t as ts.TypeReference)) visit(arg, join(path, "[]"), depth + 1);
      return;
    }
    const sym = t.getSymbol();
    if (sym && sym.flags & ts.SymbolFlags.Class) {
      // Registration usually sits next to the class, in its own module.
      const declaredIn = sym.declarations?.[0]?.getSourceFile();
      const nearby = declaredIn ? registeredIn(declaredIn) : new Set<string>();
      if (!chain.some((name) => ctx.registeredClasses.has(name) || nearby.has(name))) {
        return void problems.push({ code: "DA2007", path, detail: `is an instance of class ${sym.getName()}, which is not registered with superjson` });
      }
      return;
    }
    for (const prop of t.getProperties()) {
      const decl = prop.valueDeclaration ?? prop.declarations?.[0];
      if (decl && (ts.isMethodDeclaration(decl) || ts.isMethodSignature(decl) || ts.isGetAccessor(decl))) {
        return void problems.push({ code: "DA2002", path: join(path, prop.getName()), detail: "is a method" });
      }
      if (!decl) continue;
      visit(ctx.checker.getTypeOfSymbolAtLocation(prop, decl), join(path, prop.getName()), depth + 1);
    }
  };
  visit(type, "", 0);
  return problems;
}

const registeredByFile = new WeakMap<ts.SourceFile, Set<string>>();

function registeredIn(sf: ts.SourceFile): Set<string> {
  let names = registeredByFile.get(sf);
  if (!names) registeredByFile.set(sf, (names = registeredClassNames([sf.text])));
  return names;
}

/** `SuperJSON.registerClass(Foo)` / `registerClass(Foo, …)` in the given texts. */
export function registeredClassNames(texts: Iterable<string>): Set<string> {
  const names = new Set<string>();
  const pattern = /registerClass\s*\(\s*([A-Za-z_$][\w$]*)/g;
  for (const text of texts) {
    for (const match of text.matchAll(pattern)) names.add(match[1]!);
  }
  return names;
}
