import type { TaskStub } from "../../src/tasks/registry.js";
export declare const accepted: Set<number>;
export declare const chargeCard: TaskStub, sendWelcomeEmail: TaskStub, importCsv: TaskStub;
