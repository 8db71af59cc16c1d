-- Media attachments, with Mastodon's columns (db/schema.rb), so an adopted database keeps its
-- media. `processing`: 0 queued, 1 in progress, 2 complete, 3 failed. `type`: 0 image,
-- 1 gifv, 2 video, 3 unknown, 4 audio.
CREATE SEQUENCE IF NOT EXISTS media_attachments_id_seq;
CREATE TABLE IF NOT EXISTS media_attachments (
  id bigint PRIMARY KEY DEFAULT timestamp_id('media_attachments'),
  status_id bigint REFERENCES statuses (id) ON DELETE SET NULL,
  file_file_name character varying,
  file_content_type character varying,
  file_file_size integer,
  file_updated_at timestamp without time zone,
  remote_url character varying NOT NULL DEFAULT '',
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  shortcode character varying,
  type integer NOT NULL DEFAULT 0,
  file_meta json,
  account_id bigint REFERENCES accounts (id) ON DELETE SET NULL,
  description text,
  scheduled_status_id bigint,
  blurhash character varying,
  processing integer,
  file_storage_schema_version integer,
  thumbnail_file_name character varying,
  thumbnail_content_type character varying,
  thumbnail_file_size integer,
  thumbnail_updated_at timestamp without time zone,
  thumbnail_remote_url character varying
);
CREATE INDEX IF NOT EXISTS index_media_attachments_on_account_id_and_status_id
  ON media_attachments (account_id, status_id DESC);
CREATE INDEX IF NOT EXISTS index_media_attachments_on_status_id ON media_attachments (status_id);
CREATE INDEX IF NOT EXISTS index_media_attachments_on_scheduled_status_id
  ON media_attachments (scheduled_status_id) WHERE scheduled_status_id IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS index_media_attachments_on_shortcode
  ON media_attachments (shortcode) WHERE shortcode IS NOT NULL;
