// Cron: at most one job per (entry, tick) across all nodes, no leader.
export { cronSpec, type CronOptions, type CronSpec } from "./entry.js";
export { CronScheduler, type CronEntry, type SchedulerDeps } from "./scheduler.js";
export { ScheduleControls, type ScheduleInfo } from "./schedules.js";
export { jobRecorder, type JobRecorder, type RecordedJob } from "./recorded-job.js";
