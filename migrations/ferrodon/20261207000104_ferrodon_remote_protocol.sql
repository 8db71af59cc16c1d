-- Remote accounts fetched over ActivityPub are marked so, as Mastodon marks them
-- (`protocol` 1); earlier ferrodon releases left the default 0 (OStatus).
UPDATE accounts SET protocol = 1 WHERE domain IS NOT NULL AND protocol = 0 AND inbox_url <> '';
