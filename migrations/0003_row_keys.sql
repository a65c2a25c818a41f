-- Encryption at rest binds each sealed value to its place (column and row),
-- so a ciphertext copied into another row fails authentication. Captures are
-- sealed at the call, before the insert gives the job an id: the call makes a
-- random row key, binds the captures to it and stores it here. Null when the
-- captures are not sealed (encryption off) and on rows written before.
-- Adding a nullable column without a default rewrites nothing.
alter table :SCHEMA.jobs add column row_key uuid;
