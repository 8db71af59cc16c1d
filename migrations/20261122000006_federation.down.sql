DROP TABLE IF EXISTS unavailable_domains;
DROP TABLE IF EXISTS domain_blocks;
