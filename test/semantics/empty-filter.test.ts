import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { InvalidOptionError } from "../../src/errors.js";

describe("bulk writes with an empty filter", () => {
  it("are refused unless the filter says all: true, and nothing is touched", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await d.asyncMany([[tasks.echo, { value: 1 }], [tasks.echo, { value: 2 }]]);
    for (const write of [() => d.jobs.cancel({}), () => d.jobs.delete({}), () => d.jobs.retry({})]) {
      const error = await write().catch((e) => e);
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect(error.message).toMatch(/filter.*is empty.*all: true/);
    }
    expect((await db.pool.query(`select count(*)::int as n from ${db.q}.jobs where state = 'available'`)).rows[0].n).toBe(2);
    expect(await d.jobs.cancel({ all: true })).toBe(2);
  });
});
