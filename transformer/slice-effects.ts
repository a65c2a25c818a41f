// What running a piece of a module's top level does, as far as a worker-side
// slice cares: whether an initializer has effects (a call, an `await`, an
// assignment), whether code runs while the module loads (not inside a
// function that nobody calls then), and whether it changes a binding.
import type { Reference } from "./scope-model.js";
import { isFunctionNode, unwrapParens, type Node } from "./syntax.js";

/** Calls of built-ins that have no effect beyond their result (as bundlers treat them). */
const PURE_CALLS = new Set([
  "Symbol", "Symbol.for", "String", "Number", "Boolean", "BigInt", "parseInt", "parseFloat", "isNaN", "isFinite",
  "Object.freeze", "Object.keys", "Object.values", "Object.entries", "Object.fromEntries", "Object.create", "Object.getPrototypeOf",
  "Array.from", "Array.of", "Array.isArray", "JSON.parse", "JSON.stringify", "structuredClone", "encodeURIComponent", "decodeURIComponent",
]);
const PURE_CONSTRUCTORS = new Set([
  "Map", "Set", "WeakMap", "WeakSet", "WeakRef", "Date", "RegExp", "Error", "TypeError", "RangeError", "SyntaxError", "URL",
  "URLSearchParams", "Array", "Object", "TextEncoder", "TextDecoder", "AbortController", "Intl.NumberFormat", "Intl.DateTimeFormat",
  "Intl.Collator", "Intl.PluralRules", "Intl.RelativeTimeFormat", "Intl.ListFormat", "Intl.Segmenter",
]);
/** Built-ins that change their first argument. */
const MUTATING_CALLS = new Set([
  "Object.assign", "Object.defineProperty", "Object.defineProperties", "Object.setPrototypeOf",
  "Reflect.set", "Reflect.defineProperty", "Reflect.deleteProperty", "Reflect.setPrototypeOf",
]);
/** Expression wrappers that change nothing at run time. */
const TRANSPARENT = new Set(["ParenthesizedExpression", "TSAsExpression", "TSSatisfiesExpression", "TSNonNullExpression", "TSTypeAssertion", "ChainExpression"]);

/** `Object.freeze`, `Symbol`: the dotted name of a callee made of identifiers only. */
export function dottedName(node: Node | undefined): string | undefined {
  const n = unwrapParens(node);
  if (!n) return undefined;
  if (n.type === "Identifier") return n.name;
  if (n.type === "MemberExpression" && !n.computed) {
    const object = dottedName(n.object);
    return object && `${object}.${n.property.name}`;
  }
  return undefined;
}

const PURE_ANNOTATION = /\/\*\s*[#@]__PURE__\s*\*\/\s*$/;

function isPureCall(call: Node, source: string): boolean {
  if (PURE_ANNOTATION.test(source.slice(Math.max(0, call.start - 40), call.start))) return true;
  const name = dottedName(call.callee);
  const known = call.type === "NewExpression" ? PURE_CONSTRUCTORS : PURE_CALLS;
  return name !== undefined && (known.has(name) || (call.type === "CallExpression" && name.startsWith("Math.")));
}

/**
 * Whether evaluating `node` can do more than produce a value: calls (other
 * than pure built-ins and `/* @__PURE__ *\/` ones), `new`, `await`, `import()`,
 * assignments, `delete`, tagged templates, and classes whose definition runs
 * code (decorators, static blocks and static fields with effects). Property
 * reads count as pure, as bundlers assume; function bodies are not run.
 */
export function hasEffects(node: Node | null | undefined, source: string, decorators = true): boolean {
  if (!node) return false;
  switch (node.type) {
    case "Literal": case "Identifier": case "ThisExpression": case "Super": case "MetaProperty":
    case "ArrowFunctionExpression": case "FunctionExpression": case "FunctionDeclaration": case "TemplateElement":
    case "JSXElement": case "JSXFragment": case "PrivateIdentifier":
      return false;
    case "CallExpression": case "NewExpression":
      return !isPureCall(node, source) || node.arguments.some((a: Node) => hasEffects(a, source));
    case "AwaitExpression": case "ImportExpression": case "AssignmentExpression": case "UpdateExpression":
    case "TaggedTemplateExpression": case "YieldExpression":
      return true;
    case "UnaryExpression":
      return node.operator === "delete" || hasEffects(node.argument, source);
    case "ClassDeclaration": case "ClassExpression":
      return classHasEffects(node, source, decorators);
    case "Property":
      return (node.computed && hasEffects(node.key, source)) || hasEffects(node.value, source);
    default:
      return someChild(node, (child) => hasEffects(child, source));
  }
}

/** Decorators are calls, so a decorated class is not effect-free; `decorators: false` overlooks them (they declare, by convention). */
function classHasEffects(cls: Node, source: string, decorators: boolean): boolean {
  if ((decorators && cls.decorators?.length) || hasEffects(cls.superClass, source)) return true;
  for (const member of cls.body.body) {
    if ((decorators && member.decorators?.length) || (member.computed && hasEffects(member.key, source))) return true;
    if (member.type === "StaticBlock" && member.body.length > 0) return true;
    if (member.static && (member.type === "PropertyDefinition" || member.type === "AccessorProperty") && hasEffects(member.value, source)) return true;
  }
  return false;
}

function someChild(node: Node, test: (child: Node) => boolean): boolean {
  for (const key of Object.keys(node)) {
    if (key === "parent" || key === "typeAnnotation" || key === "returnType" || key === "typeArguments" || key === "typeParameters") continue;
    const value = node[key];
    if (Array.isArray(value)) {
      for (const item of value) if (item && typeof item.type === "string" && test(item)) return true;
    } else if (value && typeof value === "object" && typeof value.type === "string" && test(value)) {
      return true;
    }
  }
  return false;
}

/** `(() => …)()`, `(function () { … }).call(this)`: a function run where it stands. */
function isImmediatelyInvoked(fn: Node): boolean {
  let e = fn;
  while (e.parent?.type === "ParenthesizedExpression") e = e.parent;
  const p = e.parent;
  if (!p) return false;
  if ((p.type === "CallExpression" || p.type === "NewExpression") && p.callee === e) return true;
  return p.type === "MemberExpression" && p.object === e && !p.computed && (p.property.name === "call" || p.property.name === "apply")
    && p.parent?.type === "CallExpression" && p.parent.callee === p;
}

/** Whether `node` runs while the module loads: inside `top`, and not in a function (other than one called on the spot) or an instance field. */
export function runsAtLoad(node: Node, top: Node): boolean {
  for (let p = node, parent = node.parent; p !== top && parent; p = parent, parent = parent.parent) {
    if (isFunctionNode(parent) && p !== parent.id && !isImmediatelyInvoked(parent)) return false;
    if ((parent.type === "PropertyDefinition" || parent.type === "AccessorProperty") && parent.value === p && !parent.static) return false;
  }
  return true;
}

const PATTERN_PARENTS = new Set(["ArrayPattern", "RestElement", "ArrayExpression", "SpreadElement"]);

/** An assignment target position: `x.a = …`, `[x.a] = …`, `({ k: x.a } = …)`, `for (x.a of …)`, `x.a++`, `delete x.a`. */
function isTarget(node: Node): boolean {
  const p = node.parent;
  if (!p) return false;
  if (p.type === "AssignmentExpression" || p.type === "AssignmentPattern") return p.left === node;
  if (p.type === "UpdateExpression") return true;
  if (p.type === "UnaryExpression") return p.operator === "delete";
  if (p.type === "ForInStatement" || p.type === "ForOfStatement") return p.left === node;
  if (p.type === "Property") return p.value === node && p.parent?.type === "ObjectPattern";
  return PATTERN_PARENTS.has(p.type) && isTarget(p);
}

export type Mutation = "write" | "member" | "builtin" | "call";

/** Methods of the built-in collections and strings that only read. */
const READ_METHODS = new Set([
  "get", "has", "includes", "indexOf", "lastIndexOf", "find", "findIndex", "findLast", "findLastIndex", "some", "every", "map",
  "filter", "reduce", "reduceRight", "slice", "at", "join", "keys", "values", "entries", "forEach", "toString", "toJSON",
  "toLocaleString", "concat", "flat", "flatMap", "valueOf", "charAt", "charCodeAt", "codePointAt", "startsWith", "endsWith",
  "trim", "trimStart", "trimEnd", "split", "padStart", "padEnd", "toUpperCase", "toLowerCase", "localeCompare", "normalize",
  "repeat", "replace", "replaceAll", "substring", "toFixed", "toISOString", "getTime", "toSorted", "toReversed", "with",
]);

/** The method name of a callee `x.a.name` (non-computed), or "". */
function methodOf(callee: Node): string {
  let c = callee;
  while (TRANSPARENT.has(c.type)) c = c.expression;
  return c.type === "MemberExpression" && !c.computed ? c.property.name : "";
}

/**
 * Whether a reference hands its value on (an argument, an alias, an element of
 * a literal): whatever receives it could change it, where a statement reading
 * a property of it could not.
 */
export function escapes(ref: Reference): boolean {
  let node = ref.id;
  while (node.parent && TRANSPARENT.has(node.parent.type)) node = node.parent;
  const p = node.parent;
  if (!p) return false;
  switch (p.type) {
    case "CallExpression": case "NewExpression":
      return p.callee !== node;
    case "VariableDeclarator":
      return p.init === node;
    case "AssignmentExpression":
      return p.right === node;
    case "Property":
      return p.value === node && p.parent?.type === "ObjectExpression";
    case "ArrayExpression": case "SpreadElement": case "ReturnStatement":
      return true;
    default:
      return false;
  }
}

/**
 * How a reference changes its binding, if it does: assigned (`x = …`), a
 * member written or a method called (`x.a = …`, `x.set(…)`, `x.a.push(…)`),
 * passed to a built-in that changes it (`Object.assign(x, …)`), or called
 * (`setup()`: the caller then asks what that function changes).
 */
export function mutationOf(ref: Reference): Mutation | undefined {
  if (ref.write) return "write";
  let node = ref.id;
  let member = false;
  while (node.parent && ((node.parent.type === "MemberExpression" && node.parent.object === node) || TRANSPARENT.has(node.parent.type))) {
    member ||= node.parent.type === "MemberExpression";
    node = node.parent;
  }
  const p = node.parent;
  if (member && (isTarget(node) || (p?.type === "CallExpression" && p.callee === node && !READ_METHODS.has(methodOf(node))))) return "member";
  if (p?.type === "CallExpression" && p.arguments[0] === node && MUTATING_CALLS.has(dottedName(p.callee) ?? "")) return "builtin";
  if (!member && (p?.type === "CallExpression" || p?.type === "NewExpression") && p.callee === node) return "call";
  return undefined;
}

/** A `const` holding a primitive literal: nothing a top-level statement does can change what a closure reads from it. */
export function isFrozenPrimitive(declarator: Node | undefined, kind: string): boolean {
  if (kind !== "const" || declarator?.type !== "VariableDeclarator") return false;
  const init = unwrapParens(declarator.init);
  if (!init) return false;
  if (init.type === "Literal") return true;
  if (init.type === "TemplateLiteral") return init.expressions.length === 0;
  return init.type === "UnaryExpression" && unwrapParens(init.argument)?.type === "Literal";
}
