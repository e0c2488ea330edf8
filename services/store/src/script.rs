//! The Lua script that applies one block's effects to Redis atomically.

/// One block's effects as one atomic script. KEYS: head, the leaf list, the registry hash, the registry version,
/// then the keys to SET. ARGV: the expected head (the block's parent height; -1 would skip the check, which no
/// caller does), the new head; g, then g triples (gtin, layout before, layout after); q, then q bucket deletions
/// (bucket key, k, then k serials: entries moving out of a split bucket); n, the n leaves; m, then m pairs of
/// participant id and record; one value per key to SET; p, then p bucket writes (bucket key, k, then k pairs of
/// serial and stored pack: the moved entries first, then the block's packs).
/// An event outcome's key (`e:{id}`) also deletes the event's pending mark (`pending:{id}`).
/// Everything is checked (head, layouts) before anything is written. Returns -1 when written, or the current head
/// when it was not the expected one (nothing written).
pub(crate) static WRITE_BLOCK: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        r"
local head = tonumber(redis.call('GET', KEYS[1]) or '0')
local expected = tonumber(ARGV[1])
if expected >= 0 and head ~= expected then return head end
local g = tonumber(ARGV[3])
for i = 0, g - 1 do
  local at = 4 + 3 * i
  if (redis.call('GET', 'm:' .. ARGV[at]) or '0 0 0') ~= ARGV[at + 1] then
    return redis.error_reply('bucket layout of ' .. ARGV[at] .. ' is not the one the block was built on')
  end
end
for i = 0, g - 1 do
  local at = 4 + 3 * i
  redis.call('SET', 'm:' .. ARGV[at], ARGV[at + 2])
end
local a = 4 + 3 * g
local q = tonumber(ARGV[a]); a = a + 1
for i = 1, q do
  local k = tonumber(ARGV[a + 1])
  redis.call('HDEL', ARGV[a], unpack(ARGV, a + 2, a + 1 + k))
  a = a + 2 + k
end
local n = tonumber(ARGV[a]); a = a + 1
for i = 1, n do
  redis.call('RPUSH', KEYS[2], ARGV[a])
  a = a + 1
end
local m = tonumber(ARGV[a]); a = a + 1
for i = 1, m do
  redis.call('HSET', KEYS[3], ARGV[a], ARGV[a + 1])
  a = a + 2
end
if m > 0 then redis.call('SET', KEYS[4], ARGV[2]) end
for i = 5, #KEYS do
  redis.call('SET', KEYS[i], ARGV[a])
  if string.sub(KEYS[i], 1, 2) == 'e:' then redis.call('DEL', 'pending:' .. string.sub(KEYS[i], 3)) end
  a = a + 1
end
local p = tonumber(ARGV[a]); a = a + 1
for i = 1, p do
  local k = tonumber(ARGV[a + 1])
  redis.call('HSET', ARGV[a], unpack(ARGV, a + 2, a + 1 + 2 * k))
  a = a + 2 + 2 * k
end
redis.call('SET', KEYS[1], ARGV[2])
return -1
",
    )
});
