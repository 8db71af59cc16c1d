DROP TABLE IF EXISTS media_attachments;
DROP SEQUENCE IF EXISTS media_attachments_id_seq;
