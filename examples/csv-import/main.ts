// A long CSV import on a datasync node, enqueued in the same transaction as
// the import's log row, reporting progress while it runs.
import { durable } from "durable-async";
import { createTables } from "./db.js";
import { startImport } from "./import.js";

// One process plays both roles here; in production the API runs nodeType "api"
// and the import runs on processes started with nodeType "datasync".
await durable.start({ nodeType: ["worker", "datasync"] });
await createTables();

const { importId, job } = await startImport(7, "contacts.csv", 200);
console.log(`import ${importId} logged and job ${job.id} enqueued on ${job.queue}, in one transaction`);

try {
  await startImport(7, "broken.csv", 10, { failAfterEnqueue: true });
} catch (error) {
  console.log(`a second import failed after its enqueue (${(error as Error).message}): rolled back, no log row and no job`);
}

const result = await durable.await(job, { timeout: "2m" });
console.log(`import ${importId} finished: ${JSON.stringify(result)}`);
await durable.stop();
