-- Mastodon 4.5's tables for account notes, endorsements, featured tags, muted conversations,
-- direct conversations, filters and dismissed suggestions, exactly as Mastodon creates them. On a
-- Mastodon database they are already there.

CREATE TABLE account_notes (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    target_account_id bigint NOT NULL,
    comment text NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE account_notes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE account_notes_id_seq OWNED BY account_notes.id;
ALTER TABLE ONLY account_notes ALTER COLUMN id SET DEFAULT nextval('account_notes_id_seq'::regclass);
ALTER TABLE ONLY account_notes
    ADD CONSTRAINT account_notes_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_account_notes_on_account_id_and_target_account_id ON account_notes USING btree (account_id, target_account_id);
CREATE INDEX index_account_notes_on_target_account_id ON account_notes USING btree (target_account_id);
ALTER TABLE ONLY account_notes
    ADD CONSTRAINT fk_rails_2801b48f1a FOREIGN KEY (target_account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE ONLY account_notes
    ADD CONSTRAINT fk_rails_4ee4503c69 FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
CREATE TABLE account_pins (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    target_account_id bigint NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE account_pins_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE account_pins_id_seq OWNED BY account_pins.id;
ALTER TABLE ONLY account_pins ALTER COLUMN id SET DEFAULT nextval('account_pins_id_seq'::regclass);
ALTER TABLE ONLY account_pins
    ADD CONSTRAINT account_pins_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_account_pins_on_account_id_and_target_account_id ON account_pins USING btree (account_id, target_account_id);
CREATE INDEX index_account_pins_on_target_account_id ON account_pins USING btree (target_account_id);
ALTER TABLE ONLY account_pins
    ADD CONSTRAINT fk_rails_a176e26c37 FOREIGN KEY (target_account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE ONLY account_pins
    ADD CONSTRAINT fk_rails_d44979e5dd FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
CREATE TABLE featured_tags (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    tag_id bigint NOT NULL,
    statuses_count bigint DEFAULT 0 NOT NULL,
    last_status_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    name character varying
);
CREATE SEQUENCE featured_tags_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE featured_tags_id_seq OWNED BY featured_tags.id;
ALTER TABLE ONLY featured_tags ALTER COLUMN id SET DEFAULT nextval('featured_tags_id_seq'::regclass);
ALTER TABLE ONLY featured_tags
    ADD CONSTRAINT featured_tags_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_featured_tags_on_account_id_and_tag_id ON featured_tags USING btree (account_id, tag_id);
CREATE INDEX index_featured_tags_on_tag_id ON featured_tags USING btree (tag_id);
ALTER TABLE ONLY featured_tags
    ADD CONSTRAINT fk_rails_174efcf15f FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE ONLY featured_tags
    ADD CONSTRAINT fk_rails_23a9055c7c FOREIGN KEY (tag_id) REFERENCES tags(id) ON DELETE CASCADE;
CREATE TABLE conversation_mutes (
    id bigint NOT NULL,
    conversation_id bigint NOT NULL,
    account_id bigint NOT NULL
);
CREATE SEQUENCE conversation_mutes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE conversation_mutes_id_seq OWNED BY conversation_mutes.id;
ALTER TABLE ONLY conversation_mutes ALTER COLUMN id SET DEFAULT nextval('conversation_mutes_id_seq'::regclass);
ALTER TABLE ONLY conversation_mutes
    ADD CONSTRAINT conversation_mutes_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_conversation_mutes_on_account_id_and_conversation_id ON conversation_mutes USING btree (account_id, conversation_id);
ALTER TABLE ONLY conversation_mutes
    ADD CONSTRAINT fk_225b4212bb FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE ONLY conversation_mutes
    ADD CONSTRAINT fk_rails_5ab139311f FOREIGN KEY (conversation_id) REFERENCES conversations(id) ON DELETE CASCADE;
CREATE TABLE account_conversations (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    conversation_id bigint NOT NULL,
    participant_account_ids bigint[] DEFAULT '{}'::bigint[] NOT NULL,
    status_ids bigint[] DEFAULT '{}'::bigint[] NOT NULL,
    last_status_id bigint,
    lock_version integer DEFAULT 0 NOT NULL,
    unread boolean DEFAULT false NOT NULL
);
CREATE SEQUENCE account_conversations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE account_conversations_id_seq OWNED BY account_conversations.id;
ALTER TABLE ONLY account_conversations ALTER COLUMN id SET DEFAULT nextval('account_conversations_id_seq'::regclass);
ALTER TABLE ONLY account_conversations
    ADD CONSTRAINT account_conversations_pkey PRIMARY KEY (id);
CREATE INDEX index_account_conversations_on_conversation_id ON account_conversations USING btree (conversation_id);
CREATE UNIQUE INDEX index_unique_conversations ON account_conversations USING btree (account_id, conversation_id, participant_account_ids);
ALTER TABLE ONLY account_conversations
    ADD CONSTRAINT fk_rails_1491654f9f FOREIGN KEY (conversation_id) REFERENCES conversations(id) ON DELETE CASCADE;
ALTER TABLE ONLY account_conversations
    ADD CONSTRAINT fk_rails_6f5278b6e9 FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
CREATE TABLE custom_filters (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    expires_at timestamp without time zone,
    phrase text DEFAULT ''::text NOT NULL,
    context character varying[] DEFAULT '{}'::character varying[] NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    action integer DEFAULT 0 NOT NULL
);
CREATE SEQUENCE custom_filters_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE custom_filters_id_seq OWNED BY custom_filters.id;
ALTER TABLE ONLY custom_filters ALTER COLUMN id SET DEFAULT nextval('custom_filters_id_seq'::regclass);
ALTER TABLE ONLY custom_filters
    ADD CONSTRAINT custom_filters_pkey PRIMARY KEY (id);
CREATE INDEX index_custom_filters_on_account_id ON custom_filters USING btree (account_id);
ALTER TABLE ONLY custom_filters
    ADD CONSTRAINT fk_rails_8b8d786993 FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
CREATE TABLE custom_filter_keywords (
    id bigint NOT NULL,
    custom_filter_id bigint NOT NULL,
    keyword text DEFAULT ''::text NOT NULL,
    whole_word boolean DEFAULT true NOT NULL,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL
);
CREATE SEQUENCE custom_filter_keywords_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE custom_filter_keywords_id_seq OWNED BY custom_filter_keywords.id;
ALTER TABLE ONLY custom_filter_keywords ALTER COLUMN id SET DEFAULT nextval('custom_filter_keywords_id_seq'::regclass);
ALTER TABLE ONLY custom_filter_keywords
    ADD CONSTRAINT custom_filter_keywords_pkey PRIMARY KEY (id);
CREATE INDEX index_custom_filter_keywords_on_custom_filter_id ON custom_filter_keywords USING btree (custom_filter_id);
ALTER TABLE ONLY custom_filter_keywords
    ADD CONSTRAINT fk_rails_5a49a74012 FOREIGN KEY (custom_filter_id) REFERENCES custom_filters(id) ON DELETE CASCADE;
CREATE TABLE custom_filter_statuses (
    id bigint NOT NULL,
    custom_filter_id bigint NOT NULL,
    status_id bigint NOT NULL,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL
);
CREATE SEQUENCE custom_filter_statuses_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE custom_filter_statuses_id_seq OWNED BY custom_filter_statuses.id;
ALTER TABLE ONLY custom_filter_statuses ALTER COLUMN id SET DEFAULT nextval('custom_filter_statuses_id_seq'::regclass);
ALTER TABLE ONLY custom_filter_statuses
    ADD CONSTRAINT custom_filter_statuses_pkey PRIMARY KEY (id);
CREATE INDEX index_custom_filter_statuses_on_custom_filter_id ON custom_filter_statuses USING btree (custom_filter_id);
CREATE UNIQUE INDEX index_custom_filter_statuses_on_status_id_and_custom_filter_id ON custom_filter_statuses USING btree (status_id, custom_filter_id);
ALTER TABLE ONLY custom_filter_statuses
    ADD CONSTRAINT fk_rails_2f6d20c0cf FOREIGN KEY (status_id) REFERENCES statuses(id) ON DELETE CASCADE;
ALTER TABLE ONLY custom_filter_statuses
    ADD CONSTRAINT fk_rails_e2ddaf5b14 FOREIGN KEY (custom_filter_id) REFERENCES custom_filters(id) ON DELETE CASCADE;
CREATE TABLE follow_recommendation_suppressions (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL
);
CREATE SEQUENCE follow_recommendation_suppressions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE follow_recommendation_suppressions_id_seq OWNED BY follow_recommendation_suppressions.id;
ALTER TABLE ONLY follow_recommendation_suppressions ALTER COLUMN id SET DEFAULT nextval('follow_recommendation_suppressions_id_seq'::regclass);
ALTER TABLE ONLY follow_recommendation_suppressions
    ADD CONSTRAINT follow_recommendation_suppressions_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_follow_recommendation_suppressions_on_account_id ON follow_recommendation_suppressions USING btree (account_id);
ALTER TABLE ONLY follow_recommendation_suppressions
    ADD CONSTRAINT fk_rails_dfb9a1dbe2 FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
