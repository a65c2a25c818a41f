import type { TaskStub } from "../../src/tasks/registry.js";
export declare const echo: TaskStub, finishThenFollowUp: TaskStub;
export declare const gate: { release: (() => void) | null; enqueue: ((value: unknown) => Promise<{ id: string }>) | null; started: (() => void) | null };
