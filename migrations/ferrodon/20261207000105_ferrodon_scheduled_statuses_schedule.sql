-- Every minute, scheduled posts that are due and have no job of their own (those adopted from a
-- Mastodon database, whose Sidekiq jobs are not carried over) are posted.
INSERT INTO ferrodon_schedules (name, every_seconds, next_run_at)
VALUES ('scheduled_statuses', 60, now() + interval '1 minute')
ON CONFLICT (name) DO NOTHING;
