DROP TABLE IF EXISTS ferrodon_schedules, ferrodon_jobs;
