-- Mastodon 4.5's account_warnings (strikes) and account_deletion_requests (the 30-day window
-- after a suspension), exactly as Mastodon creates them. On a Mastodon database they are there.

CREATE TABLE account_warnings (
    id bigint NOT NULL,
    account_id bigint,
    target_account_id bigint,
    action integer DEFAULT 0 NOT NULL,
    text text DEFAULT ''::text NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL,
    report_id bigint,
    status_ids character varying[],
    overruled_at timestamp without time zone
);
CREATE SEQUENCE account_warnings_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE account_warnings_id_seq OWNED BY account_warnings.id;
ALTER TABLE ONLY account_warnings ALTER COLUMN id SET DEFAULT nextval('account_warnings_id_seq'::regclass);
ALTER TABLE ONLY account_warnings
    ADD CONSTRAINT account_warnings_pkey PRIMARY KEY (id);
CREATE INDEX index_account_warnings_on_account_id ON account_warnings USING btree (account_id);
CREATE INDEX index_account_warnings_on_target_account_id ON account_warnings USING btree (target_account_id);
ALTER TABLE ONLY account_warnings
    ADD CONSTRAINT fk_rails_8f2bab4b16 FOREIGN KEY (report_id) REFERENCES reports(id) ON DELETE CASCADE;
ALTER TABLE ONLY account_warnings
    ADD CONSTRAINT fk_rails_a65a1bf71b FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE SET NULL;
ALTER TABLE ONLY account_warnings
    ADD CONSTRAINT fk_rails_a7ebbb1e37 FOREIGN KEY (target_account_id) REFERENCES accounts(id) ON DELETE CASCADE;

CREATE TABLE account_deletion_requests (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    created_at timestamp without time zone NOT NULL,
    updated_at timestamp without time zone NOT NULL
);
CREATE SEQUENCE account_deletion_requests_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;
ALTER SEQUENCE account_deletion_requests_id_seq OWNED BY account_deletion_requests.id;
ALTER TABLE ONLY account_deletion_requests ALTER COLUMN id SET DEFAULT nextval('account_deletion_requests_id_seq'::regclass);
ALTER TABLE ONLY account_deletion_requests
    ADD CONSTRAINT account_deletion_requests_pkey PRIMARY KEY (id);
CREATE INDEX index_account_deletion_requests_on_account_id ON account_deletion_requests USING btree (account_id);
ALTER TABLE ONLY account_deletion_requests
    ADD CONSTRAINT fk_rails_45bf2626b9 FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE;

