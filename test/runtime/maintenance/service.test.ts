import { describe, expect, it } from "vitest";
import { eventually } from "../../support/db.js";
import { MaintenanceService } from "../../../src/runner/maintenance/service.js";

// The scheduling every maintenance service shares: its own interval, one
// pass at a time, errors reported and the service kept alive, a backlog
// run again sooner, and a stop that waits for the pass in progress.

describe("a maintenance service", () => {
  it("runs its passes one at a time, reports a failing pass and keeps going", async () => {
    let active = 0;
    let maxActive = 0;
    let passes = 0;
    const errors: string[] = [];
    const service = new MaintenanceService(
      {
        during: "testing",
        intervalMs: 5,
        firstDelayMs: 0,
        async run() {
          active++;
          maxActive = Math.max(maxActive, active);
          await new Promise((r) => setTimeout(r, 20));
          active--;
          if (++passes === 2) throw new Error("second pass fails");
        },
      },
      (during, error) => errors.push(`${during}: ${(error as Error).message}`),
    );
    service.start();
    await eventually("four passes", () => passes >= 4);
    await service.stop();
    const after = passes;
    expect(maxActive).toBe(1);
    expect(errors).toEqual(["testing: second pass fails"]);
    expect(active).toBe(0); // stop() waited for the pass in progress
    await new Promise((r) => setTimeout(r, 30));
    expect(passes).toBe(after); // and none ran after it
  });

  it("a pass that reports a backlog runs again before its interval", async () => {
    let passes = 0;
    const service = new MaintenanceService(
      { during: "backlog", intervalMs: 3_600_000, firstDelayMs: 0, run: async () => (++passes < 5 ? 1 : undefined) },
      () => undefined,
    );
    service.start();
    await eventually("the backlog worked off in chained passes", () => passes === 5);
    await service.stop();
  });

  it("runNow() runs a pass at once, or joins the one in progress", async () => {
    let passes = 0;
    let release: () => void = () => undefined;
    const service = new MaintenanceService(
      { during: "now", intervalMs: 3_600_000, run: () => new Promise<void>((r) => { passes++; release = r; }) },
      () => undefined,
    );
    service.start();
    const first = service.runNow();
    const second = service.runNow();
    release();
    await Promise.all([first, second]);
    expect(passes).toBe(1);
    await service.stop();
  });
});
