// The enclosing declaration path is the human part of a task id
// (`OrderService.charge`). It is built from names only, never positions, so
// moving code or adding code above a call site does not change the id.
import { ts } from "ts-morph";

function nameText(name: ts.Node | undefined, sf: ts.SourceFile): string | undefined {
  if (!name) return undefined;
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name)) return name.text;
  if (ts.isStringLiteral(name) || ts.isNumericLiteral(name)) return name.text;
  if (ts.isComputedPropertyName(name)) {
    const e = name.expression;
    return ts.isStringLiteralLike(e) || ts.isNumericLiteral(e) ? e.text : `[${e.getText(sf)}]`;
  }
  return undefined;
}

function isDefaultExport(node: ts.Node): boolean {
  const mods = ts.canHaveModifiers(node) ? ts.getModifiers(node) : undefined;
  return !!mods?.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword);
}

function isDeclarationLike(init: ts.Expression): boolean {
  let e = init;
  while (ts.isParenthesizedExpression(e) || ts.isAsExpression(e) || ts.isSatisfiesExpression(e)) e = e.expression;
  return ts.isArrowFunction(e) || ts.isFunctionExpression(e) || ts.isClassExpression(e) || ts.isObjectLiteralExpression(e);
}

/** The name one ancestor contributes to the path, if it is a named declaration. */
export function segmentOf(node: ts.Node, sf: ts.SourceFile): string | undefined {
  switch (node.kind) {
    case ts.SyntaxKind.FunctionDeclaration:
    case ts.SyntaxKind.ClassDeclaration: {
      const decl = node as ts.FunctionDeclaration | ts.ClassDeclaration;
      return nameText(decl.name, sf) ?? (isDefaultExport(node) ? "default" : undefined);
    }
    case ts.SyntaxKind.ClassExpression:
      return nameText((node as ts.ClassExpression).name, sf);
    case ts.SyntaxKind.MethodDeclaration:
    case ts.SyntaxKind.GetAccessor:
    case ts.SyntaxKind.SetAccessor:
    case ts.SyntaxKind.PropertyDeclaration:
      return nameText((node as ts.NamedDeclaration).name, sf);
    case ts.SyntaxKind.PropertyAssignment: {
      const prop = node as ts.PropertyAssignment;
      return isDeclarationLike(prop.initializer) ? nameText(prop.name, sf) : undefined;
    }
    case ts.SyntaxKind.Constructor:
      return "constructor";
    case ts.SyntaxKind.ClassStaticBlockDeclaration:
      return "static";
    case ts.SyntaxKind.VariableDeclaration: {
      const decl = node as ts.VariableDeclaration;
      // `const job = await durable.async(...)` names a value, not a scope.
      return ts.isIdentifier(decl.name) && decl.initializer && isDeclarationLike(decl.initializer)
        ? decl.name.text
        : undefined;
    }
    case ts.SyntaxKind.ExportAssignment:
      return "default";
    default:
      return undefined;
  }
}

/**
 * Segments from the outermost declaration down to the call, stopping at
 * `boundary` (the closure of an enclosing durable call, for nested calls).
 */
export function declarationSegments(node: ts.Node, sf: ts.SourceFile, boundary?: ts.Node): string[] {
  const segments: string[] = [];
  for (let p = node.parent; p && p !== boundary && p.kind !== ts.SyntaxKind.SourceFile; p = p.parent) {
    const segment = segmentOf(p, sf);
    if (segment !== undefined) segments.unshift(segment);
  }
  return segments;
}
