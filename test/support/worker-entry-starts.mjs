// A worker entry as README's src/worker.ts is: it starts durable itself. The
// `durable worker` flags must still apply (test/cli/operator-errors.test.ts).
import { durable } from "../../dist/src/index.js";
import "./dashboard-tasks.mjs";

await durable.start({ nodeType: "worker" });
