-- The conflict check of lock_unique_conflicts (migration 0011) is estimated
-- at the cost of one index probe per key on both partitions: for a batch of
-- 1,000 keys past PostgreSQL's jit_above_cost once the tables hold some tens
-- of thousands of unique jobs. Servers built with LLVM (the Debian and
-- Ubuntu packages, most clouds) then compile it for every batch: 24 ms of
-- JIT for a 5 ms query, and a unique bulk insert slower the more jobs there
-- are (36k → 24k jobs/s over 30,000 rows on PostgreSQL 15). JIT pays off for
-- long analytic scans, not for this.
alter function :SCHEMA.lock_unique_conflicts(text[], int[], bigint[], text[], text) set jit = off;
