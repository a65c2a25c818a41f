export { durable, type Durable } from "./durable.js";
export { DurableInstance } from "./instance.js";
export { Discard, Cancel, Snooze } from "./outcomes.js";
export {
  DurableError, InvalidOptionError, UntransformedCallError, NotSerializableError, DuplicateTaskError, ConfigError, MissingDependencyError,
  SchemaNewerError, NotStartedError, JobFailedError, JobCancelledError, AwaitTimeoutError, JobNotFoundError,
  JobTimeoutError, ResultTooLargeError, UnknownTaskError, BadJobRowError, NondeterminismError, AttemptEndedError, type RecordedError,
} from "./errors.js";
export { __durableTask, __durableSliceTask, __durableModules, isTaskStub, type TaskStub } from "./tasks/registry.js";
export type { TaskDefinition, TaskMetadata, CallerLocation, TaskKind } from "./contract/index.js";
export type { AsyncOptions, UniqueOption, BackoffOption } from "./config/options.js";
export type { StartOptions, BodyHashPolicy } from "./config/start.js";
export type { JobHandle } from "./enqueue/index.js";
export type { JobContext, ProgressUpdate } from "./context.js";
export type { AwaitOptions } from "./await/index.js";
export type { Logger, DurableEvents, EventName, JobEventInfo } from "./events/index.js";
export { parseDuration } from "./config/duration.js";
export {
  isEncrypted, revealStored, redacted, resolveEncryption, createCodec, DecryptionError,
  type EncryptionOptions, type KeyRing, type EncryptedEnvelope,
} from "./serialize/encryption.js";
export { sealPlaces, type SealPlace } from "./serialize/codec.js";
// Issue 4: uniqueness, cron, queue/job control, reports, pruning.
export type { CronOptions, ScheduleControls, ScheduleInfo } from "./cron/index.js";
export type { QueueControls, QueueSettings, QueueInfo, RateLimit, Retention, JobsApi } from "./control/index.js";
export {
  JOB_STATES, STATE_GROUPS, type JobFilter, type JobState, type StateGroup, type TimeRange, type JobRecord, type JobPage, type PageOptions,
  type CsvColumn, type MetaReportOptions, type MetaReportRow,
} from "./reports/index.js";
export { DEFAULT_RETENTION_MS, type PruneOptions, type PruneResult } from "./prune/index.js";
