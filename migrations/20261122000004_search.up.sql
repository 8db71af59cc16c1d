-- Full-text search on PostgreSQL. The account index is Mastodon's own (`search_index`),
-- so a database adopted from Mastodon already has it.
CREATE INDEX IF NOT EXISTS search_index ON accounts USING gin (
  (setweight(to_tsvector('simple', display_name), 'A')
   || setweight(to_tsvector('simple', username), 'B')
   || setweight(to_tsvector('simple', COALESCE(domain, '')), 'C')));

-- ferrodon-only: the searchable text of statuses (what Mastodon keeps in Elasticsearch).
CREATE INDEX index_statuses_full_text ON statuses USING gin (to_tsvector('simple', spoiler_text || ' ' || text))
  WHERE deleted_at IS NULL AND reblog_of_id IS NULL;
