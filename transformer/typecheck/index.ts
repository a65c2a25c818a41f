// The type checker's chunk: the one part of the transformer that loads the
// TypeScript compiler (through ts-morph). The session imports it dynamically,
// and only when capture types are checked, so a plain build never loads it.
export { checkCaptureTypes } from "./capture-types.js";
export { createProject, type ProjectOptions } from "./project.js";
