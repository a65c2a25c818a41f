// The transform contract: the one module both the transformer and the runtime
// import. Whatever transformed code and the runtime must agree on is defined
// here; the transformer imports nothing else from src/.
export {
  PACKAGE_NAME, TASK_HELPER_EXPORT, SLICE_TASK_HELPER_EXPORT, MODULES_HELPER_EXPORT, TASK_KINDS, formatCaller, sameCallSite,
  type TaskKind, type CallerLocation, type TaskMetadata, type TaskDefinition,
} from "./task.js";
export { DEFAULT_NODE_TYPES, nodeTypesFromEnv, knownNodeTypes, unknownNodeTypeMessage } from "./node-types.js";
export { suggest, didYouMean } from "./suggest.js";
export { ROOT_ENV, projectRootOf, projectRootFrom, processProjectRoot } from "./project-root.js";
