-- Mastodon 4.5's user_invite_requests (the reason a sign-up gave, shown to staff), exactly as
-- Mastodon creates it. On a Mastodon database it is already there.

CREATE TABLE user_invite_requests (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    text text,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE user_invite_requests_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE user_invite_requests_id_seq OWNED BY user_invite_requests.id;
ALTER TABLE ONLY user_invite_requests ALTER COLUMN id SET DEFAULT nextval('user_invite_requests_id_seq'::regclass);
ALTER TABLE ONLY user_invite_requests
    ADD CONSTRAINT user_invite_requests_pkey PRIMARY KEY (id);
CREATE INDEX index_user_invite_requests_on_user_id ON user_invite_requests USING btree (user_id);
ALTER TABLE ONLY user_invite_requests
    ADD CONSTRAINT fk_rails_3773f15361 FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE;
