import type { TaskStub } from "../../src/tasks/registry.js";
export declare const effects: string[];
export declare function reset(): void;
export declare const child: TaskStub, failingChild: TaskStub, parentOfThree: TaskStub, sequence: TaskStub, sleeper: TaskStub, diverges: TaskStub,
  awaitsFailure: TaskStub, fanOut: TaskStub, crashBetweenSteps: TaskStub, blockingChild: TaskStub, awaitsBlocking: TaskStub, grandparent: TaskStub, bulkParent: TaskStub,
  zombie: TaskStub, timedAwait: TaskStub;
