-- ferrodon's own tables and indexes. Everything here is an addition that a Mastodon
-- database can carry without Mastodon noticing: `ferrodon_` tables, and indexes named
-- `ferrodon_…` on Mastodon's tables. `ferrodon db migrate` runs this on adopted databases too.

-- One row per job. Workers claim rows with FOR UPDATE SKIP LOCKED and hold a lease
-- (locked_until) that they extend while the job runs; a job whose worker died is claimable
-- again once its lease runs out. Jobs out of attempts stay here with dead_at set.
CREATE TABLE ferrodon_jobs (
  id bigserial PRIMARY KEY,
  queue text NOT NULL,
  priority integer NOT NULL DEFAULT 0,
  kind text NOT NULL,
  payload jsonb NOT NULL,
  run_at timestamp with time zone NOT NULL DEFAULT now(),
  attempts integer NOT NULL DEFAULT 0,
  max_attempts integer NOT NULL DEFAULT 5,
  locked_until timestamp with time zone,
  locked_by text,
  last_error text,
  failed_at timestamp with time zone,
  dead_at timestamp with time zone,
  created_at timestamp with time zone NOT NULL DEFAULT now()
);
CREATE INDEX index_ferrodon_jobs_ready ON ferrodon_jobs (queue, priority DESC, run_at, id) WHERE dead_at IS NULL;
CREATE INDEX index_ferrodon_jobs_dead ON ferrodon_jobs (queue, dead_at) WHERE dead_at IS NOT NULL;

-- Periodic jobs: whichever scheduler process updates a row first enqueues its job.
CREATE TABLE ferrodon_schedules (
  name text PRIMARY KEY,
  every_seconds integer NOT NULL,
  next_run_at timestamp with time zone NOT NULL,
  last_run_at timestamp with time zone
);
INSERT INTO ferrodon_schedules (name, every_seconds, next_run_at) VALUES
  ('feeds_vacuum', 86400, now() + interval '1 hour'),
  ('idempotency_keys_vacuum', 3600, now() + interval '1 hour');

-- Idempotency-Key of POST /api/v1/statuses, per account, kept an hour as Mastodon keeps it
-- (in Redis there). A key is reserved in the transaction that writes the status, so
-- concurrent requests with one key give one status.
CREATE TABLE ferrodon_idempotency_keys (
  account_id bigint NOT NULL,
  key text NOT NULL,
  status_id bigint,
  created_at timestamp with time zone NOT NULL DEFAULT now(),
  PRIMARY KEY (account_id, key)
);
CREATE INDEX index_ferrodon_idempotency_keys_on_created_at ON ferrodon_idempotency_keys (created_at);

-- Fan-out walks an account's followers in id order (keyset pagination), which Mastodon's
-- (target_account_id, account_id) index cannot serve without sorting every follower.
CREATE INDEX ferrodon_follows_on_target_account_id_and_id ON follows (target_account_id, id);

-- The searchable text of statuses (what Mastodon keeps in Elasticsearch).
CREATE INDEX ferrodon_statuses_full_text ON statuses USING gin (to_tsvector('simple', spoiler_text || ' ' || text))
  WHERE deleted_at IS NULL AND reblog_of_id IS NULL;

-- What `ferrodon db migrate` found and did when it took over a database Mastodon made.
CREATE TABLE ferrodon_adoptions (
  id bigserial PRIMARY KEY,
  mastodon_version text NOT NULL,
  schema_version text NOT NULL,
  changes text[] NOT NULL,
  adopted_at timestamp with time zone NOT NULL DEFAULT now()
);
