import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as t from "../support/semantics-tasks.mjs";
import { InvalidOptionError } from "../../src/errors.js";
import { normalizeFilter } from "../../src/reports/index.js";

/** Each case: the call, the option its error must name, and a word of the fix it must give. */
type Case = [string, (d: any) => unknown, string, RegExp];

const unique: Case[] = [
  ["unique not an object", (d) => d.async(t.echo, { value: 1 }, { unique: "yes" }), "unique", /true or an object/],
  ["unique unknown key", (d) => d.async(t.echo, { value: 1 }, { unique: { perod: "1h" } }), "unique.perod", /Did you mean "period"/],
  ["unique.by empty", (d) => d.async(t.echo, { value: 1 }, { unique: { by: [] } }), "unique.by", /non-empty array/],
  ["unique.by unknown", (d) => d.async(t.echo, { value: 1 }, { unique: { by: ["capture"] } }), "unique.by", /Did you mean "captures"/],
  ["unique.keys not strings", (d) => d.async(t.echo, { value: 1 }, { unique: { keys: [1] } }), "unique.keys", /key names/],
  ["unique.keys without captures/meta", (d) => d.async(t.echo, { value: 1 }, { unique: { by: ["task"], keys: ["value"] } }), "unique.keys", /add "captures" or "meta"/],
  ["unique.keys unknown name", (d) => d.async(t.echo, { value: 1 }, { unique: { keys: ["nope"] } }), "unique.keys", /Use names of captured variables or meta keys/],
  ["unique.period bad", (d) => d.async(t.echo, { value: 1 }, { unique: { period: "a day" } }), "unique.period", /"24h"/],
  ["unique.period zero", (d) => d.async(t.echo, { value: 1 }, { unique: { period: 0 } }), "unique.period", /"forever"/],
  ["unique.states unknown", (d) => d.async(t.echo, { value: 1 }, { unique: { states: ["done"] } }), "unique.states", /Known: available, scheduled/],
  ["unique.replace unknown", (d) => d.async(t.echo, { value: 1 }, { unique: { replace: ["run_at"] } }), "unique.replace", /scheduled_at/],
];

const cron: Case[] = [
  ["cron expression", (d) => d.cron("every minute", t.cronTick, {}, { name: "a" }), "expression", /"@hourly"/],
  ["cron expression type", (d) => d.cron(5, t.cronTick, {}, {}), "expression", /"\*\/5 \* \* \* \*"/],
  ["cron tz", (d) => d.cron("* * * * *", t.cronTick, {}, { name: "b", tz: "Mars/Olympus" }), "tz", /IANA/],
  ["cron name", (d) => d.cron("* * * * *", t.cronTick, {}, { name: "" }), "name", /stable entry name/],
  ["cron catchUp", (d) => d.cron("* * * * *", t.cronTick, {}, { name: "c", catchUp: "yes" }), "catchUp", /true or false/],
  ["cron client", (d) => d.cron("* * * * *", t.cronTick, {}, { name: "d", client: {} }), "client", /Remove it/],
  ["cron delay", (d) => d.cron("* * * * *", t.cronTick, {}, { name: "e", delay: "1m" }), "delay", /expression decides/],
  ["cron job option", (d) => d.cron("* * * * *", t.cronTick, {}, { name: "f", priority: 12 }), "priority", /0 \(runs first\) to 9/],
];

const queues: Case[] = [
  ["pause queue name", (d) => d.queues.pause("bad queue!"), "queue", /letters, digits/],
  ["pause for", (d) => d.queues.pause("q", { for: "soon" }), "for", /"1h30m"/],
  ["pause for zero", (d) => d.queues.pause("q", { for: 0 }), "for", /resume\(\)/],
  ["pause unknown option", (d) => d.queues.pause("q", { fro: "1h" }), "fro", /Did you mean "for"/],
  ["scale", (d) => d.queues.scale("q", -1), "concurrency", /0 to 10000/],
  ["configure unknown", (d) => d.queues.configure("q", { rateLimits: {} }), "rateLimits", /Did you mean "rateLimit"/],
  ["rateLimit shape", (d) => d.queues.configure("q", { rateLimit: 10 }), "rateLimit", /allowed: 10, period: "1s"/],
  ["rateLimit.allowed", (d) => d.queues.configure("q", { rateLimit: { allowed: 0, period: "1s" } }), "rateLimit.allowed", /integer from 1/],
  ["rateLimit.period missing", (d) => d.queues.configure("q", { rateLimit: { allowed: 1 } }), "rateLimit.period", /"1s"/],
  ["rateLimit.period bad", (d) => d.queues.configure("q", { rateLimit: { allowed: 1, period: "1 sec" } }), "rateLimit.period", /"30s"/],
  ["globalConcurrency", (d) => d.queues.configure("q", { globalConcurrency: 0 }), "globalConcurrency", /null to remove/],
  ["retention state", (d) => d.queues.configure("q", { retention: { complete: "1d" } }), "retention.complete", /Did you mean "completed"/],
  ["retention duration", (d) => d.queues.configure("q", { retention: { completed: "a week" } }), "retention.completed", /"7d"/],
];

const jobs: Case[] = [
  ["filter key", (d) => d.jobs.count({ sate: "completed" }), "filter.sate", /Did you mean "state"/],
  ["filter state", (d) => d.jobs.count({ state: "sucess" }), "filter.state", /Did you mean|Known:/],
  ["filter id", (d) => d.jobs.cancel({ id: "abc" }), "filter.id", /digit strings/],
  ["filter meta", (d) => d.jobs.count({ meta: "orgId=1" }), "filter.meta", /containment/],
  ["filter range", (d) => d.jobs.count({ inserted: { since: new Date() } }), "filter.inserted.since", /`from`/],
  ["filter date", (d) => d.jobs.count({ since: "yesterday" }), "filter.since", /new Date/],
  ["page limit", (d) => d.jobs.list({}, { limit: 5000 }), "limit", /1 to 1000/],
  ["page cursor", (d) => d.jobs.list({}, { after: "x" }), "after", /`next` cursor/],
  ["csv columns", (d) => d.jobs.csv({}, { columns: ["statee"] }), "columns", /Did you mean "state"/],
  ["report by", (d) => d.jobs.reportCsv({ by: "" }), "by", /"orgId"/],
  ["prune batchSize", (d) => d.jobs.prune({ batchSize: 0 }), "batchSize", /integer from 1/],
];

describe("every issue 4 option rejects bad values, naming the option and the fix", () => {
  for (const [group, cases] of Object.entries({ unique, cron, queues, jobs })) {
    it(group, async () => {
      const db = await testDatabase();
      const d = await db.start({ run: false });
      for (const [label, call, option, fix] of cases) {
        let error: unknown;
        try {
          await call(d);
        } catch (e) {
          error = e;
        }
        expect(error, label).toBeInstanceOf(InvalidOptionError);
        expect((error as InvalidOptionError).option, label).toBe(option);
        expect((error as Error).message, label).toMatch(fix);
        expect((error as Error).message, label).toContain(`\`${option}\``);
      }
    });
  }

  it("a filter accepts the dashboard's spelling (ids) and rejects mixing it with id", () => {
    expect(normalizeFilter({ ids: ["1", 2] }).ids).toEqual(["1", "2"]);
    expect(() => normalizeFilter({ ids: ["1"], id: "2" })).toThrow(InvalidOptionError);
  });
});
