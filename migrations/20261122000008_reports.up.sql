-- Reports of accounts and statuses to the moderators, with Mastodon's table. Reports come
-- from local users (POST /api/v1/reports) and from other servers (ActivityPub Flag).
-- category: 0 other, 1000 spam, 1500 legal, 2000 violation.
CREATE TABLE IF NOT EXISTS reports (
  id bigserial PRIMARY KEY,
  status_ids bigint[] NOT NULL DEFAULT '{}',
  comment text NOT NULL DEFAULT '',
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  action_taken_by_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
  target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  assigned_account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
  uri character varying,
  forwarded boolean,
  category integer NOT NULL DEFAULT 0,
  action_taken_at timestamp without time zone,
  rule_ids bigint[],
  application_id bigint
);
CREATE INDEX IF NOT EXISTS index_reports_on_account_id ON reports (account_id);
CREATE INDEX IF NOT EXISTS index_reports_on_target_account_id ON reports (target_account_id);
