-- The roles Mastodon's seeds make (config/roles.yml): everyone (id -99, may invite), and the
-- highlighted Owner, Admin and Moderator, each only where no role of that name exists yet (an
-- adopted database has them already, perhaps changed by its admins).

INSERT INTO user_roles (id, name, position, permissions, highlighted, created_at, updated_at)
SELECT -99, '', -1, 65536, false, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
 WHERE NOT EXISTS (SELECT 1 FROM user_roles WHERE id = -99);

INSERT INTO user_roles (name, position, permissions, highlighted, created_at, updated_at)
SELECT seed.name, seed.position, seed.permissions, true, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
  FROM (VALUES ('Owner', 1000, 1::bigint), ('Admin', 100, 2031612), ('Moderator', 10, 1049884))
       AS seed (name, position, permissions)
 WHERE NOT EXISTS (SELECT 1 FROM user_roles r WHERE lower(r.name) = lower(seed.name));
