-- Adds a status to a feed with Mastodon's reblog aggregation, then trims the feed.
-- KEYS[1] feed (feed:home:<id>), KEYS[2] its reblog index (feed:home:<id>:reblogs)
-- ARGV[1] status id, ARGV[2] reblogged status id or '', ARGV[3] max items, ARGV[4] reblog falloff
local feed, reblogs = KEYS[1], KEYS[2]
local id, original = ARGV[1], ARGV[2]
local max_items, falloff = tonumber(ARGV[3]), tonumber(ARGV[4])

if original ~= '' then
  local rank = redis.call('ZREVRANK', feed, original)
  if rank and rank < falloff then return 0 end
  if redis.call('ZADD', reblogs, 'NX', id, original) == 0 then
    redis.call('SADD', reblogs .. ':' .. original, id)
    return 0
  end
elseif redis.call('ZSCORE', reblogs, id) then
  return 0
end
redis.call('ZADD', feed, id, id)

redis.call('ZREMRANGEBYRANK', feed, 0, -(max_items + 1))
local edge = redis.call('ZREVRANGE', feed, falloff, falloff, 'WITHSCORES')
if edge[2] then
  for _, stale in ipairs(redis.call('ZRANGEBYSCORE', reblogs, '-inf', edge[2])) do
    redis.call('ZREM', reblogs, stale)
    redis.call('DEL', reblogs .. ':' .. stale)
  end
end
return 1
