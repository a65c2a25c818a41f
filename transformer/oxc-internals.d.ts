// Types for the two oxc-parser modules transformer/oxc.ts loads directly
// (both are listed in oxc-parser's package exports but ship no types).
declare module "oxc-parser/src-js/wrap" {
  /** JSON.parse of the binding's program JSON, with BigInt and RegExp literal values restored. */
  export function jsonParseAst(programJson: string): unknown;
}

declare module "oxc-parser/src-js/generated/visit/keys" {
  const keys: Record<string, readonly string[]>;
  export default keys;
}
