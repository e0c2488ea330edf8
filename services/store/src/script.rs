//! The Lua script that applies one block's effects to Redis atomically.

use crate::schema::LAYOUT_VERSION;

/// One block's effects as one atomic script. KEYS: head, the layout version, the registry hash, the registry version,
/// then the keys to SET. ARGV: the expected head (the block's parent height; -1 would skip the check, which no caller
/// does), the new head; g, then g triples (gtin, layout before, layout after); k, then k triples (a kept level of the
/// log, its length before the block in bytes, the bytes to append); q, then q bucket deletions (bucket key, k, then k
/// serials: entries moving out of a split bucket); m, then m pairs of participant id and record; one value per key to
/// SET; p, then p bucket writes (bucket key, k, then k pairs of serial and stored pack: the moved entries first, then
/// the block's packs); w, then w pairs of participant list key (`w:{id}`) and the bytes to append to it.
/// An event outcome's key (`e:{id}`) also deletes the event's pending mark (`pending:{id}`).
/// Everything is checked (head, layout version, bucket layouts, log level lengths) before anything is written: state
/// with blocks but another layout version is refused (the sequencer upgrades it first), and so is a log whose levels
/// are not as long as the block's first leaf says. Returns -1 when written, or the current head when it was not the
/// expected one (nothing written).
pub(crate) static WRITE_BLOCK: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        &r"
local head = tonumber(redis.call('GET', KEYS[1]) or '0')
local expected = tonumber(ARGV[1])
if expected >= 0 and head ~= expected then return head end
if head > 0 and redis.call('GET', KEYS[2]) ~= 'LAYOUT' then
  return redis.error_reply('redis holds ledger state of another layout than LAYOUT: upgrade it first')
end
local g = tonumber(ARGV[3])
for i = 0, g - 1 do
  local at = 4 + 3 * i
  if (redis.call('GET', 'm:' .. ARGV[at]) or '0 0 0') ~= ARGV[at + 1] then
    return redis.error_reply('bucket layout of ' .. ARGV[at] .. ' is not the one the block was built on')
  end
end
local a = 4 + 3 * g
local k = tonumber(ARGV[a]); a = a + 1
for i = 0, k - 1 do
  local at = a + 3 * i
  if redis.call('STRLEN', ARGV[at]) ~= tonumber(ARGV[at + 1]) then
    return redis.error_reply('log level ' .. ARGV[at] .. ' is not as long as the block was built on')
  end
end
for i = 0, g - 1 do
  local at = 4 + 3 * i
  redis.call('SET', 'm:' .. ARGV[at], ARGV[at + 2])
end
for i = 0, k - 1 do
  local at = a + 3 * i
  redis.call('APPEND', ARGV[at], ARGV[at + 2])
end
a = a + 3 * k
local q = tonumber(ARGV[a]); a = a + 1
for i = 1, q do
  local k = tonumber(ARGV[a + 1])
  redis.call('HDEL', ARGV[a], unpack(ARGV, a + 2, a + 1 + k))
  a = a + 2 + k
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
local w = tonumber(ARGV[a]); a = a + 1
for i = 1, w do
  redis.call('APPEND', ARGV[a], ARGV[a + 1])
  a = a + 2
end
if redis.call('EXISTS', 'wf') == 0 then redis.call('SET', 'wf', ARGV[2]) end
redis.call('SET', KEYS[2], 'LAYOUT')
redis.call('SET', KEYS[1], ARGV[2])
return -1
"
        .replace("LAYOUT", &LAYOUT_VERSION.to_string()),
    )
});
