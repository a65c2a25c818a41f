// Preludes for README samples marked `setup="NAME"`: the declarations a
// sample takes for granted (the rows it imports, the client of a transaction
// it runs in), prepended to the sample before it is type-checked and run.
// Keep each one what a reader would assume; the sample itself stays as printed.

export const SETUPS: Record<string, string> = {
  rows: `import { durable } from "durable-async";
const rows = [{ id: 1 }, { id: 2 }, { id: 3 }];
async function importRow(row: { id: number }): Promise<number> {
  return row.id;
}
`,
  transaction: `import pg from "pg";
import { durable } from "durable-async";
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
await client.query("create temporary table imports (id serial primary key, org_id int not null)");
const orgId = 42;
const url = "https://example.com/orgs/42.csv";
async function importCsv(importId: number, from: string): Promise<string> {
  return \`imported \${from} as \${importId}\`;
}
`,
  users: `import { durable } from "durable-async";
import { sendWelcomeEmail } from "../src/mailer.js";
const users = [{ id: 1, email: "ada@example.com" }, { id: 2, email: "grace@example.com" }];
`,
  sender: `import { durable } from "durable-async";
const orgId = 7;
const sender = "+15550100";
const subject = "Opening hours?";
async function replyToUnknownSender(org: number, from: string, about: string): Promise<string> {
  return \`replied to \${from} of \${org} about \${about}\`;
}
`,
};
