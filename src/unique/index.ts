// Per-call uniqueness: "at most one job per key in any window".
export { normalizeUnique, DEFAULT_UNIQUE_PERIOD_MS, DEFAULT_UNIQUE_STATES, type NormalizedUnique, type UniqueBy, type UniqueReplaceField } from "./options.js";
export { uniqueKey, stableJson, type UniqueSource } from "./key.js";
export { insertUnique, type UniqueCandidate, type InsertResult, type InsertCheckedRows, type UniqueCheck, type CheckedRows } from "./insert.js";
