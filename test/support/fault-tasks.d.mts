import type { TaskStub } from "../../src/tasks/registry.js";
export declare const work: TaskStub, flaky: TaskStub, payload: TaskStub;
export declare function closeRecorder(): Promise<void>;
