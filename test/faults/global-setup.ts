import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";
import { snapshotDist } from "./harness.js";

// One snapshot of dist/ for the whole fault run (see snapshotDist).
let dist: string | undefined;

export async function setup(project: TestProject) {
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
