DROP TABLE IF EXISTS unavailable_domains;
