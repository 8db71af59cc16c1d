-- Polls and their votes, with Mastodon's tables and columns. `cached_tallies` holds the
-- votes per option (for remote polls, as their server last reported them);
-- `voters_count` is set for multiple-choice polls, where votes and voters differ.
CREATE TABLE IF NOT EXISTS polls (
  id bigserial PRIMARY KEY,
  account_id bigint REFERENCES accounts (id) ON DELETE CASCADE,
  status_id bigint REFERENCES statuses (id) ON DELETE CASCADE,
  expires_at timestamp without time zone,
  options character varying[] NOT NULL DEFAULT '{}',
  cached_tallies bigint[] NOT NULL DEFAULT '{}',
  multiple boolean NOT NULL DEFAULT false,
  hide_totals boolean NOT NULL DEFAULT false,
  votes_count bigint NOT NULL DEFAULT 0,
  last_fetched_at timestamp without time zone,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  lock_version integer NOT NULL DEFAULT 0,
  voters_count bigint
);
CREATE INDEX IF NOT EXISTS index_polls_on_account_id ON polls (account_id);
CREATE INDEX IF NOT EXISTS index_polls_on_status_id ON polls (status_id);

CREATE TABLE IF NOT EXISTS poll_votes (
  id bigserial PRIMARY KEY,
  account_id bigint REFERENCES accounts (id) ON DELETE CASCADE,
  poll_id bigint REFERENCES polls (id) ON DELETE CASCADE,
  choice integer NOT NULL DEFAULT 0,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  uri character varying
);
CREATE INDEX IF NOT EXISTS index_poll_votes_on_account_id ON poll_votes (account_id);
CREATE INDEX IF NOT EXISTS index_poll_votes_on_poll_id ON poll_votes (poll_id);
