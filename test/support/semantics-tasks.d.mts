import type { TaskStub } from "../../src/tasks/registry.js";
export declare const replyToUnknown: TaskStub, echo: TaskStub, cronTick: TaskStub, waitForCancel: TaskStub, hold: TaskStub;
export declare const aborted: Array<{ jobId: string; reason: any }>;
export declare const started: string[];
export declare const concurrency: { now: number; max: number };
export declare const fanOutTarget: { instance: any; orgs: number[] };
export declare const syncOrg: TaskStub, fanOut: TaskStub;
