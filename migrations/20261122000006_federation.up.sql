-- Servers deliveries have given up on (Mastodon's unavailable_domains): after failures on
-- seven different days nothing more is sent until the server is heard from again.
CREATE TABLE IF NOT EXISTS unavailable_domains (
  id bigserial PRIMARY KEY,
  domain character varying NOT NULL DEFAULT '',
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS index_unavailable_domains_on_domain ON unavailable_domains (domain);
