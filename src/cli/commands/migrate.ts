import type { Command } from "commander";
import { latestVersion, migrate, validateSchemaName } from "../../db/index.js";
import { connectDatabase, withConnection } from "../shared.js";

export function register(program: Command): void {
  withConnection(program.command("migrate").description("create or upgrade durable's tables (safe to run from several processes at once)"))
    .action(async (options) => {
      const schema = options.schema ?? validateSchemaName(process.env.DURABLE_SCHEMA ?? "durable");
      const db = await connectDatabase(options, 2);
      try {
        const applied = await migrate(db.pool, schema);
        process.stdout.write(
          applied.length
            ? `Applied migration${applied.length > 1 ? "s" : ""} ${applied.join(", ")} to schema "${schema}".\n`
            : `Schema "${schema}" is up to date (version ${latestVersion()}).\n`,
        );
      } finally {
        await db.pool.end();
      }
    });
}
