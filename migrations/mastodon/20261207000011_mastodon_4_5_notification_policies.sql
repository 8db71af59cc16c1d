-- Mastodon 4.5's notification policies, requests and permissions, exactly as Mastodon creates them.
-- On a Mastodon database they are already there.

CREATE TABLE notification_policies (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL,
    for_not_following integer DEFAULT 0 NOT NULL,
    for_not_followers integer DEFAULT 0 NOT NULL,
    for_new_accounts integer DEFAULT 0 NOT NULL,
    for_private_mentions integer DEFAULT 1 NOT NULL,
    for_limited_accounts integer DEFAULT 1 NOT NULL
);
CREATE SEQUENCE notification_policies_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE notification_policies_id_seq OWNED BY notification_policies.id;
ALTER TABLE ONLY notification_policies ALTER COLUMN id SET DEFAULT nextval('notification_policies_id_seq'::regclass);
ALTER TABLE ONLY notification_policies
    ADD CONSTRAINT notification_policies_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_notification_policies_on_account_id ON notification_policies USING btree (account_id);
ALTER TABLE ONLY notification_policies
    ADD CONSTRAINT fk_rails_506d62f0da FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
CREATE TABLE notification_requests (
    id bigint DEFAULT timestamp_id('notification_requests'::text) NOT NULL,
    account_id bigint NOT NULL,
    from_account_id bigint NOT NULL,
    last_status_id bigint,
    notifications_count bigint DEFAULT 0 NOT NULL,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL
);
CREATE SEQUENCE notification_requests_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER TABLE ONLY notification_requests
    ADD CONSTRAINT notification_requests_pkey PRIMARY KEY (id);
CREATE UNIQUE INDEX index_notification_requests_on_account_id_and_from_account_id ON notification_requests USING btree (account_id, from_account_id);
CREATE INDEX index_notification_requests_on_from_account_id ON notification_requests USING btree (from_account_id);
CREATE INDEX index_notification_requests_on_last_status_id ON notification_requests USING btree (last_status_id);
ALTER TABLE ONLY notification_requests
    ADD CONSTRAINT fk_rails_5632f121b4 FOREIGN KEY (from_account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE ONLY notification_requests
    ADD CONSTRAINT fk_rails_61c7aa9c1f FOREIGN KEY (last_status_id) REFERENCES statuses(id) ON DELETE SET NULL;
ALTER TABLE ONLY notification_requests
    ADD CONSTRAINT fk_rails_881c7f71c4 FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
CREATE TABLE notification_permissions (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    from_account_id bigint NOT NULL,
    created_at timestamp(6) without time zone NOT NULL,
    updated_at timestamp(6) without time zone NOT NULL
);
CREATE SEQUENCE notification_permissions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE notification_permissions_id_seq OWNED BY notification_permissions.id;
ALTER TABLE ONLY notification_permissions ALTER COLUMN id SET DEFAULT nextval('notification_permissions_id_seq'::regclass);
ALTER TABLE ONLY notification_permissions
    ADD CONSTRAINT notification_permissions_pkey PRIMARY KEY (id);
CREATE INDEX index_notification_permissions_on_account_id ON notification_permissions USING btree (account_id);
CREATE INDEX index_notification_permissions_on_from_account_id ON notification_permissions USING btree (from_account_id);
ALTER TABLE ONLY notification_permissions
    ADD CONSTRAINT fk_rails_7c0bed08df FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
ALTER TABLE ONLY notification_permissions
    ADD CONSTRAINT fk_rails_e3e0aaad70 FOREIGN KEY (from_account_id) REFERENCES accounts(id) ON DELETE CASCADE;
