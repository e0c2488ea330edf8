//! Where a pack lives in Redis: packs of one GTIN are spread over small hashes by linear hashing.
//!
//! One key per pack costs about 180 bytes in Redis (key object, dict entry, value object, allocator rounding),
//! several times the pack's own ~25 bytes. A Redis hash of at most 128 entries of at most 64 bytes is stored as one
//! listpack, at a few bytes of overhead per entry. So the packs of GTIN `g` live in hashes `p:{g}:{b}` (field =
//! serial, value = [`pedigree_core::stored`] form), and the number of buckets grows with the GTIN by **linear
//! hashing**: with level `L` and split pointer `s`, bucket `b = h mod 2^L`, or `h mod 2^(L+1)` when that is below
//! `s`, where `h` = FNV-1a 32 of the serial. Adding packs splits buckets one at a time (bucket `s` into `s` and
//! `s + 2^L`), so growth never rehashes more than the new packs' worth of old entries, and buckets stay near
//! [`TARGET_PER_BUCKET`] entries at every size. `m:{g}` holds `"L s n"` (`n` = packs of the GTIN).
//!
//! The sequencer computes the layout after a block (`Meta::grow`) and the write script performs the splits from the
//! layout before to the layout after (rehashing the serials it moves with the same FNV-1a), then writes the packs
//! at their final buckets, atomically with the rest of the block.

/// Average entries per bucket the layout grows to keep: below Redis' default `hash-max-listpack-entries` (128) even
/// for the buckets of a round not split yet, which hold about twice the average of the split ones.
pub const TARGET_PER_BUCKET: u64 = 48;

/// FNV-1a, 32 bits: small, and simple to compute the same way in the Lua write script.
pub fn fnv1a32(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(0x811c_9dc5_u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// The bucket layout of one GTIN.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Meta {
    pub level: u32,
    pub split: u64,
    pub count: u64,
}

impl Meta {
    /// Parses `"L s n"`; a missing key is the empty layout (one bucket).
    pub fn parse(raw: Option<&str>) -> Option<Meta> {
        let Some(raw) = raw else {
            return Some(Meta::default());
        };
        let mut parts = raw.split(' ').map(str::parse::<u64>);
        let (level, split, count) = (parts.next()?.ok()?, parts.next()?.ok()?, parts.next()?.ok()?);
        Some(Meta {
            level: u32::try_from(level).ok().filter(|l| *l < 40)?,
            split,
            count,
        })
    }

    pub fn format(&self) -> String {
        format!("{} {} {}", self.level, self.split, self.count)
    }

    fn low(&self) -> u64 {
        1u64 << self.level
    }

    /// Number of buckets.
    pub fn buckets(&self) -> u64 {
        self.low() + self.split
    }

    /// The bucket of `serial`.
    pub fn bucket(&self, serial: &str) -> u64 {
        let h = u64::from(fnv1a32(serial.as_bytes()));
        let b = h % self.low();
        if b < self.split { h % (2 * self.low()) } else { b }
    }

    /// The layout after `added` more packs.
    pub fn grow(&self, added: u64) -> Meta {
        let mut next = Meta {
            count: self.count + added,
            ..*self
        };
        while next.count > TARGET_PER_BUCKET * next.buckets() {
            next.split += 1;
            if next.split == next.low() {
                next.level += 1;
                next.split = 0;
            }
        }
        next
    }
}

/// Redis key of the layout of `gtin`.
pub fn meta_key(gtin: &str) -> String {
    format!("m:{gtin}")
}

/// Redis key of bucket `b` of `gtin`.
pub fn bucket_key(gtin: &str, b: u64) -> String {
    format!("p:{gtin}:{b}")
}

/// `split_to(gtin, before, after)`: splits one GTIN's buckets from layout `before` to layout `after` (both `"L s n"`),
/// moving each entry of a split bucket whose FNV-1a says so, and records `after`. The caller has checked that
/// `m:{gtin}` holds `before`.
pub const LUA_SPLITS: &str = r"
local function fnv(s)
  local h = 2166136261
  for i = 1, #s do
    h = bit.bxor(h, string.byte(s, i))
    if h < 0 then h = h + 4294967296 end
    h = ((h % 256) * 16777216 + h * 403) % 4294967296
  end
  return h
end
local function meta(raw)
  if not raw then return 0, 0 end
  local it = string.gmatch(raw, '%d+')
  return tonumber(it()), tonumber(it())
end
local function split_to(gtin, before, after)
  local level, split = meta(before)
  local to_level, to_split = meta(after)
  while level < to_level or (level == to_level and split < to_split) do
    local low = 2 ^ level
    local src = 'p:' .. gtin .. ':' .. string.format('%d', split)
    local dst = 'p:' .. gtin .. ':' .. string.format('%d', split + low)
    local all = redis.call('HGETALL', src)
    for i = 1, #all, 2 do
      if fnv(all[i]) % (2 * low) ~= split then
        redis.call('HSET', dst, all[i], all[i + 1])
        redis.call('HDEL', src, all[i])
      end
    end
    split = split + 1
    if split == low then
      level = level + 1
      split = 0
    end
  end
  redis.call('SET', 'm:' .. gtin, after)
end
";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_the_reference_values() {
        // From the FNV reference test suite (32-bit FNV-1a).
        assert_eq!(fnv1a32(b""), 0x811c9dc5);
        assert_eq!(fnv1a32(b"a"), 0xe40c292c);
        assert_eq!(fnv1a32(b"foobar"), 0xbf9cf968);
    }

    #[test]
    fn layouts_grow_one_split_at_a_time_and_keep_the_average() {
        let mut meta = Meta::default();
        for added in [1, 47, 1, 100, 10_000, 1_000_000] {
            let next = meta.grow(added);
            assert!(next.count <= TARGET_PER_BUCKET * next.buckets());
            assert!(next.buckets() >= meta.buckets());
            assert!(next.split < 1 << next.level);
            meta = next;
        }
        assert_eq!(Meta::parse(Some(&meta.format())), Some(meta));
        assert_eq!(Meta::parse(None), Some(Meta::default()));
        assert_eq!(Meta::parse(Some("x")), None);
    }

    #[test]
    fn a_split_moves_entries_only_to_the_new_bucket() {
        let before = Meta {
            level: 3,
            split: 2,
            count: 0,
        };
        let after = Meta { split: 3, ..before };
        for i in 0..1000 {
            let serial = format!("S{i}");
            let (b0, b1) = (before.bucket(&serial), after.bucket(&serial));
            assert!(b0 == b1 || (b0 == 2 && b1 == 2 + 8), "{serial}: {b0} -> {b1}");
        }
    }
}
