import { durable } from "durable-async";
import { appDb } from "./db.js";

/** Runs on a datasync node: one organisation's lab integration. */
export async function pollBloodwork(orgId: number): Promise<number> {
  await new Promise((r) => setTimeout(r, 50)); // the lab's API
  await appDb().query("insert into bloodwork_polls (org_id) values ($1)", [orgId]);
  return orgId;
}

/**
 * Fans out one child per organisation with the integration enabled. Each
 * child is unique per org for 5 minutes, so a tick that overlaps a slow
 * previous one (or a manual run) never polls an org twice.
 */
export async function pollBloodworkForAllOrgs(): Promise<{ enqueued: string[]; alreadyQueued: string[] }> {
  const { rows } = await appDb().query<{ id: number }>("select id from orgs where bloodwork_enabled order by id");
  const enqueued: string[] = [];
  const alreadyQueued: string[] = [];
  for (const org of rows) {
    const orgId = org.id;
    const child = await durable.async(() => pollBloodwork(orgId), {
      nodeType: "datasync",
      meta: { orgId },
      unique: { by: ["task", "captures"], period: "5m" },
    });
    (child.conflict ? alreadyQueued : enqueued).push(child.id);
  }
  return { enqueued, alreadyQueued };
}

// Every 5 minutes, one job per tick across all nodes (no leader needed).
// BLOODWORK_CRON lets the test tick every second.
export const bloodworkCron = durable.cron(process.env.BLOODWORK_CRON ?? "*/5 * * * *", () => pollBloodworkForAllOrgs(), { name: "bloodwork", tz: "UTC" });
