DELETE FROM ferrodon_schedules WHERE name = 'idempotency_keys_vacuum';
DROP TABLE IF EXISTS ferrodon_idempotency_keys;
