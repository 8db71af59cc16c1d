-- ferrodon's compact home feed: one Redis string per feed holding exact 64-bit status ids
-- as 8-byte big-endian slots in ascending order, after a 4-byte big-endian count:
--
--   [count:4][id:8][id:8]...[unused slots]
--
-- The string is created at a capacity tier (16, 64, 256 or 880 slots) with SET, so its
-- allocation is exact and appends never reallocate. A full 880-slot feed drops its 80
-- oldest ids in one rewrite (amortized trimming); reads show only the newest 800, so
-- clients see Mastodon's 800-item feed. Ids are compared byte by byte (never converted to
-- Lua numbers, which are doubles). Reblog aggregation follows Mastodon's FeedManager:
-- a hash maps each reblogged original to the reblog shown, and a set per original holds
-- the suppressed reblogs; entries whose shown reblog has fallen to rank 80 or below are
-- treated as gone, as Mastodon's trim would have removed them.

local TIERS = {16, 64, 256, 880}
local MAX_SLOTS = 880
local TRIM_TO = 800
local FALLOFF = 80

local function cmp(a, b)
  for i = 1, 8 do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then
      if x < y then return -1 else return 1 end
    end
  end
  return 0
end

local function count_of(key)
  local header = redis.call('GETRANGE', key, 0, 3)
  if #header < 4 then return 0 end
  return struct.unpack('>I4', header)
end

local function capacity_of(key)
  return (redis.call('STRLEN', key) - 4) / 8
end

local function slot(key, i)
  return redis.call('GETRANGE', key, 4 + i * 8, 11 + i * 8)
end

local function set_count(key, n)
  redis.call('SETRANGE', key, 0, struct.pack('>I4', n))
end

-- Rewrites the feed with `ids` (a string of 8-byte slots) at the smallest tier that fits.
local function rewrite(key, ids)
  local n = #ids / 8
  local cap = MAX_SLOTS
  for _, tier in ipairs(TIERS) do
    if n < tier then cap = tier; break end
  end
  redis.call('SET', key, struct.pack('>I4', n) .. ids .. string.rep('\0', (cap - n) * 8))
end

local function lower_bound(key, n, id)
  local lo, hi = 0, n
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cmp(slot(key, mid), id) < 0 then lo = mid + 1 else hi = mid end
  end
  return lo, (lo < n and cmp(slot(key, lo), id) == 0)
end

-- Rank from the newest (0 = newest), or nil when absent.
local function rank(key, n, id)
  local pos, found = lower_bound(key, n, id)
  if not found then return nil end
  return n - 1 - pos
end

local function all_ids(key, n)
  if n == 0 then return '' end
  return redis.call('GETRANGE', key, 4, 3 + n * 8)
end

-- Inserts `id`; returns 1 if added, 0 if already there.
local function insert(key, id)
  local n = count_of(key)
  if n == 0 then
    rewrite(key, id)
    return 1
  end
  local cap = capacity_of(key)
  local newest = slot(key, n - 1)
  local c = cmp(id, newest)
  if c == 0 then return 0 end
  if c > 0 and n < cap then
    redis.call('SETRANGE', key, 4 + n * 8, id)
    set_count(key, n + 1)
    return 1
  end
  local pos, found = lower_bound(key, n, id)
  if found then return 0 end
  local ids = all_ids(key, n)
  ids = string.sub(ids, 1, pos * 8) .. id .. string.sub(ids, pos * 8 + 1)
  if n + 1 > MAX_SLOTS then
    ids = string.sub(ids, (n + 1 - TRIM_TO) * 8 + 1)
  end
  rewrite(key, ids)
  return 1
end

-- Removes `id`; returns 1 if it was there.
local function remove(key, id)
  local n = count_of(key)
  if n == 0 then return 0 end
  local pos, found = lower_bound(key, n, id)
  if not found then return 0 end
  if pos < n - 1 then
    redis.call('SETRANGE', key, 4 + pos * 8, redis.call('GETRANGE', key, 12 + pos * 8, 3 + n * 8))
  end
  set_count(key, n - 1)
  return 1
end

-- Is the index entry for `original` still live (its shown reblog within the top 80)?
local function live_entry(feed, index, original, suppressed)
  local shown = redis.call('HGET', index, original)
  if not shown then return false end
  local r = rank(feed, count_of(feed), shown)
  if r ~= nil and r < FALLOFF then return true end
  redis.call('HDEL', index, original)
  redis.call('DEL', suppressed)
  return false
end

-- add: KEYS = feed and index pairs; ARGV = op, id, original ('' if none), original decimal.
-- remove: same keys; ARGV = op, id, original, original decimal, id decimal.
local op, id, original, original_dec = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local added = 0
for k = 1, #KEYS, 2 do
  local feed, index = KEYS[k], KEYS[k + 1]
  if op == 'add' then
    if original ~= '' then
      local suppressed = index .. ':' .. original_dec
      local r = rank(feed, count_of(feed), original)
      if r == nil or r >= FALLOFF then
        if live_entry(feed, index, original, suppressed) then
          redis.call('SADD', suppressed, id)
        else
          redis.call('HSET', index, original, id)
          added = added + insert(feed, id)
        end
      end
    else
      local own_suppressed = index .. ':' .. ARGV[5]
      if not live_entry(feed, index, id, own_suppressed) then
        added = added + insert(feed, id)
      end
    end
  elseif op == 'remove' then
    if original ~= '' then
      local suppressed = index .. ':' .. original_dec
      redis.call('SREM', suppressed, id)
      if remove(feed, id) == 1 then
        added = added + 1
        if redis.call('HGET', index, original) == id then
          redis.call('HDEL', index, original)
          local next_id = nil
          for _, other in ipairs(redis.call('SMEMBERS', suppressed)) do
            if next_id == nil or cmp(other, next_id) < 0 then next_id = other end
          end
          if next_id then
            redis.call('SREM', suppressed, next_id)
            redis.call('HSET', index, original, next_id)
            insert(feed, next_id)
          end
        end
      end
    else
      redis.call('DEL', index .. ':' .. ARGV[5])
      redis.call('HDEL', index, id)
      added = added + remove(feed, id)
    end
  end
end
return added
