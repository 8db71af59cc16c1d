-- Mastodon 4.5's follow_recommendation_mutes (suggestions a user dismissed), exactly as Mastodon creates
-- it. On a Mastodon database it is already there.

CREATE TABLE follow_recommendation_mutes (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    target_account_id bigint NOT NULL,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL
);
CREATE SEQUENCE follow_recommendation_mutes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE follow_recommendation_mutes_id_seq OWNED BY follow_recommendation_mutes.id;
ALTER TABLE ONLY follow_recommendation_mutes ALTER COLUMN id SET DEFAULT nextval('follow_recommendation_mutes_id_seq'::regclass);
ALTER TABLE ONLY follow_recommendation_mutes
    ADD CONSTRAINT follow_recommendation_mutes_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX idx_on_account_id_target_account_id_a8c8ddf44e ON follow_recommendation_mutes USING btree (account_id, target_account_id);
CREATE INDEX index_follow_recommendation_mutes_on_target_account_id ON follow_recommendation_mutes USING btree (target_account_id);
ALTER TABLE ONLY follow_recommendation_mutes
    ADD CONSTRAINT fk_rails_a9f09ec9a8 FOREIGN KEY (target_account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE ONLY follow_recommendation_mutes
    ADD CONSTRAINT fk_rails_d36abd69ea FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
