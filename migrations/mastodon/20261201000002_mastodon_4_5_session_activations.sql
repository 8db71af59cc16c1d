-- Mastodon 4.5's session_activations (web sign-ins named by the `_session_id` cookie),
-- exactly as Mastodon creates it. On a Mastodon database it is already there.

CREATE TABLE session_activations (
    id bigint NOT NULL,
    session_id character varying NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    user_agent character varying DEFAULT ''::character varying NOT NULL,
    ip inet,
    access_token_id bigint,
    user_id bigint NOT NULL,
    web_push_subscription_id bigint
);

CREATE SEQUENCE session_activations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE session_activations_id_seq OWNED BY session_activations.id;
ALTER TABLE ONLY session_activations ALTER COLUMN id SET DEFAULT nextval('session_activations_id_seq'::regclass);
ALTER TABLE ONLY session_activations ADD CONSTRAINT session_activations_pkey PRIMARY KEY (id);

CREATE INDEX index_session_activations_on_access_token_id ON session_activations USING btree (access_token_id);
CREATE UNIQUE INDEX index_session_activations_on_session_id ON session_activations USING btree (session_id);
CREATE INDEX index_session_activations_on_user_id ON session_activations USING btree (user_id);

ALTER TABLE ONLY session_activations
    ADD CONSTRAINT fk_957e5bda89 FOREIGN KEY (access_token_id) REFERENCES oauth_access_tokens(id) ON DELETE CASCADE;
ALTER TABLE ONLY session_activations
    ADD CONSTRAINT fk_e5fda67334 FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
