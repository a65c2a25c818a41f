// Cron entries declared at module level are discovered like tasks: a node
// that runs jobs loads, at start, every module the integrations listed as
// declaring them (its worker-side slice, which runs the `durable.cron(...)`
// statements and what they need, never the module's other top-level code),
// so each schedule ticks without the worker importing its module.
import { loadCronModules } from "../tasks/registry.js";

export async function loadDeclaredCron(report: (file: string, error: unknown) => void): Promise<void> {
  for (const { file, error } of await loadCronModules()) report(file, error);
}
