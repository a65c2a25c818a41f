// Types for the two oxc-parser modules transformer/oxc.ts loads directly
// (both are listed in oxc-parser's package exports but ship no types).
declare module "oxc-parser/src-js/wrap" {
  export function wrap(result: unknown): {
    program: unknown;
    module: any;
    comments: unknown[];
    errors: Array<{ message: string }>;
  };
}

declare module "oxc-parser/src-js/generated/visit/keys" {
  const keys: Record<string, readonly string[]>;
  export default keys;
}
