// The capture type check: the one part of the analysis that needs the
// TypeScript checker. Runs after the syntactic analysis, on the capture
// references it found, so the expensive Program is built only when a caller
// asks for types (`durable check`, `transform()`, `typeCheck: true`).
import type { Project } from "ts-morph";
import { ts } from "ts-morph";
import type { Analysis, AnalyzeOptions } from "../analyze.js";
import { makeDiagnostic, type Diagnostic } from "../diagnostics.js";
import { checkSerializable, registeredIn } from "./serializable.js";

/** Puts the analyzed text into the project (reusing an unchanged file) and returns its compiler node. */
function sourceFileFor(project: Project, analysis: Analysis): ts.SourceFile {
  const existing = project.getSourceFile(analysis.fileName);
  const sourceFile = existing && existing.getFullText() === analysis.source
    ? existing
    : project.createSourceFile(analysis.fileName, analysis.source, { overwrite: true });
  return sourceFile.compilerNode;
}

function identifierAt(sf: ts.SourceFile, offset: number): ts.Node | undefined {
  let found: ts.Node | undefined;
  const visit = (node: ts.Node): void => {
    if (offset < node.getStart(sf) || offset >= node.end) return;
    if (ts.isIdentifier(node) && node.getStart(sf) === offset) found = node;
    else ts.forEachChild(node, visit);
  };
  ts.forEachChild(sf, visit);
  return found;
}

/** Serializability diagnostics (DA2xxx errors, DA3xxx warnings) for every value capture of the analysis. */
export function checkCaptureTypes(project: Project, analysis: Analysis, options: Pick<AnalyzeOptions, "serializableClasses">): Diagnostic[] {
  if (!analysis.callSites.some((site) => site.captureReferences.length > 0)) return [];
  const sf = sourceFileFor(project, analysis);
  const checker = project.getTypeChecker().compilerObject;
  const registered = new Set(registeredIn(sf));
  for (const name of options.serializableClasses ?? []) registered.add(name);
  // Untyped JavaScript would warn on every capture; the enqueue-time check on
  // the actual values covers it.
  const isJavaScript = /\.(js|jsx|mjs|cjs)$/.test(analysis.fileName);
  const diagnostics: Diagnostic[] = [];
  for (const site of analysis.callSites) {
    for (const ref of site.captureReferences) {
      const node = identifierAt(sf, ref.offset);
      if (!node) continue;
      const { line, character } = sf.getLineAndCharacterOfPosition(ref.offset);
      const where = { file: analysis.file, line: line + 1, column: character + 1 };
      for (const problem of checkSerializable(checker.getTypeAtLocation(node), { checker, registeredClasses: registered })) {
        if (isJavaScript && problem.code.startsWith("DA3")) continue;
        const path = `captures.${ref.name}${problem.path ? `.${problem.path}` : ""}`;
        diagnostics.push(makeDiagnostic(problem.code, where, `Captured value \`${path}\` ${problem.detail}.`, ref.name));
      }
    }
  }
  return diagnostics;
}
