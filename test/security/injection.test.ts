import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { testDatabase } from "../support/db.js";
import * as tasks from "../support/tasks.mjs";
import { validateSchemaName, quoteSchema } from "../../src/db/schema.js";
import { DurableInstance } from "../../src/instance.js";
import { ConfigError, InvalidOptionError } from "../../src/errors.js";
import { normalizeStartOptions } from "../../src/config/start.js";
import { parseMetaPairs } from "../../src/admin/filter.js";
import { filterWhere, normalizeFilter, countJobs, type JobFilter } from "../../src/reports/index.js";
import { filterFrom, withConnection, withFilter } from "../../src/cli/shared.js";

// Schema names are the only identifiers interpolated into SQL; every other
// value a user, an operator or a CLI argument supplies must travel as a bind
// parameter (issue 7, item 5). Each test tries classic injection strings.

const INJECTIONS = [
  `x"; drop table jobs; --`,
  `x'; drop table jobs; --`,
  `' or '1'='1`,
  `") or true --`,
  `$1`,
  `$$; drop table jobs; $$`,
  `\\'; select pg_sleep(10); --`,
  `x */ or 1=1 /*`,
  `durable.jobs`,
  `a\u0000b`,
  `ä`,
  `DURABLE`,
  ` durable`,
  `x`.repeat(64),
  ``,
];

describe("schema names", () => {
  it.each(INJECTIONS)("rejects %j before it reaches SQL", (name) => {
    expect(() => validateSchemaName(name)).toThrow(ConfigError);
    expect(() => quoteSchema(name)).toThrow(ConfigError);
    expect(() => new DurableInstance({ schema: name, handleSignals: false })).toThrow(/Invalid schema name/);
  });

  it("rejects non-strings and suggests a name that works", () => {
    for (const value of [null, 42, {}, ["durable"]]) expect(() => validateSchemaName(value)).toThrow(ConfigError);
    expect(() => validateSchemaName("My-Schema")).toThrow(/Try "my_schema"/);
    expect(validateSchemaName("durable_2")).toBe("durable_2");
  });

  it("checks DURABLE_SCHEMA from the environment too", () => {
    const saved = process.env.DURABLE_SCHEMA;
    process.env.DURABLE_SCHEMA = `durable"; drop schema public cascade; --`;
    try {
      expect(() => normalizeStartOptions({})).toThrow(/Invalid schema name/);
    } finally {
      if (saved === undefined) delete process.env.DURABLE_SCHEMA;
      else process.env.DURABLE_SCHEMA = saved;
    }
  });

  it("the CLI --schema argument is validated", async () => {
    const command = withConnection(new Command("probe").exitOverride().configureOutput({ writeErr: () => undefined }));
    for (const name of INJECTIONS.slice(0, 8)) {
      expect(() => command.parse(["--schema", name], { from: "user" }), name).toThrow();
    }
  });
});

describe("queue names, node types and options", () => {
  it.each(INJECTIONS.filter((s) => /[^A-Za-z0-9_.:-]/.test(s)))("rejects queue or node type %j", (value) => {
    expect(() => normalizeStartOptions({ queues: { [value]: 1 } })).toThrow(InvalidOptionError);
    expect(() => normalizeStartOptions({ nodeType: value })).toThrow(InvalidOptionError);
    expect(() => normalizeStartOptions({ nodeTypes: [value] })).toThrow(InvalidOptionError);
  });

  it("values that may hold anything (meta, tags, captures, names) are stored verbatim as parameters", async () => {
    const db = await testDatabase();
    const d = await db.start();
    const meta = Object.fromEntries(INJECTIONS.filter((s) => !s.includes("\u0000")).map((s, i) => [`k${i}${s}`, s]));
    const tags = INJECTIONS.filter((s) => s && !s.includes("\u0000"));
    const handles = await Promise.all(tags.map((s) => d.async(tasks.echo, { value: s }, { meta, tags })));
    const results = await Promise.all(handles.map((h) => d.await(h, { timeout: "10s" })));
    expect(results).toEqual(tags);
    const { rows } = await db.pool.query(`select meta, tags from ${db.q}.jobs where id = $1`, [handles[0]!.id]);
    expect(rows[0].meta).toEqual(meta);
    expect(rows[0].tags).toEqual(tags);
    expect(() => d.async(tasks.echo, { value: 1 }, { queue: `q'; drop table jobs; --` } as any)).toThrow(InvalidOptionError);
  });
});

describe("operator filters (reports, dashboard and CLI share them)", () => {
  const hostile = INJECTIONS.filter((x) => x && !x.includes("\u0000"));
  const target = (db: { pool: any; q: string }) => ({ pool: db.pool, quotedSchema: db.q, channels: { insert: "", done: "", control: "" } });

  it("filterWhere puts every value in params, never in the text", () => {
    for (const s of hostile) {
      const params: unknown[] = [];
      const text = filterWhere(normalizeFilter({ queue: [s], task: [s, `${s}*`], meta: { [s]: s }, tags: [s], ids: ["1"] }), params);
      if (s.length > 2) expect(text, s).not.toContain(s);
      expect(JSON.stringify(params)).toContain(JSON.stringify(s).slice(1, -1));
      expect(text).toMatch(/^[a-z_.(): =@<>$0-9\[\]]+$/i);
    }
    expect(() => normalizeFilter({ state: `completed'; drop table jobs; --` })).toThrow(InvalidOptionError);
    expect(() => normalizeFilter({ [`x'; drop table jobs; --`]: 1 } as JobFilter)).toThrow(InvalidOptionError);
    expect(() => normalizeFilter({ id: `1; drop table jobs` })).toThrow(InvalidOptionError);
  });

  it("hostile filter values run as parameters against a real schema and match nothing", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await d.async(tasks.echo, { value: 1 }, { meta: { orgId: 1 }, tags: ["a"] });
    const t = target(db);
    for (const s of hostile) {
      expect(await countJobs(t, { queue: s }), s).toBe(0);
      expect(await countJobs(t, { task: s }), s).toBe(0);
      expect(await countJobs(t, { task: `${s}*` }), s).toBe(0);
      expect(await countJobs(t, { meta: { orgId: s } }), s).toBe(0);
      expect(await countJobs(t, { meta: parseMetaPairs([`k=${s}`]) }), s).toBe(0);
      expect(await countJobs(t, { tags: [s] }), s).toBe(0);
    }
    expect(await countJobs(t, {})).toBe(1);
    const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`);
    expect(rows[0].n).toBe(1);
  });

  it("CLI filter arguments with injection strings reach the query as parameters", async () => {
    const db = await testDatabase();
    const d = await db.start({ run: false });
    await d.async(tasks.echo, { value: 1 }, { meta: { orgId: 1 } });
    const t = target(db);
    for (const s of hostile) {
      const command = withFilter(new Command("list").exitOverride().configureOutput({ writeErr: () => undefined }));
      command.parse(["--task", s, "--meta", `orgId=${s}`, "--tag", s], { from: "user" });
      expect(await countJobs(t, filterFrom(command.opts())), s).toBe(0);
      const queue = withFilter(new Command("list").exitOverride().configureOutput({ writeErr: () => undefined }));
      // Queue names and states are validated by the argument parsers themselves.
      if (/[^A-Za-z0-9_.:-]/.test(s)) expect(() => queue.parse(["--queue", s], { from: "user" }), s).toThrow();
      expect(() => queue.parse(["--state", s], { from: "user" }), s).toThrow();
    }
    const { rows } = await db.pool.query(`select count(*)::int as n from ${db.q}.jobs`);
    expect(rows[0].n).toBe(1);
  });
});
