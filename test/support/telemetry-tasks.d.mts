import type { TaskStub } from "../../src/tasks/registry.js";
export declare const activeSpan: TaskStub;
