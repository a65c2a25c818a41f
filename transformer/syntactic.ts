// The syntactic path: analysis and rewrite, without the type checker. The
// session loads it with one dynamic import, so the shipped bundles hold it in
// one chunk (and the analysis it shares with the checker's chunk in another):
// each module a cold build loads costs about a millisecond.
export { analyze, sortDiagnostics } from "./analyze.js";
export { rewrite } from "./rewrite.js";
export { rewriteSlice } from "./slice-output.js";
