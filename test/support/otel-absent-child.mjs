// Runs one job end to end in a process where @opentelemetry/api cannot be found.
import { DurableInstance } from "../../dist/src/instance.js";
import { telemetryReady, captureTrace } from "../../dist/src/telemetry/index.js";
import * as tasks from "./tasks.mjs";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const d = new DurableInstance({ database: process.env.DURABLE_TEST_DATABASE_URL, schema: process.env.TEST_SCHEMA, logger: quiet, handleSignals: false });
await d.start();
const job = await d.async(tasks.add, { a: 20, b: 22 });
const result = await d.await(job, { timeout: "10s" });
const { rows } = await d.pool.query(`select trace from "${process.env.TEST_SCHEMA}".jobs where id = $1`, [job.id]);
await d.stop();
process.stdout.write(JSON.stringify({ loaded: await telemetryReady, capture: captureTrace(), result, trace: rows[0].trace }));
