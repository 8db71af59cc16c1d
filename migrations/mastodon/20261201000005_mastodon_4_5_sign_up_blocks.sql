-- Mastodon 4.5's email_domain_blocks, ip_blocks and canonical_email_blocks (what sign-ups are
-- checked against), exactly as Mastodon creates them. On a Mastodon database they are there.

CREATE TABLE email_domain_blocks (
    id bigint NOT NULL,
    domain character varying DEFAULT ''::character varying NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    parent_id bigint,
    allow_with_approval boolean DEFAULT false NOT NULL
);
CREATE SEQUENCE email_domain_blocks_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE email_domain_blocks_id_seq OWNED BY email_domain_blocks.id;
ALTER TABLE ONLY email_domain_blocks ALTER COLUMN id SET DEFAULT nextval('email_domain_blocks_id_seq'::regclass);
ALTER TABLE ONLY email_domain_blocks
    ADD CONSTRAINT email_domain_blocks_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_email_domain_blocks_on_domain ON email_domain_blocks USING btree (domain);
ALTER TABLE ONLY email_domain_blocks
    ADD CONSTRAINT fk_rails_408efe0a15 FOREIGN KEY (parent_id) REFERENCES email_domain_blocks(id) ON DELETE CASCADE;

CREATE TABLE ip_blocks (
    id bigint NOT NULL,
    ip inet DEFAULT '0.0.0.0'::inet NOT NULL,
    severity integer DEFAULT 0 NOT NULL,
    expires_at timestamp without time zone,
    comment text DEFAULT ''::text NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE ip_blocks_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE ip_blocks_id_seq OWNED BY ip_blocks.id;
ALTER TABLE ONLY ip_blocks ALTER COLUMN id SET DEFAULT nextval('ip_blocks_id_seq'::regclass);
ALTER TABLE ONLY ip_blocks
    ADD CONSTRAINT ip_blocks_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_ip_blocks_on_ip ON ip_blocks USING btree (ip);

CREATE TABLE canonical_email_blocks (
    id bigint NOT NULL,
    canonical_email_hash character varying DEFAULT ''::character varying NOT NULL,
    reference_account_id bigint,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL
);
CREATE SEQUENCE canonical_email_blocks_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE canonical_email_blocks_id_seq OWNED BY canonical_email_blocks.id;
ALTER TABLE ONLY canonical_email_blocks ALTER COLUMN id SET DEFAULT nextval('canonical_email_blocks_id_seq'::regclass);
ALTER TABLE ONLY canonical_email_blocks
    ADD CONSTRAINT canonical_email_blocks_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_canonical_email_blocks_on_canonical_email_hash ON canonical_email_blocks USING btree (canonical_email_hash);
CREATE INDEX index_canonical_email_blocks_on_reference_account_id ON canonical_email_blocks USING btree (reference_account_id);
ALTER TABLE ONLY canonical_email_blocks
    ADD CONSTRAINT fk_rails_1ecb262096 FOREIGN KEY (reference_account_id) REFERENCES accounts(id) ON DELETE CASCADE;

