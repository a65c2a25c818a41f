-- A key shared by every node of this schema, for the small results that ride
-- the completion notification (notifyResults, src/db/carried-results.ts).
-- Any role that can connect to the database may NOTIFY on any channel, so an
-- awaiter takes a carried result only with a valid HMAC under this key, and
-- reads the row otherwise. Roles that cannot read this table neither carry
-- nor take carried results; they read rows as before.
create table :SCHEMA.notify_key (
  only_row boolean primary key default true check (only_row),
  key text not null
);
insert into :SCHEMA.notify_key (key) values (replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', ''));
