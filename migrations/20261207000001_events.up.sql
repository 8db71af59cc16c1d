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

INSERT INTO ferrodon_schedules (name, every_seconds, next_run_at) VALUES
  ('idempotency_keys_vacuum', 3600, now() + interval '1 hour');

-- Jobs are now stored by family (the `kind` column) and type (the payload's `type`):
-- queued jobs of earlier versions are renamed so that they still run.
UPDATE ferrodon_jobs SET kind = 'Feeds', payload = payload || '{"type": "Vacuum"}' WHERE kind = 'VacuumFeeds';
UPDATE ferrodon_jobs SET kind = 'Feeds'
 WHERE kind IN ('Distribute', 'DistributeMore', 'MergeIntoHome', 'UnmergeFromHome', 'ClearFromHome',
                'RemoveFromFeeds', 'RegenerateHome', 'UnmergeTagFromHome', 'RegenerateList');
UPDATE ferrodon_jobs SET kind = 'Federation', payload = payload || '{"type": "PublishStatus"}'
 WHERE kind = 'DistributeStatus';
UPDATE ferrodon_jobs SET kind = 'Federation'
 WHERE kind IN ('Deliver', 'FetchParent', 'FetchReplies', 'MoveFollowers', 'PurgeAccount');
UPDATE ferrodon_jobs SET kind = 'Ingress', payload = payload || '{"type": "Process"}' WHERE kind = 'Ingress';
UPDATE ferrodon_jobs SET kind = 'Mail', payload = (payload - 'mail') || jsonb_build_object('type', payload->>'mail')
 WHERE kind = 'Mail';
UPDATE ferrodon_jobs SET kind = 'Media', payload = payload || '{"type": "Process"}' WHERE kind = 'ProcessMedia';
UPDATE ferrodon_jobs SET kind = 'Media', payload = payload || '{"type": "FetchRemote"}' WHERE kind = 'FetchRemoteMedia';
UPDATE ferrodon_jobs SET kind = 'Media' WHERE kind = 'FetchProfileImages';
UPDATE ferrodon_jobs SET kind = 'Domain', payload = payload || '{"type": "EndPoll"}' WHERE kind = 'PollEnded';
UPDATE ferrodon_jobs SET kind = 'Search', payload = payload || '{"type": "Index"}' WHERE kind = 'SearchIndex';
