import type { TaskStub } from "../../src/tasks/registry.js";
export const probe: TaskStub;
export const sum: TaskStub;
export const throws: TaskStub;
export const throwsHostile: TaskStub;
export function hostileThrown(kind: string): unknown;
export const oddProgress: TaskStub;
