// The parts of the transformer that load the TypeScript compiler. Imported
// dynamically by the session, and only when capture types are checked, so a
// plain build never loads ts-morph.
export { analyzeSource, checkCaptureTypes } from "./capture-types.js";
export { createProject } from "./project.js";
