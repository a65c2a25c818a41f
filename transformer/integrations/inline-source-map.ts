// A source map carried inside the code it maps, as the Node hook, esbuild and
// Node's --enable-source-maps all read it.

/**
 * Split so that no line of this module's own bundled code starts with the
 * comment: tools that look for inline maps in a file (Vite, vitest's stack
 * traces) would otherwise read this code as a map and fail to parse it.
 */
const COMMENT = "//" + "# sourceMappingURL=data:application/json;charset=utf-8;base64,";

export function inlineSourceMap(map: string): string {
  return "\n" + COMMENT + Buffer.from(map).toString("base64") + "\n";
}
