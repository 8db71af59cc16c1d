-- ferrodon's compact home feed: one Redis string per feed holding exact 64-bit status ids
-- as 8-byte big-endian slots in ascending order, after a 16-byte header:
--
--   [capacity:4][count:4][newest id:8][id:8][id:8]...[unused slots]
--
-- The string is created at a capacity tier (16, 64, 256 or 880 slots) with SET, so its
-- allocation is exact and appends never reallocate. A full 880-slot feed drops its 80
-- oldest ids in one rewrite (amortized trimming); reads show only the newest 800, so
-- clients see Mastodon's 800-item feed. Ids are compared byte by byte (never converted to
-- Lua numbers, which are doubles). Appending a new post is three commands: read the
-- header, write the slot, write count and newest.
--
-- Reblog aggregation follows Mastodon's FeedManager: a hash (<feed>:r) maps each
-- reblogged original to the reblog shown, and a set per original (<feed>:r:<original>)
-- holds the suppressed reblogs. An entry whose shown reblog has fallen to rank 80 or below
-- counts as gone, as Mastodon's trim would have removed it.

local TIERS = {16, 64, 256, 880}
local MAX_SLOTS = 880
local TRIM_TO = 800
local FALLOFF = 80
local HEADER = 16

-- Redis 7.0 formats every number passed to redis.call with printf("%.17g"), which costs
-- more than the command itself: offsets are passed as strings, memoized per script run.
local ZERO_SLOT = string.rep('\0', 8)
local offsets = {}
local function offset(n)
  local s = offsets[n]
  if s == nil then
    s = string.format('%d', n)
    offsets[n] = s
  end
  return s
end

-- Ids are positive 64-bit integers, big-endian: compared as two exact 32-bit halves.
local function cmp(a, b)
  if a == b then return 0 end
  local ah, al = struct.unpack('>I4>I4', a)
  local bh, bl = struct.unpack('>I4>I4', b)
  if ah < bh or (ah == bh and al < bl) then return -1 end
  return 1
end

-- capacity, count, newest (nil when the feed is empty or missing)
local function header(key)
  local h = redis.call('GETRANGE', key, '0', '15')
  if #h < HEADER then return 0, 0, nil end
  local cap, n = struct.unpack('>I4>I4', h)
  if n == 0 then return cap, 0, nil end
  return cap, n, string.sub(h, 9, 16)
end

local function slot(key, i)
  return redis.call('GETRANGE', key, offset(HEADER + i * 8), offset(HEADER + 7 + i * 8))
end

local function set_count(key, n, newest)
  redis.call('SETRANGE', key, '4', struct.pack('>I4', n) .. (newest or ZERO_SLOT))
end

local padding = {}

-- Rewrites the feed with `ids` (a string of 8-byte slots) at the smallest tier that fits.
local function rewrite(key, ids)
  local n = #ids / 8
  local cap = MAX_SLOTS
  for _, tier in ipairs(TIERS) do
    if n < tier then cap = tier; break end
  end
  local newest = ZERO_SLOT
  if n > 0 then newest = string.sub(ids, -8) end
  local pad = padding[cap - n]
  if pad == nil then
    pad = string.rep('\0', (cap - n) * 8)
    padding[cap - n] = pad
  end
  redis.call('SET', key, struct.pack('>I4>I4', cap, n) .. newest .. ids .. pad)
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
local function rank(key, id)
  local _, n = header(key)
  local pos, found = lower_bound(key, n, id)
  if not found then return nil end
  return n - 1 - pos
end

local function all_ids(key, n)
  if n == 0 then return '' end
  return redis.call('GETRANGE', key, '16', offset(HEADER - 1 + n * 8))
end

-- Inserts `id`; returns 1 if added, 0 if already there.
local function insert(key, id)
  local cap, n, newest = header(key)
  if n == 0 then
    rewrite(key, id)
    return 1
  end
  local c = cmp(id, newest)
  if c == 0 then return 0 end
  if c > 0 and n < cap then
    redis.call('SETRANGE', key, offset(HEADER + n * 8), id)
    set_count(key, n + 1, id)
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
  local _, n = header(key)
  if n == 0 then return 0 end
  local pos, found = lower_bound(key, n, id)
  if not found then return 0 end
  if pos < n - 1 then
    local rest = redis.call('GETRANGE', key, offset(HEADER + 8 + pos * 8), offset(HEADER - 1 + n * 8))
    redis.call('SETRANGE', key, offset(HEADER + pos * 8), rest)
  end
  local newest = nil
  if n > 1 then newest = slot(key, n - 2) end
  set_count(key, n - 1, newest)
  return 1
end

-- Is the index entry for `original` still live (its shown reblog within the top 80)?
local function live_entry(feed, index, original, suppressed)
  local shown = redis.call('HGET', index, original)
  if not shown then return false end
  local r = rank(feed, shown)
  if r ~= nil and r < FALLOFF then return true end
  redis.call('HDEL', index, original)
  redis.call('DEL', suppressed)
  return false
end

-- KEYS: the feeds. ARGV: op ('add' | 'remove' | 'replace'), id, original ('' if none), original
-- decimal, id decimal, fresh ('1': an original nothing has reblogged yet, so no reblog
-- index can mention it).
local op, id, original, original_dec, id_dec, fresh = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]

-- 'replace': KEYS[1] becomes a feed of exactly ARGV[2] (8-byte ids, ascending, at most
-- 800), e.g. a feed converted from Mastodon's layout.
if op == 'replace' then
  rewrite(KEYS[1], id)
  return 0
end

-- The fan-out's common case, kept lean: `id` is newer than everything in the feed, so
-- adding it is one header read and two writes, with every string built once per run.
local id_hi, id_lo = struct.unpack('>I4>I4', id)
local count_then_id = {}
local only_id
local function add_newest(key)
  local h = redis.call('GETRANGE', key, '0', '15')
  if #h < HEADER then
    only_id = only_id or struct.pack('>I4>I4', TIERS[1], 1) .. id .. id .. string.rep('\0', (TIERS[1] - 1) * 8)
    redis.call('SET', key, only_id)
    return
  end
  local cap, n, newest_hi, newest_lo = struct.unpack('>I4>I4>I4>I4', h)
  if n == 0 or n >= cap or id_hi < newest_hi or (id_hi == newest_hi and id_lo <= newest_lo) then
    insert(key, id)
    return
  end
  redis.call('SETRANGE', key, offset(HEADER + n * 8), id)
  local tail = count_then_id[n + 1]
  if tail == nil then
    tail = struct.pack('>I4', n + 1) .. id
    count_then_id[n + 1] = tail
  end
  redis.call('SETRANGE', key, '4', tail)
end

if op == 'add' and original == '' and fresh == '1' then
  for k = 1, #KEYS do
    add_newest(KEYS[k])
  end
  return 0
end

for k = 1, #KEYS do
  local feed = KEYS[k]
  local index = feed .. ':r'
  if op == 'add' then
    if original ~= '' then
      local suppressed = index .. ':' .. original_dec
      local r = rank(feed, original)
      if r == nil or r >= FALLOFF then
        if live_entry(feed, index, original, suppressed) then
          redis.call('SADD', suppressed, id)
        else
          redis.call('HSET', index, original, id)
          insert(feed, id)
        end
      end
    elseif not live_entry(feed, index, id, index .. ':' .. id_dec) then
      insert(feed, id)
    end
  elseif op == 'remove' then
    if original ~= '' then
      local suppressed = index .. ':' .. original_dec
      redis.call('SREM', suppressed, id)
      if remove(feed, id) == 1 and redis.call('HGET', index, original) == id then
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
    else
      redis.call('DEL', index .. ':' .. id_dec)
      redis.call('HDEL', index, id)
      remove(feed, id)
    end
  end
end
return 0
