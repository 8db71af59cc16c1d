-- ferrodon-only index on a Mastodon table: fan-out walks an account's followers in id
-- order (keyset pagination), which Mastodon's (target_account_id) index cannot serve
-- without sorting every follower on every batch.
CREATE INDEX index_follows_on_target_account_id_and_id ON follows (target_account_id, id);
