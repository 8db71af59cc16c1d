-- Servers deliveries have given up on (Mastodon's unavailable_domains): after failures on
-- seven different days nothing more is sent until the server is heard from again.
CREATE TABLE IF NOT EXISTS unavailable_domains (
  id bigserial PRIMARY KEY,
  domain character varying NOT NULL DEFAULT '',
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS index_unavailable_domains_on_domain ON unavailable_domains (domain);

-- Servers the admin blocks (Mastodon's domain_blocks). severity: 0 silence, 1 suspend, 2 noop.
CREATE TABLE IF NOT EXISTS domain_blocks (
  id bigserial PRIMARY KEY,
  domain character varying NOT NULL DEFAULT '',
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  severity integer DEFAULT 0,
  reject_media boolean NOT NULL DEFAULT false,
  reject_reports boolean NOT NULL DEFAULT false,
  private_comment text,
  public_comment text,
  obfuscate boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX IF NOT EXISTS index_domain_blocks_on_domain ON domain_blocks (domain);
