-- Mastodon 4.5's custom emoji, announcements (with their reactions and dismissals) and terms of
-- service, exactly as Mastodon creates them. On a Mastodon database they are already there.

CREATE TABLE custom_emoji_categories (
    id bigint NOT NULL,
    name character varying,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE custom_emoji_categories_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE custom_emoji_categories_id_seq OWNED BY custom_emoji_categories.id;
ALTER TABLE ONLY custom_emoji_categories ALTER COLUMN id SET DEFAULT nextval('custom_emoji_categories_id_seq'::regclass);
ALTER TABLE ONLY custom_emoji_categories
    ADD CONSTRAINT custom_emoji_categories_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_custom_emoji_categories_on_name ON custom_emoji_categories USING btree (name);
CREATE TABLE custom_emojis (
    id bigint NOT NULL,
    shortcode character varying DEFAULT ''::character varying NOT NULL,
    domain character varying,
    image_file_name character varying,
    image_content_type character varying,
    image_file_size integer,
    image_updated_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    disabled boolean DEFAULT false NOT NULL,
    uri character varying,
    image_remote_url character varying,
    visible_in_picker boolean DEFAULT true NOT NULL,
    category_id bigint,
    image_storage_schema_version integer
);
CREATE SEQUENCE custom_emojis_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE custom_emojis_id_seq OWNED BY custom_emojis.id;
ALTER TABLE ONLY custom_emojis ALTER COLUMN id SET DEFAULT nextval('custom_emojis_id_seq'::regclass);
ALTER TABLE ONLY custom_emojis
    ADD CONSTRAINT custom_emojis_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_custom_emojis_on_shortcode_and_domain ON custom_emojis USING btree (shortcode, domain);
CREATE TABLE announcements (
    id bigint NOT NULL,
    text text DEFAULT ''::text NOT NULL,
    published boolean DEFAULT false NOT NULL,
    all_day boolean DEFAULT false NOT NULL,
    scheduled_at timestamp without time zone,
    starts_at timestamp without time zone,
    ends_at timestamp without time zone,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    published_at timestamp without time zone,
    status_ids bigint[],
    notification_sent_at timestamp(6) without time zone
);
CREATE SEQUENCE announcements_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE announcements_id_seq OWNED BY announcements.id;
ALTER TABLE ONLY announcements ALTER COLUMN id SET DEFAULT nextval('announcements_id_seq'::regclass);
ALTER TABLE ONLY announcements
    ADD CONSTRAINT announcements_pkey PRIMARY KEY (id);
CREATE TABLE announcement_mutes (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    announcement_id bigint NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE announcement_mutes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE announcement_mutes_id_seq OWNED BY announcement_mutes.id;
ALTER TABLE ONLY announcement_mutes ALTER COLUMN id SET DEFAULT nextval('announcement_mutes_id_seq'::regclass);
ALTER TABLE ONLY announcement_mutes
    ADD CONSTRAINT announcement_mutes_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_announcement_mutes_on_account_id_and_announcement_id ON announcement_mutes USING btree (account_id, announcement_id);
CREATE INDEX index_announcement_mutes_on_announcement_id ON announcement_mutes USING btree (announcement_id);
CREATE TABLE announcement_reactions (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    announcement_id bigint NOT NULL,
    name character varying DEFAULT ''::character varying NOT NULL,
    custom_emoji_id bigint,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE announcement_reactions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE announcement_reactions_id_seq OWNED BY announcement_reactions.id;
ALTER TABLE ONLY announcement_reactions ALTER COLUMN id SET DEFAULT nextval('announcement_reactions_id_seq'::regclass);
ALTER TABLE ONLY announcement_reactions
    ADD CONSTRAINT announcement_reactions_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_announcement_reactions_on_account_id_and_announcement_id ON announcement_reactions USING btree (account_id, announcement_id, name);
CREATE INDEX index_announcement_reactions_on_announcement_id ON announcement_reactions USING btree (announcement_id);
CREATE INDEX index_announcement_reactions_on_custom_emoji_id ON announcement_reactions USING btree (custom_emoji_id) WHERE (custom_emoji_id IS NOT NULL);
CREATE TABLE terms_of_services (
    id bigint NOT NULL,
    text text DEFAULT ''::text NOT NULL,
    changelog text DEFAULT ''::text NOT NULL,
    published_at timestamp(6) without time zone,
    notification_sent_at timestamp(6) without time zone,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL,
    effective_date date
);
CREATE SEQUENCE terms_of_services_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE terms_of_services_id_seq OWNED BY terms_of_services.id;
ALTER TABLE ONLY terms_of_services ALTER COLUMN id SET DEFAULT nextval('terms_of_services_id_seq'::regclass);
ALTER TABLE ONLY terms_of_services
    ADD CONSTRAINT terms_of_services_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_terms_of_services_on_effective_date ON terms_of_services USING btree (effective_date) WHERE (effective_date IS NOT NULL);
ALTER TABLE ONLY announcement_mutes
    ADD CONSTRAINT fk_rails_9c99f8e835 FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE ONLY announcement_mutes
    ADD CONSTRAINT fk_rails_e35401adf1 FOREIGN KEY (announcement_id) REFERENCES announcements(id) ON DELETE CASCADE;
ALTER TABLE ONLY announcement_reactions
    ADD CONSTRAINT fk_rails_7444ad831f FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE ONLY announcement_reactions
    ADD CONSTRAINT fk_rails_a1226eaa5c FOREIGN KEY (announcement_id) REFERENCES announcements(id) ON DELETE CASCADE;
ALTER TABLE ONLY announcement_reactions
    ADD CONSTRAINT fk_rails_b742c91c0e FOREIGN KEY (custom_emoji_id) REFERENCES custom_emojis(id) ON DELETE CASCADE;
