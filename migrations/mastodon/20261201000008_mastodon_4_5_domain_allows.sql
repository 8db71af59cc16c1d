-- Mastodon 4.5's domain_allows (the servers a limited-federation instance talks to), exactly as
-- Mastodon creates it. On a Mastodon database it is already there.

CREATE TABLE domain_allows (
    id bigint NOT NULL,
    domain character varying DEFAULT ''::character varying NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE domain_allows_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE domain_allows_id_seq OWNED BY domain_allows.id;
ALTER TABLE ONLY domain_allows ALTER COLUMN id SET DEFAULT nextval('domain_allows_id_seq'::regclass);
ALTER TABLE ONLY domain_allows
    ADD CONSTRAINT domain_allows_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_domain_allows_on_domain ON domain_allows USING btree (domain);
