-- Every minute, suspensions past their 30 days have their accounts' data deleted.
INSERT INTO ferrodon_schedules (name, every_seconds, next_run_at)
VALUES ('suspended_accounts_deletion', 60, now() + interval '1 minute')
ON CONFLICT (name) DO NOTHING;
