DROP INDEX IF EXISTS index_statuses_full_text;
DROP INDEX IF EXISTS search_index;
