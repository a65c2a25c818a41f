// The scope model the analysis reads: scopes, bindings, references, and the
// lookups over them. scopes.ts builds it from the AST.
import type { Node } from "./syntax.js";

export type ScopeKind = "module" | "function" | "block" | "class";

export interface Scope {
  kind: ScopeKind;
  node: Node;
  parent: Scope | null;
  bindings: Map<string, Binding>;
}

export type BindingKind = "var" | "let" | "const" | "using" | "param" | "function" | "class" | "import" | "catch" | "enum" | "namespace";

export interface Binding {
  name: string;
  kind: BindingKind;
  /** The declaring identifier. */
  id: Node;
  /** The declaration: VariableDeclarator, FunctionDeclaration, ClassDeclaration/Expression, the function for a parameter… */
  declaration: Node;
  scope: Scope;
  references: Reference[];
}

export interface Reference {
  id: Node;
  name: string;
  /** Assigned to (`=`, compound assignment, `++`, destructuring or for-in/of target). */
  write: boolean;
  scope: Scope;
  binding: Binding | null;
}

export interface ScopeAnalysis {
  module: Scope;
  /** Every value reference in source order. */
  references: Reference[];
  /** Literal nodes whose text is significant (strings, regexes, template parts, JSX text), in source order. */
  literals: Node[];
  /** `this`, `super`, `new.target` and `#private` names in source order (closures may not use their caller's). */
  selfReferences: Node[];
}

const LOOPS = new Set(["ForStatement", "ForInStatement", "ForOfStatement", "WhileStatement", "DoWhileStatement"]);
export function isLoop(node: Node): boolean {
  return LOOPS.has(node.type);
}

/** The nearest function (or module) scope: where `var` lands. */
export function hoistTarget(scope: Scope): Scope {
  let s = scope;
  while (s.kind === "block" || s.kind === "class") s = s.parent!;
  return s;
}

/** The binding a reference names: the innermost scope that declares it. */
export function resolve(ref: Reference): Binding | null {
  for (let s: Scope | null = ref.scope; s; s = s.parent) {
    const binding = s.bindings.get(ref.name);
    if (binding) return binding;
  }
  return null;
}

/** The nearest function or module scope around a binding: where it lives at run time. */
export function functionScopeOf(binding: Binding): Scope {
  return hoistTarget(binding.scope);
}
