import { durable } from "durable-async";
import { appDb } from "./db.js";

/** A stand-in for downloading the file: `rows` contact lines. */
export function fetchCsv(file: string, rows: number): string {
  const lines = ["email,name"];
  for (let i = 1; i <= rows; i++) lines.push(`contact${i}@${file.replace(/\W/g, "")}.example,Contact ${i}`);
  return lines.join("\n");
}

/** Runs on a datasync node: reads the file row by row, reporting progress. */
export async function importCsv(importId: number, file: string, rows: number): Promise<{ imported: number }> {
  const { progress, signal } = durable.context();
  const [, ...lines] = fetchCsv(file, rows).split("\n");
  await appDb().query("update csv_imports set status = 'running' where id = $1", [importId]);
  for (const [i, line] of lines.entries()) {
    if (signal.aborted) throw signal.reason;
    const [email, name] = line.split(",");
    await appDb().query("insert into csv_import_rows (import_id, line, email, name) values ($1, $2, $3, $4) on conflict do nothing", [importId, i + 1, email, name]);
    if ((i + 1) % 50 === 0 || i === lines.length - 1) {
      await progress({ done: i + 1, total: lines.length, message: `row ${i + 1}` });
      console.log(`  import ${importId}: ${i + 1}/${lines.length} rows`);
    }
  }
  await appDb().query("update csv_imports set status = 'done', rows = $2 where id = $1", [importId, lines.length]);
  return { imported: lines.length };
}

/**
 * The import's log row and its job commit together: if anything after the
 * enqueue fails, neither exists, so no job ever points at a missing row.
 */
export async function startImport(orgId: number, file: string, rows: number, options: { failAfterEnqueue?: boolean } = {}) {
  const client = await appDb().connect();
  try {
    await client.query("begin");
    const { rows: [log] } = await client.query<{ id: number }>("insert into csv_imports (org_id, file, status) values ($1, $2, 'queued') returning id", [orgId, file]);
    const importId = log!.id;
    const job = await durable.async(() => importCsv(importId, file, rows), {
      client,
      nodeType: "datasync",
      timeout: "10m",
      maxAttempts: 3,
      meta: { orgId, importId },
      tags: ["import"],
    });
    if (options.failAfterEnqueue) throw new Error("validation failed after the enqueue");
    await client.query("commit");
    return { importId, job };
  } catch (error) {
    await client.query("rollback");
    throw error;
  } finally {
    client.release();
  }
}
