// A source map carried inside the code it maps, as the Node hook, esbuild and
// Node's --enable-source-maps all read it.
export function inlineSourceMap(map: string): string {
  return `\n//# sourceMappingURL=data:application/json;charset=utf-8;base64,${Buffer.from(map).toString("base64")}\n`;
}
