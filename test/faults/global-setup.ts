import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { snapshotDist } from "./harness.js";

// One snapshot of dist/ for the whole fault run (see snapshotDist).
let dist: string | undefined;

export async function setup(project: TestProject) {
  // DURABLE_FAULT_DIST may name a prepared build (e.g. to show a scenario failing without a fix); it is not deleted.
  if (process.env.DURABLE_FAULT_DIST) return project.provide("faultDist", process.env.DURABLE_FAULT_DIST);
  dist = await snapshotDist();
  project.provide("faultDist", dist);
}

export async function teardown() {
  if (dist) rmSync(fileURLToPath(dist), { recursive: true, force: true });
}

declare module "vitest" {
  export interface ProvidedContext {
    faultDist: string;
  }
}
