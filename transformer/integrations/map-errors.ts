// esbuild reports problems in the code it was given. For a transformed module
// that is the rewrite (stubs added above the user's code), so its positions
// would point at lines the user never wrote: map each one back through the
// rewrite's source map to the user's file, line, column and line text.
import type { Location, Message, PartialMessage } from "esbuild";
import { originalPosition } from "../sourcemap.js";

/** `location` (in the rewritten code) at its place in the original text; unchanged when the map has no segment there. */
export function originalLocation<L extends Partial<Location>>(location: L, map: string, source: string): L {
  if (location.line === undefined || location.column === undefined) return location;
  const at = originalPosition((JSON.parse(map) as { mappings: string }).mappings, location.line, location.column);
  if (!at) return location;
  return { ...location, line: at.line, column: at.column, lineText: source.split(/\r?\n/)[at.line - 1] ?? location.lineText };
}

/** The messages of a failed esbuild transform, mapped; each as `file:line:column: text`. */
export function mappedFailure(error: unknown, fileName: string, map: string, source: string): Error {
  const errors = (error as { errors?: Array<Message | PartialMessage> }).errors;
  if (!Array.isArray(errors)) return error as Error;
  const mapped = errors.map((m) => ({ ...m, location: m.location ? originalLocation(m.location, map, source) : m.location }));
  const lines = mapped.map((m) => `${fileName}:${m.location?.line ?? 0}:${(m.location?.column ?? 0) + 1}: ERROR: ${m.text}`);
  return Object.assign(new Error(`Transform failed with ${mapped.length} error(s):\n${lines.join("\n")}`), { errors: mapped });
}
