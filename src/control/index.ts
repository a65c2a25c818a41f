// Queue and job control: pause/resume/scale/configure queues, and
// cancel/retry/delete jobs by filter, from any process.
export { QueueControls, normalizeRateLimit, normalizeRetention, type QueueSettings, type QueueInfo, type RateLimit, type Retention } from "./queues.js";
export { cancelJobs, retryJobs, deleteJobs } from "./jobs.js";
export type { DurableTarget, TargetSource } from "./target.js";
export { createJobsApi, type JobsApi } from "./jobs-api.js";
