import type { TaskStub } from "../../src/tasks/registry.js";
export declare const probe: TaskStub, sum: TaskStub, throws: TaskStub;
