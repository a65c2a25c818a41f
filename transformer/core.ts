// The parts of the transformer that load the TypeScript compiler. Imported
// dynamically by the session, so a warm build (every file answered by the
// disk cache) and a build with no durable files never load ts-morph.
export { analyzeSource } from "./analyze.js";
export { createProject } from "./project.js";
export { rewrite } from "./rewrite.js";
