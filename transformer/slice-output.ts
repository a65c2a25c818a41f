// Writes a module's worker-side slice (slice.ts decides what it keeps): the
// kept statements in source order, copied from the original text and mapped
// token by token like the module's own rewrite, with the stubs registered
// through the runtime's slice helper, whose stubs yield to the module's own
// when a process loads both.
import type { Analysis } from "./analyze.js";
import { SLICE_TASK_HELPER_EXPORT } from "../src/contract/index.js";
import { finishOutput, newOutput, StubWriter, type RewriteOptions, type SourceMapV3 } from "./rewrite.js";
import type { Unit } from "./slice-units.js";
import type { Node } from "./syntax.js";

export interface SliceOutput {
  code: string;
  map: SourceMapV3 | null;
}

/** Kept units grouped by their top-level statement, in source order. */
function byStatement(units: readonly Unit[]): Unit[][] {
  const groups: Unit[][] = [];
  for (const u of units) {
    const last = groups[groups.length - 1];
    if (last && last[0]!.statement === u.statement) last.push(u);
    else groups.push([u]);
  }
  return groups;
}

class SliceWriter {
  constructor(private readonly source: string, private readonly writer: StubWriter) {}

  /** Copies a piece and ends it as a statement: a `;` where the copy has none, so the next piece cannot continue it. */
  private piece(node: Node, needsSemicolon: boolean): void {
    this.writer.copy(node.start, node.end);
    const last = this.source.slice(node.start, node.end).trimEnd().at(-1);
    this.writer.out.insert(needsSemicolon && last !== ";" ? ";\n" : "\n");
  }

  group(units: Unit[]): void {
    const first = units[0]!;
    switch (first.kind) {
      case "import":
        return this.imports(first.statement, units);
      case "declarator":
        return this.declarators(units);
      case "function": case "class": case "enum": case "namespace":
        return this.piece(first.node, false);
      case "statement":
        if (first.statement.type === "ExportDefaultDeclaration") {
          // `export default <expression>` loses its `export`: parenthesized, it stays an expression.
          this.writer.out.insert("(");
          this.writer.copy(first.node.start, first.node.end);
          return this.writer.out.insert(");\n");
        }
        return this.piece(first.node, true);
      default:
        return this.piece(first.node, true);
    }
  }

  /** `import a, { b as c } from "m"`, keeping only the kept specifiers (whole when every value specifier is kept). */
  private imports(statement: Node, kept: Unit[]): void {
    const values = statement.specifiers.filter((s: Node) => s.importKind !== "type");
    if (kept.length === values.length) return this.piece(statement, true);
    const { out } = this.writer;
    const named = kept.filter((u) => u.node.type === "ImportSpecifier");
    const leading = kept.filter((u) => u.node.type !== "ImportSpecifier");
    out.insert("import ");
    leading.forEach((u, i) => {
      if (i > 0) out.insert(", ");
      this.writer.copy(u.node.start, u.node.end);
    });
    if (named.length > 0) {
      out.insert(leading.length > 0 ? ", { " : "{ ");
      named.forEach((u, i) => {
        if (i > 0) out.insert(", ");
        this.writer.copy(u.node.start, u.node.end);
      });
      out.insert(" }");
    }
    out.insert(" from ");
    this.piece({ ...statement.source, end: statement.end }, true);
  }

  /** `const a = 1, b = f()`: the kept declarators under the declaration's own keyword. */
  private declarators(kept: Unit[]): void {
    const declaration = kept[0]!.node.parent!;
    const whole = kept.length === declaration.declarations.length && kept[0]!.statement === declaration;
    if (whole) return this.piece(declaration, true);
    this.writer.out.insert(this.source.slice(declaration.start, declaration.declarations[0].start));
    kept.forEach((u, i) => {
      if (i > 0) this.writer.out.insert(", ");
      this.writer.copy(u.node.start, u.node.end);
    });
    this.writer.out.insert(";\n");
  }
}

/** The slice's code and map; null when the module is its own slice (or has no call sites). */
export function rewriteSlice(source: string, analysis: Analysis, options: RewriteOptions = {}): SliceOutput | null {
  const plan = analysis.slice;
  if (!plan || plan.mode === "module") return null;
  const out = newOutput(source, options);
  const writer = new StubWriter(out, analysis.callSites);
  const slice = new SliceWriter(source, writer);
  // A shebang, a `/** @jsx h */` pragma, a license: what stands above the first statement.
  writer.copy(0, plan.firstStatement);
  let stubsWritten = false;
  for (const group of byStatement(plan.units)) {
    // The stubs stand where the module's own do: after the imports that open it.
    if (!stubsWritten && group[0]!.statement.start >= analysis.stubInsert) {
      writer.stubs(analysis, SLICE_TASK_HELPER_EXPORT, options.runtimeModule);
      stubsWritten = true;
    }
    slice.group(group);
  }
  if (!stubsWritten) writer.stubs(analysis, SLICE_TASK_HELPER_EXPORT, options.runtimeModule);
  return finishOutput(out, source, analysis, options);
}
