import type { Command } from "commander";
import { loadOptional } from "../../../transformer/optional.js";

// `durable build`: writes the task manifest (every stub in the project, with
// its metadata) and, given entry points, bundles them with the esbuild plugin
// so the bundle carries every stub module.
export function register(program: Command): void {
  program
    .command("build")
    .description("write the task manifest (.durable/manifest.json); with entries, bundle them with call sites transformed")
    .argument("[entries...]", "entry points to bundle with esbuild")
    .option("--root <dir>", "project root; task ids are relative to it (default: each file's project, from the nearest package.json)")
    .option("--manifest <file>", "where to write the manifest", ".durable/manifest.json")
    .option("--outdir <dir>", "bundle output directory", "dist")
    .action(async (entries: string[], options: { root?: string; manifest: string; outdir: string }) => {
      const { buildManifest, writeManifest } = await import("../../../transformer/manifest.js");
      const { projectRootFrom } = await import("../../contract/project-root.js");
      const manifest = await buildManifest({ root: options.root });
      const path = writeManifest(manifest, options.root ?? projectRootFrom(process.cwd()), options.manifest);
      const tasks = manifest.modules.reduce((n, m) => n + m.tasks.length, 0);
      for (const line of manifest.diagnostics) process.stderr.write(`${line}\n`);
      process.stdout.write(`Wrote ${tasks} task(s) from ${manifest.modules.length} module(s) to ${path}\n`);
      if (manifest.errors > 0) {
        process.exitCode = 1;
        return;
      }
      if (entries.length > 0) {
        const { build } = await loadOptional("esbuild", "bundling with `durable build <entries>`", () => import("esbuild"));
        const { durableEsbuild } = await import("../../../transformer/integrations/esbuild.js");
        await build({
          entryPoints: entries, bundle: true, platform: "node", format: "esm", target: "node20", sourcemap: true,
          packages: "external", outdir: options.outdir, plugins: [durableEsbuild({ root: options.root })],
        });
        process.stdout.write(`Bundled ${entries.length} entr${entries.length === 1 ? "y" : "ies"} into ${options.outdir}\n`);
      }
    });
}
