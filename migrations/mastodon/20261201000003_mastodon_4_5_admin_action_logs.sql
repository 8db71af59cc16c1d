-- Mastodon 4.5's admin_action_logs (the audit log of staff actions), exactly as Mastodon
-- creates it. On a Mastodon database it is already there.

CREATE TABLE admin_action_logs (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    action character varying DEFAULT ''::character varying NOT NULL,
    target_type character varying,
    target_id bigint,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    human_identifier character varying,
    route_param character varying,
    permalink character varying
);

CREATE SEQUENCE admin_action_logs_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;

ALTER SEQUENCE admin_action_logs_id_seq OWNED BY admin_action_logs.id;
ALTER TABLE ONLY admin_action_logs ALTER COLUMN id SET DEFAULT nextval('admin_action_logs_id_seq'::regclass);
ALTER TABLE ONLY admin_action_logs ADD CONSTRAINT admin_action_logs_pkey PRIMARY KEY (id);

CREATE INDEX index_admin_action_logs_on_account_id ON admin_action_logs USING btree (account_id);
CREATE INDEX index_admin_action_logs_on_target_type_and_target_id ON admin_action_logs USING btree (target_type, target_id);

ALTER TABLE ONLY admin_action_logs
    ADD CONSTRAINT fk_rails_a7667297fa FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;
