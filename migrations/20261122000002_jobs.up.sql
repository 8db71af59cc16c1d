-- ferrodon-only: the job queue and the periodic-job schedule.

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
  ('feeds_vacuum', 86400, now() + interval '1 hour');
