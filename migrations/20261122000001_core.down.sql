DROP TABLE IF EXISTS list_accounts, lists, markers, tag_follows, statuses_tags, tags, account_domain_blocks, mutes, blocks,
  notifications, status_pins, mentions, bookmarks, favourites, follow_requests, follows, account_stats,
  status_stats, status_edits, statuses, conversations, oauth_access_tokens, oauth_access_grants, users,
  oauth_applications, accounts;
DROP SEQUENCE IF EXISTS statuses_id_seq, accounts_id_seq;
DROP FUNCTION IF EXISTS timestamp_id(text);
