// Diagnostic codes of the transformer. Codes are stable: users grep for them,
// docs cite them, and fixtures pin them. Never renumber; only add.

export type Severity = "error" | "warning";

export interface Diagnostic {
  code: string;
  severity: Severity;
  /** Project-relative file name (absolute when outside the project). */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** The variable or expression the diagnostic is about, when there is one. */
  name?: string;
  message: string;
  fix: string;
}

interface CodeInfo {
  severity: Severity;
  fix: string;
}

export const CODES = {
  DA1001: { severity: "error", fix: "copy what you need from `this` into a local const before the call and use that const in the closure" },
  DA1002: { severity: "error", fix: "call the base method before the call and capture its result in a local const" },
  DA1003: { severity: "error", fix: "copy the values you need from `arguments` into local consts before the call" },
  DA1004: { severity: "error", fix: "remove the parameters; the worker calls the closure with no arguments, so pass values by capturing local consts" },
  DA1005: { severity: "error", fix: "move the function to module scope (the worker resolves module bindings itself) or inline it in the closure" },
  DA1006: { severity: "error", fix: "move the class to module scope (the worker resolves module bindings itself)" },
  DA1007: { severity: "error", fix: "captures are snapshots taken at enqueue time; copy the value into a const before the call" },
  DA1008: { severity: "error", fix: "captures are snapshots; assign to a new local inside the closure instead of the captured variable" },
  DA1009: { severity: "error", fix: "call durable.async/run/cron directly with an inline closure; the transformer can only compile literal call sites" },
  DA1010: { severity: "error", fix: "pass an inline arrow or function expression, e.g. durable.async(() => fn(x))" },
  DA1011: { severity: "error", fix: "the `name` option must be a string literal so the task id is known at build time" },
  DA1012: { severity: "error", fix: "give each call site a distinct `name`" },
  DA1013: { severity: "error", fix: "use a known node type, or declare it both for the transformer (the plugin's `nodeTypes` option or DURABLE_NODE_TYPES) and at run time (durable.start({ nodeTypes }))" },
  DA1014: { severity: "error", fix: "read `new.target` before the call into a local const and capture that const" },
  DA1015: { severity: "error", fix: "read the private member before the call into a local const and capture that const (a #private name exists only inside its class body), or call a public method inside the closure" },
  DA1016: { severity: "error", fix: "call the code directly instead of eval: the worker runs the closure without the caller's variables, which eval would read" },
  DA1017: { severity: "error", fix: "call durable.async/run/cron on the imported `durable` itself, or a `const` alias of it (import it under another name if you need one: `import { durable as d } from \"durable-async\"`)" },
  DA1018: { severity: "error", fix: "fix the syntax error; the file is transformed once it parses" },
  DA1019: { severity: "error", fix: "declare the variable before the call: the captures are read when durable.async/run/cron is called" },
  DA2001: { severity: "error", fix: "capture the data the function needs instead, and call the function inside the closure" },
  DA2002: { severity: "error", fix: "capture a plain-data copy (e.g. { id: x.id }); methods do not survive serialization" },
  DA2003: { severity: "error", fix: "await the promise before the call and capture its result" },
  DA2004: { severity: "error", fix: "symbols cannot be serialized; capture a string instead" },
  DA2005: { severity: "error", fix: "streams, sockets and emitters live in one process; capture what identifies the resource (a path, a URL) and reopen it in the closure" },
  DA2006: { severity: "error", fix: "weak collections cannot be serialized; capture a Map/Set or the plain data" },
  DA2007: { severity: "error", fix: "register the class with SuperJSON.registerClass(...), or capture a plain-data copy" },
  DA3001: { severity: "warning", fix: "give the variable a concrete type so the transformer can check it is serializable" },
  DA3002: { severity: "warning", fix: "narrow the value to a concrete type before the call so the transformer can check it is serializable" },
  DA3003: { severity: "warning", fix: "make durable calls on the imported `durable` (or a `const` alias of it) in each module; calls through a value handed elsewhere are not compiled and throw at run time" },
  DA3004: { severity: "warning", fix: "give the capture a flatter type, or capture the part the closure needs; the enqueue-time check still checks the value" },
  DA3005: { severity: "warning", fix: "move the module out of that folder (discovery skips dist, build, out, coverage, the tsconfig outDir, test, tests, __tests__ and fixtures directly inside a package root, hidden folders, and *.test.*/*.spec.* files), or set the plugins' `ignoreDirs` option to the folders to skip" },
  DA3006: { severity: "warning", fix: "capture it: copy the module variable into a local const before the call (`const value = moduleVariable;`) and use that const in the closure, or pass the value in (e.g. as a parameter of the enclosing function); the job then carries this process' value" },
  DA4001: { severity: "warning", fix: "if it should not run on workers, move it into a function the closure calls, or mark a harmless call /* @__PURE__ */" },
  DA4002: { severity: "warning", fix: "if it should not run on workers, build the value in its declaration instead (e.g. `new Map([...])`), or move the statement into a function" },
  DA4003: { severity: "warning", fix: "set the value up in its declaration, or have the closure read it from a function or another module that both processes load" },
  DA4004: { severity: "warning", fix: "declare the cron entry at module level, so every worker discovers it (or make sure each worker calls this function)" },
} as const satisfies Record<string, CodeInfo>;

export type DiagnosticCode = keyof typeof CODES;

export function makeDiagnostic(
  code: DiagnosticCode,
  where: { file: string; line: number; column: number },
  message: string,
  name?: string,
): Diagnostic {
  const info: CodeInfo = CODES[code];
  return { code, severity: info.severity, ...where, name, message, fix: info.fix };
}

/** `src/a.ts:3:7 error DA1001: message. Fix: ...` — one line, grep-friendly. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column} ${d.severity} ${d.code}: ${d.message} Fix: ${d.fix}.`;
}

/** In file order: line, column, then code. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) => a.line - b.line || a.column - b.column || a.code.localeCompare(b.code));
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Thrown by integrations that must stop on compile errors (Node hook, Vite). */
export class DurableTransformError extends Error {
  readonly code = "DURABLE_TRANSFORM";
  readonly diagnostics: readonly Diagnostic[];
  constructor(diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === "error");
    super(`durable-async: ${errors.length} transform error(s)\n${errors.map(formatDiagnostic).join("\n")}`);
    this.name = "DurableTransformError";
    this.diagnostics = diagnostics;
  }
}
