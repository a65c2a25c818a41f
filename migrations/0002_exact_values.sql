-- Captures and results keep their exact text. jsonb rejects NUL (\u0000)
-- and lone surrogates (a string cut inside an emoji), and it reorders object
-- keys; json stores the text the runtime wrote, which JSON.parse turns back
-- into the same value. Neither column is indexed or queried by content.
-- Meta, errors and progress stay jsonb: meta is queried by containment
-- (and the runtime refuses NUL and lone surrogates in it at the call);
-- error and progress texts are written in a storable form.
--
-- On an existing database this rewrites the jobs table once (an ACCESS
-- EXCLUSIVE lock for the duration): rows written before keep their values,
-- in jsonb's key order.
alter table :SCHEMA.jobs
  alter column captures type json using captures::json,
  alter column result type json using result::json;
