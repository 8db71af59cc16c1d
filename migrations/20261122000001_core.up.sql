-- Core tables with Mastodon's names, columns and types (db/schema.rb), so that an
-- existing Mastodon database can be adopted. Timestamps are UTC `timestamp without time zone`.

-- Snowflake ids, the same algorithm as Mastodon's timestamp_id(): milliseconds << 16 | a
-- per-table sequence offset by a secret salt baked in when the function is created.
DO $install$
DECLARE salt text := md5(random()::text || clock_timestamp()::text);
BEGIN
  EXECUTE format($fn$
    CREATE OR REPLACE FUNCTION timestamp_id(table_name text) RETURNS bigint AS $body$
    DECLARE time_part bigint; sequence_base bigint; tail bigint;
    BEGIN
      time_part := ((date_part('epoch', now()) * 1000))::bigint << 16;
      sequence_base := ('x' || substr(md5(table_name || %L || time_part::text), 1, 4))::bit(16)::bigint;
      tail := (sequence_base + nextval(table_name || '_id_seq')) & 65535;
      RETURN time_part | tail;
    END $body$ LANGUAGE plpgsql VOLATILE;
  $fn$, salt);
END $install$;

CREATE SEQUENCE accounts_id_seq;
CREATE TABLE accounts (
  id bigint PRIMARY KEY DEFAULT timestamp_id('accounts'),
  username character varying NOT NULL DEFAULT '',
  domain character varying,
  private_key text,
  public_key text NOT NULL DEFAULT '',
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  note text NOT NULL DEFAULT '',
  display_name character varying NOT NULL DEFAULT '',
  uri character varying NOT NULL DEFAULT '',
  url character varying,
  avatar_file_name character varying,
  avatar_content_type character varying,
  avatar_file_size integer,
  avatar_updated_at timestamp without time zone,
  header_file_name character varying,
  header_content_type character varying,
  header_file_size integer,
  header_updated_at timestamp without time zone,
  avatar_remote_url character varying,
  locked boolean NOT NULL DEFAULT false,
  header_remote_url character varying NOT NULL DEFAULT '',
  last_webfingered_at timestamp without time zone,
  inbox_url character varying NOT NULL DEFAULT '',
  outbox_url character varying NOT NULL DEFAULT '',
  shared_inbox_url character varying NOT NULL DEFAULT '',
  followers_url character varying NOT NULL DEFAULT '',
  following_url character varying NOT NULL DEFAULT '',
  protocol integer NOT NULL DEFAULT 0,
  memorial boolean NOT NULL DEFAULT false,
  moved_to_account_id bigint,
  featured_collection_url character varying,
  fields jsonb,
  actor_type character varying,
  discoverable boolean,
  also_known_as character varying[],
  silenced_at timestamp without time zone,
  suspended_at timestamp without time zone,
  hide_collections boolean,
  avatar_storage_schema_version integer,
  header_storage_schema_version integer,
  sensitized_at timestamp without time zone,
  suspension_origin integer,
  trendable boolean,
  reviewed_at timestamp without time zone,
  requested_review_at timestamp without time zone,
  indexable boolean NOT NULL DEFAULT false,
  attribution_domains character varying[] DEFAULT '{}',
  id_scheme integer DEFAULT 1,
  avatar_description character varying NOT NULL DEFAULT '',
  header_description character varying NOT NULL DEFAULT '',
  feature_approval_policy integer NOT NULL DEFAULT 0,
  show_featured boolean NOT NULL DEFAULT true,
  show_media boolean NOT NULL DEFAULT true,
  show_media_replies boolean NOT NULL DEFAULT true,
  requested_deletion_at timestamp without time zone,
  collections_url character varying
);
CREATE UNIQUE INDEX index_accounts_on_username_and_domain_lower
  ON accounts (lower((username)::text), COALESCE(lower((domain)::text), ''::text));
CREATE INDEX index_accounts_on_uri ON accounts (uri);
CREATE INDEX index_accounts_on_moved_to_account_id ON accounts (moved_to_account_id) WHERE moved_to_account_id IS NOT NULL;

CREATE TABLE oauth_applications (
  id bigserial PRIMARY KEY,
  name character varying NOT NULL,
  uid character varying NOT NULL,
  secret character varying NOT NULL,
  redirect_uri text NOT NULL,
  scopes character varying NOT NULL DEFAULT '',
  created_at timestamp without time zone,
  updated_at timestamp without time zone,
  superapp boolean NOT NULL DEFAULT false,
  website character varying,
  owner_type character varying,
  owner_id bigint,
  confidential boolean NOT NULL DEFAULT true
);
CREATE UNIQUE INDEX index_oauth_applications_on_uid ON oauth_applications (uid);
CREATE INDEX index_oauth_applications_on_owner_id_and_owner_type ON oauth_applications (owner_id, owner_type);

CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email character varying NOT NULL DEFAULT '',
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  encrypted_password character varying NOT NULL DEFAULT '',
  reset_password_token character varying,
  reset_password_sent_at timestamp without time zone,
  sign_in_count integer NOT NULL DEFAULT 0,
  current_sign_in_at timestamp without time zone,
  last_sign_in_at timestamp without time zone,
  confirmation_token character varying,
  confirmed_at timestamp without time zone,
  confirmation_sent_at timestamp without time zone,
  unconfirmed_email character varying,
  locale character varying,
  consumed_timestep integer,
  otp_required_for_login boolean NOT NULL DEFAULT false,
  last_emailed_at timestamp without time zone,
  otp_backup_codes character varying[],
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  disabled boolean NOT NULL DEFAULT false,
  invite_id bigint,
  chosen_languages character varying[],
  created_by_application_id bigint REFERENCES oauth_applications (id) ON DELETE SET NULL,
  approved boolean NOT NULL DEFAULT true,
  sign_in_token character varying,
  sign_in_token_sent_at timestamp without time zone,
  webauthn_id character varying,
  sign_up_ip inet,
  skip_sign_in_token boolean,
  role_id bigint,
  settings text,
  time_zone character varying,
  otp_secret character varying,
  age_verified_at timestamp without time zone,
  require_tos_interstitial boolean NOT NULL DEFAULT false
);
CREATE INDEX index_users_on_account_id ON users (account_id);
CREATE UNIQUE INDEX index_users_on_confirmation_token ON users (confirmation_token);
CREATE UNIQUE INDEX index_users_on_email ON users (email);
CREATE UNIQUE INDEX index_users_on_reset_password_token ON users (reset_password_token) WHERE reset_password_token IS NOT NULL;

CREATE TABLE oauth_access_grants (
  id bigserial PRIMARY KEY,
  token character varying NOT NULL,
  expires_in integer NOT NULL,
  redirect_uri text NOT NULL,
  created_at timestamp without time zone NOT NULL,
  revoked_at timestamp without time zone,
  scopes character varying,
  application_id bigint NOT NULL REFERENCES oauth_applications (id) ON DELETE CASCADE,
  resource_owner_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  code_challenge character varying,
  code_challenge_method character varying
);
CREATE UNIQUE INDEX index_oauth_access_grants_on_token ON oauth_access_grants (token);

CREATE TABLE oauth_access_tokens (
  id bigserial PRIMARY KEY,
  token character varying NOT NULL,
  refresh_token character varying,
  expires_in integer,
  revoked_at timestamp without time zone,
  created_at timestamp without time zone NOT NULL,
  scopes character varying,
  application_id bigint REFERENCES oauth_applications (id) ON DELETE CASCADE,
  resource_owner_id bigint REFERENCES users (id) ON DELETE CASCADE,
  last_used_at timestamp without time zone,
  last_used_ip inet
);
CREATE UNIQUE INDEX index_oauth_access_tokens_on_token ON oauth_access_tokens (token);
CREATE UNIQUE INDEX index_oauth_access_tokens_on_refresh_token ON oauth_access_tokens (refresh_token) WHERE refresh_token IS NOT NULL;
CREATE INDEX index_oauth_access_tokens_on_resource_owner_id ON oauth_access_tokens (resource_owner_id) WHERE resource_owner_id IS NOT NULL;

CREATE TABLE conversations (
  id bigserial PRIMARY KEY,
  uri character varying,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  parent_status_id bigint,
  parent_account_id bigint
);
CREATE UNIQUE INDEX index_conversations_on_uri ON conversations (uri) WHERE uri IS NOT NULL;
CREATE UNIQUE INDEX index_conversations_on_parent_status_id ON conversations (parent_status_id) WHERE parent_status_id IS NOT NULL;

CREATE SEQUENCE statuses_id_seq;
CREATE TABLE statuses (
  id bigint PRIMARY KEY DEFAULT timestamp_id('statuses'),
  uri character varying,
  text text NOT NULL DEFAULT '',
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  in_reply_to_id bigint,
  reblog_of_id bigint,
  url character varying,
  sensitive boolean NOT NULL DEFAULT false,
  visibility integer NOT NULL DEFAULT 0,
  spoiler_text text NOT NULL DEFAULT '',
  reply boolean NOT NULL DEFAULT false,
  language character varying,
  conversation_id bigint,
  local boolean,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  application_id bigint,
  in_reply_to_account_id bigint,
  poll_id bigint,
  deleted_at timestamp without time zone,
  edited_at timestamp without time zone,
  trendable boolean,
  ordered_media_attachment_ids bigint[],
  fetched_replies_at timestamp without time zone,
  quote_approval_policy integer NOT NULL DEFAULT 0
);
CREATE INDEX index_statuses_20190820 ON statuses (account_id, id DESC, visibility, updated_at) WHERE deleted_at IS NULL;
CREATE INDEX index_statuses_local_20190824 ON statuses (id DESC, account_id)
  WHERE (local OR uri IS NULL) AND deleted_at IS NULL AND visibility = 0 AND reblog_of_id IS NULL
    AND (NOT reply OR in_reply_to_account_id = account_id);
CREATE INDEX index_statuses_public_20250129 ON statuses (id DESC, language, account_id)
  WHERE deleted_at IS NULL AND visibility = 0 AND reblog_of_id IS NULL
    AND (NOT reply OR in_reply_to_account_id = account_id);
CREATE INDEX index_statuses_on_in_reply_to_id ON statuses (in_reply_to_id) WHERE in_reply_to_id IS NOT NULL;
CREATE INDEX index_statuses_on_reblog_of_id_and_account_id ON statuses (reblog_of_id, account_id);
CREATE INDEX index_statuses_on_conversation_id ON statuses (conversation_id);
CREATE UNIQUE INDEX index_statuses_on_uri ON statuses (uri) WHERE uri IS NOT NULL;

CREATE TABLE status_edits (
  id bigserial PRIMARY KEY,
  status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
  account_id bigint,
  text text NOT NULL DEFAULT '',
  spoiler_text text NOT NULL DEFAULT '',
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  ordered_media_attachment_ids bigint[],
  media_descriptions text[],
  poll_options character varying[],
  sensitive boolean
);
CREATE INDEX index_status_edits_on_status_id ON status_edits (status_id);

CREATE TABLE status_stats (
  id bigserial PRIMARY KEY,
  status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
  replies_count bigint NOT NULL DEFAULT 0,
  reblogs_count bigint NOT NULL DEFAULT 0,
  favourites_count bigint NOT NULL DEFAULT 0,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  untrusted_favourites_count bigint,
  untrusted_reblogs_count bigint,
  quotes_count bigint NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX index_status_stats_on_status_id ON status_stats (status_id);

CREATE TABLE account_stats (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  statuses_count bigint NOT NULL DEFAULT 0,
  following_count bigint NOT NULL DEFAULT 0,
  followers_count bigint NOT NULL DEFAULT 0,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  last_status_at timestamp without time zone
);
CREATE UNIQUE INDEX index_account_stats_on_account_id ON account_stats (account_id);

CREATE TABLE follows (
  id bigserial PRIMARY KEY,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  show_reblogs boolean NOT NULL DEFAULT true,
  uri character varying,
  notify boolean NOT NULL DEFAULT false,
  languages character varying[]
);
CREATE UNIQUE INDEX index_follows_on_account_id_and_target_account_id ON follows (account_id, target_account_id);
CREATE INDEX index_follows_on_target_account_id ON follows (target_account_id);

CREATE TABLE follow_requests (
  id bigserial PRIMARY KEY,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  show_reblogs boolean NOT NULL DEFAULT true,
  uri character varying,
  notify boolean NOT NULL DEFAULT false,
  languages character varying[]
);
CREATE UNIQUE INDEX index_follow_requests_on_account_id_and_target_account_id ON follow_requests (account_id, target_account_id);

CREATE TABLE favourites (
  id bigserial PRIMARY KEY,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX index_favourites_on_account_id_and_status_id ON favourites (account_id, status_id);
CREATE INDEX index_favourites_on_account_id_and_id ON favourites (account_id, id);
CREATE INDEX index_favourites_on_status_id ON favourites (status_id);

CREATE TABLE bookmarks (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL
);
CREATE UNIQUE INDEX index_bookmarks_on_account_id_and_status_id ON bookmarks (account_id, status_id);
CREATE INDEX index_bookmarks_on_status_id ON bookmarks (status_id);

CREATE TABLE mentions (
  id bigserial PRIMARY KEY,
  status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  silent boolean NOT NULL DEFAULT false
);
CREATE UNIQUE INDEX index_mentions_on_account_id_and_status_id ON mentions (account_id, status_id);
CREATE INDEX index_mentions_on_status_id ON mentions (status_id);

CREATE TABLE status_pins (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
  created_at timestamp without time zone NOT NULL DEFAULT now(),
  updated_at timestamp without time zone NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX index_status_pins_on_account_id_and_status_id ON status_pins (account_id, status_id);

CREATE TABLE notifications (
  id bigserial PRIMARY KEY,
  activity_id bigint NOT NULL,
  activity_type character varying NOT NULL,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  from_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  type character varying,
  filtered boolean NOT NULL DEFAULT false,
  group_key character varying
);
CREATE INDEX index_notifications_on_account_id_and_id_and_type ON notifications (account_id, id DESC, type);
CREATE INDEX index_notifications_on_filtered ON notifications (account_id, id DESC, type) WHERE filtered = false;
CREATE INDEX index_notifications_on_account_id_and_group_key ON notifications (account_id, group_key) WHERE group_key IS NOT NULL;
CREATE INDEX index_notifications_on_activity_id_and_activity_type ON notifications (activity_id, activity_type);

CREATE TABLE blocks (
  id bigserial PRIMARY KEY,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  uri character varying
);
CREATE UNIQUE INDEX index_blocks_on_account_id_and_target_account_id ON blocks (account_id, target_account_id);
CREATE INDEX index_blocks_on_target_account_id ON blocks (target_account_id);

CREATE TABLE mutes (
  id bigserial PRIMARY KEY,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  hide_notifications boolean NOT NULL DEFAULT true,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  target_account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  expires_at timestamp without time zone
);
CREATE UNIQUE INDEX index_mutes_on_account_id_and_target_account_id ON mutes (account_id, target_account_id);
CREATE INDEX index_mutes_on_target_account_id ON mutes (target_account_id);

CREATE TABLE account_domain_blocks (
  id bigserial PRIMARY KEY,
  domain character varying NOT NULL,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX index_account_domain_blocks_on_account_id_and_domain ON account_domain_blocks (account_id, domain);

CREATE TABLE tags (
  id bigserial PRIMARY KEY,
  name character varying NOT NULL DEFAULT '',
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  usable boolean,
  trendable boolean,
  listable boolean,
  reviewed_at timestamp without time zone,
  requested_review_at timestamp without time zone,
  last_status_at timestamp without time zone,
  max_score double precision,
  max_score_at timestamp without time zone,
  display_name character varying
);
CREATE UNIQUE INDEX index_tags_on_name_lower_btree ON tags (lower((name)::text) text_pattern_ops);

CREATE TABLE statuses_tags (
  status_id bigint NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
  tag_id bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  PRIMARY KEY (tag_id, status_id)
);
CREATE INDEX index_statuses_tags_on_status_id ON statuses_tags (status_id);

CREATE TABLE tag_follows (
  id bigserial PRIMARY KEY,
  tag_id bigint NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL
);
CREATE UNIQUE INDEX index_tag_follows_on_account_id_and_tag_id ON tag_follows (account_id, tag_id);

CREATE TABLE markers (
  id bigserial PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  timeline character varying NOT NULL DEFAULT '',
  last_read_id bigint NOT NULL DEFAULT 0,
  lock_version integer NOT NULL DEFAULT 0,
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL
);
CREATE UNIQUE INDEX index_markers_on_user_id_and_timeline ON markers (user_id, timeline);

CREATE TABLE lists (
  id bigserial PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  title character varying NOT NULL DEFAULT '',
  created_at timestamp without time zone NOT NULL,
  updated_at timestamp without time zone NOT NULL,
  replies_policy integer NOT NULL DEFAULT 0,
  exclusive boolean NOT NULL DEFAULT false
);
CREATE INDEX index_lists_on_account_id ON lists (account_id);

CREATE TABLE list_accounts (
  id bigserial PRIMARY KEY,
  list_id bigint NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
  account_id bigint NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
  follow_id bigint REFERENCES follows (id) ON DELETE CASCADE,
  follow_request_id bigint REFERENCES follow_requests (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX index_list_accounts_on_account_id_and_list_id ON list_accounts (account_id, list_id);
CREATE INDEX index_list_accounts_on_list_id_and_account_id ON list_accounts (list_id, account_id);
