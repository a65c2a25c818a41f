// SQL of the unique insert path besides the insert itself (which locks and
// checks the keys: src/enqueue/queries.ts, migrations/0011).

/**
 * unique.replace: overwrite the chosen fields of a conflicting job that has
 * not started yet. $2..$6 and $12 say which fields to replace. Captures come
 * with the body hash of the call that wrote them ($14) and the row key they
 * are sealed for ($15): the newest call's values run with the code that took
 * them (debounce).
 */
export const replaceFields = (quotedSchema: string) => `
update ${quotedSchema}.jobs_active j set
  run_at = case when $2 then coalesce($7::timestamptz, now()) else j.run_at end,
  state = case when $2 then (case when coalesce($7::timestamptz, now()) > now() then 'scheduled' else 'available' end) else j.state end,
  meta = case when $3 then $8::jsonb else j.meta end,
  priority = case when $4 then $9::smallint else j.priority end,
  tags = case when $5 then array(select jsonb_array_elements_text($10::jsonb)) else j.tags end,
  max_attempts = case when $6 then greatest($11::int, j.attempt, 1) else j.max_attempts end,
  captures = case when $12 then $13::json else j.captures end,
  body_hash = case when $12 then $14::text else j.body_hash end,
  -- Sealed captures are bound to the row key they were sealed for (src/serialize/codec.ts): it comes along.
  row_key = case when $12 then $15::uuid else j.row_key end
where j.id = $1 and j.state in ('available', 'scheduled')
returning j.id::text, j.state`;

export const NO_TRANSACTION = "25P01";
export const savepoint = "savepoint durable_unique";
export const releaseSavepoint = "release savepoint durable_unique";
export const rollbackToSavepoint = "rollback to savepoint durable_unique";
