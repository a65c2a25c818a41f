import { afterEach, describe, expect, it } from "vitest";
import { allEnqueued, assertEnqueued, drain, stopTestingMode, useTestingMode } from "durable-async/testing";
import { schemaForTest, testDatabase } from "../support/db.js";
import { importTransformed, runExample } from "../support/examples.js";

afterEach(() => stopTestingMode());

describe("examples/welcome-email", { timeout: 180_000 }, () => {
  it("runs: each welcome email fails once, is retried and is sent", async () => {
    const db = await testDatabase();
    const run = await runExample("welcome-email", { schema: db.schema });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("welcome email sent to ada@example.com on attempt 2");
    const { rows } = await db.pool.query(`select state, attempt, jsonb_array_length(errors) as errors, meta, tags from ${db.q}.jobs order by id`);
    expect(rows).toEqual([
      { state: "completed", attempt: 2, errors: 1, meta: { userId: 1 }, tags: ["welcome"] },
      { state: "completed", attempt: 2, errors: 1, meta: { userId: 2 }, tags: ["welcome"] },
    ]);
    const sent = await db.pool.query("select email, attempt from welcome_emails order by user_id");
    expect(sent.rows).toEqual([{ email: "ada@example.com", attempt: 2 }, { email: "grace@example.com", attempt: 2 }]);
  });

  it("registerUser enqueues the email with the user captured (durable-async/testing)", async () => {
    type Users = typeof import("../../examples/welcome-email/users.js");
    type Db = typeof import("../../examples/welcome-email/db.js");
    const [{ registerUser }, { setAppDb }] = await importTransformed<[Users, Db]>("welcome-email", ["users.ts", "db.ts"]);
    setAppDb({ query: async (_sql: string, values: unknown[]) => ({ rows: [{ id: 41, email: values[0] }] }) } as any);
    useTestingMode("manual");
    await registerUser({ email: "ada@example.com", name: "Ada" });
    assertEnqueued({ task: "registerUser", captures: { user: { id: 41, email: "ada@example.com" } }, meta: { userId: 41 }, tags: ["welcome"] });
    // The stand-in SMTP fails attempt 1; drain retries at once, as a worker would after the backoff.
    expect(await drain("worker")).toMatchObject({ attempts: 2, completed: 1 });
    expect(allEnqueued()[0]!.errors[0]!.message).toMatch(/SMTP timeout/);
  });
});
