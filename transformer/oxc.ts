// oxc-parser, loaded the short way. Its entry point finds the native binding
// by probing (a require that fails and builds a stack trace, a libc check that
// reads /usr/bin/ldd) and loads modules the analysis never uses: import and
// first parse take 16 ms that way against 9 ms here, paid on every cold build
// (bench/transform/oxc-load.mjs). Here the binding oxc-parser itself would
// pick is required directly, resolved from oxc-parser's own directory and only
// when its version is oxc-parser's, and read with two of oxc-parser's own
// modules (its AST JSON reader and visitor keys, which its package exports
// list but does not document). Any other case (another platform, an odd
// install, another oxc-parser release than the helpers bundled with the
// integrations) falls back to oxc-parser's entry point. test/transformer/
// oxc.test.ts pins the release these internals were checked against.
import { createRequire } from "node:module";
import { jsonParseAst } from "oxc-parser/src-js/wrap";
import keys from "oxc-parser/src-js/generated/visit/keys";

/** A parse error; its first label is where it is (UTF-16 offsets, as the AST's). */
export interface OxcError {
  message: string;
  severity?: string;
  labels?: Array<{ start: number; end: number }>;
}

/** The parts of oxc's result the analysis reads (never its module record: see syntax.ts). */
export interface OxcParseResult {
  program: unknown;
  comments: unknown[];
  errors: OxcError[];
}

/**
 * Set by scripts/bundle-integrations.mjs to the oxc-parser version whose
 * `wrap` and visitor keys it bundled; unset when this file runs from source.
 */
declare const OXC_HELPERS_VERSION: string | undefined;

type ParseSync = (fileName: string, source: string, options: Record<string, unknown>) => OxcParseResult;

/** Package-name suffixes of oxc's prebuilt bindings, most likely first. */
function bindingSuffixes(): string[] {
  if (process.platform === "linux") return ["-gnu", "-musl"];
  if (process.platform === "win32") return ["-msvc"];
  if (process.platform === "darwin") return [""];
  return [];
}

/** oxc-parser's binding for this platform, when it can be required directly (exported for tests). */
export function directBinding(): { parseSync: (...args: unknown[]) => unknown } | undefined {
  let fromOxc: NodeJS.Require;
  let version: string;
  try {
    fromOxc = createRequire(createRequire(import.meta.url).resolve("oxc-parser"));
    version = fromOxc("../package.json").version;
  } catch {
    return undefined;
  }
  // The bundled helpers must read this binding's JSON: same release, or oxc-parser's own entry.
  if (typeof OXC_HELPERS_VERSION === "string" && OXC_HELPERS_VERSION !== version) return undefined;
  for (const suffix of bindingSuffixes()) {
    const name = `@oxc-parser/binding-${process.platform}-${process.arch}${suffix}`;
    try {
      if (fromOxc(`${name}/package.json`).version !== version) continue;
      const binding = fromOxc(name);
      if (typeof binding?.parseSync === "function") return binding;
    } catch {
      // Not installed, or built for another libc: try the next one.
    }
  }
  return undefined;
}

const binding = directBinding();

/** The binding's raw result: each field is converted from Rust when it is read, and the program is JSON. */
interface RawParseResult {
  program: string;
  comments: unknown[];
  errors: OxcError[];
}

export const parseSync: ParseSync = binding
  ? (fileName, source, options) => {
    // What oxc's own wrapper does for these fields; fields left unread stay
    // native and are freed with the result.
    const raw = binding.parseSync(fileName, source, options) as RawParseResult;
    return { program: jsonParseAst(raw.program), comments: raw.comments, errors: raw.errors };
  }
  : (await import("oxc-parser")).parseSync as unknown as ParseSync;

/** Child keys of each ESTree node type, in source order (oxc's visitor keys). */
export const visitorKeys: Readonly<Record<string, readonly string[] | undefined>> = keys;
