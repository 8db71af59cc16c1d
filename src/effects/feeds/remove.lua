-- Removes a status from a feed, undoing reblog aggregation as Mastodon does.
-- KEYS[1] feed, KEYS[2] its reblog index; ARGV[1] status id, ARGV[2] reblogged status id or ''
local feed, reblogs = KEYS[1], KEYS[2]
local id, original = ARGV[1], ARGV[2]

if original ~= '' then
  local set = reblogs .. ':' .. original
  redis.call('SREM', set, id)
  if not redis.call('ZSCORE', feed, id) then return 0 end
  redis.call('ZREM', reblogs, original)
  local others = redis.call('SMEMBERS', set)
  local next_id = nil
  for _, other in ipairs(others) do
    if next_id == nil or tonumber(other) < tonumber(next_id) then next_id = other end
  end
  if next_id then
    redis.call('SREM', set, next_id)
    redis.call('ZADD', feed, next_id, next_id)
    redis.call('ZADD', reblogs, next_id, original)
  end
else
  redis.call('DEL', reblogs .. ':' .. id)
  redis.call('ZREM', reblogs, id)
end
return redis.call('ZREM', feed, id)
