import type { TaskStub } from "../../src/tasks/registry.js";
export declare const calls: number[];
export declare const echo: TaskStub, add: TaskStub, record: TaskStub, fail: TaskStub, failUntil: TaskStub, discard: TaskStub, cancel: TaskStub,
  snoozeOnce: TaskStub, waitForAbort: TaskStub, sleep: TaskStub, big: TaskStub, returnsFunction: TaskStub, context: TaskStub, pid: TaskStub,
  blockThenPid: TaskStub, progress: TaskStub, progressThenReturn: TaskStub;
