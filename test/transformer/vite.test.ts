// The Vite/Vitest plugin: the transform hook, the virtual registry module,
// and a real Vite SSR load of a transformed module.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createServer } from "vite";
import { describe, expect, it } from "vitest";
import durableVite, { REGISTRY_ID } from "../../transformer/integrations/vite.js";
import { makeApp } from "./apps.js";

const files = {
  "src/main.ts": `import { durable } from "durable-async";
export function greet(name: string): unknown {
  return durable.async(() => console.log(name));
}
export const registry = (globalThis as any)[Symbol.for("durable-async.registry")];
`,
  "src/jobs/other.ts": `import { durable } from "durable-async";
export function other(n: number) { durable.async(() => console.log(n)); }
`,
  "src/bad.ts": `import { durable } from "durable-async";
export function bad() { durable.async(function () { return arguments.length; }); }
`,
};

const context = {
  warnings: [] as unknown[],
  error(error: { message: string; loc?: unknown }): never {
    throw Object.assign(new Error(error.message), { loc: error.loc });
  },
  warn(message: unknown) {
    this.warnings.push(message);
  },
};

describe("vite plugin", () => {
  it("transforms call sites, keeps a source map and imports the registry", async () => {
    const root = makeApp("vite", files);
    const plugin = durableVite({ root });
    const fileName = join(root, "src/main.ts");
    const result = await plugin.transform.call(context, files["src/main.ts"], fileName);
    expect(result!.code).toContain(`id: "src/main.ts#greet#0"`);
    expect(result!.code).toContain(`durable.async(__durable_stub_0, { name })`);
    expect(result!.code).toContain(`import "${REGISTRY_ID}";`);
    expect(JSON.parse(result!.map!).sources).toEqual([fileName]);
    expect(await plugin.transform.call(context, "export const x = 1;\n", join(root, "src/x.ts"))).toBeNull();
  });

  it("reports transform errors with their location", async () => {
    const root = makeApp("vite-errors", files);
    const plugin = durableVite({ root });
    const error = await plugin.transform.call(context, files["src/bad.ts"], join(root, "src/bad.ts")).catch((e: Error) => e);
    expect((error as Error).message).toContain("src/bad.ts:2:60 error DA1003");
    expect((error as unknown as { loc: unknown }).loc).toEqual({ file: join(root, "src/bad.ts"), line: 2, column: 59 });
  });

  it("loads a transformed module through Vite SSR with every stub module registered", async () => {
    const root = makeApp("vite-ssr", { "src/main.ts": files["src/main.ts"], "src/jobs/other.ts": files["src/jobs/other.ts"] });
    const server = await createServer({
      root, configFile: false, logLevel: "silent", appType: "custom",
      server: { middlewareMode: true, hmr: false, watch: null }, plugins: [durableVite()],
    });
    try {
      const mod = await server.ssrLoadModule("/src/main.ts");
      const ids = [...mod.registry.metadata.keys()];
      expect(ids).toEqual(expect.arrayContaining(["src/main.ts#greet#0", "src/jobs/other.ts#other#0"]));
    } finally {
      await server.close();
    }
  });

  it("loads a module's worker-side slice, not its top level, through Vite SSR", async () => {
    const root = makeApp("vite-slice", {
      "src/server.ts": `import { writeFileSync } from "node:fs";
import { durable } from "durable-async";
import { shout } from "./shout.js";
writeFileSync(new URL("../server-ran", import.meta.url), "yes");
export const handler = (name: string) => durable.async(() => shout(name));
`,
      "src/shout.ts": "export const shout = (s: string): string => s.toUpperCase();\n",
      "src/probe.ts": `import { durable } from "durable-async";
export { durable };
export const registry = (globalThis as any)[Symbol.for("durable-async.registry")];
`,
    });
    const server = await createServer({
      root, configFile: false, logLevel: "silent", appType: "custom",
      server: { middlewareMode: true, hmr: false, watch: null }, plugins: [durableVite()],
    });
    try {
      const { registry } = await server.ssrLoadModule("/src/probe.ts");
      const id = "src/server.ts#handler#0";
      await registry.lazy.get(id).load();
      expect(registry.stubs.get(id).run({ name: "ada" })).toBe("ADA");
      expect(registry.fromSlice.has(id)).toBe(true);
      expect(existsSync(join(root, "server-ran")), "the module's top level ran").toBe(false);
    } finally {
      await server.close();
    }
  });
});
