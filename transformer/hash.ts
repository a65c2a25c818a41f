// Body hash: lets the runtime notice that a job was enqueued by a different
// version of a closure. It must ignore formatting and comments (a reformat is
// not a change) and must not see positions (moving code is not a change).
import { createHash } from "node:crypto";
import { ts } from "ts-morph";

/** The closure's tokens joined by one space: trivia and JSDoc dropped. */
export function normalizedTokens(node: ts.Node, sourceFile: ts.SourceFile): string {
  const tokens: string[] = [];
  const visit = (n: ts.Node): void => {
    if (n.kind >= ts.SyntaxKind.FirstJSDocNode && n.kind <= ts.SyntaxKind.LastJSDocNode) return;
    const children = n.getChildren(sourceFile);
    if (children.length === 0) {
      const text = n.getText(sourceFile);
      if (text.length > 0) tokens.push(text);
      return;
    }
    for (const child of children) visit(child);
  };
  visit(node);
  return tokens.join(" ");
}

export function bodyHash(normalizedCode: string, captures: readonly string[]): string {
  return createHash("sha256").update(`${normalizedCode}\0${captures.join(",")}`).digest("hex").slice(0, 16);
}
