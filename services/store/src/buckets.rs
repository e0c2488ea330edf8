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
//! The sequencer computes the layout after a block (`Meta::grow`), reads the buckets that split on the way
//! ([`Meta::split_sources`]), works out which entries move where (each to its bucket under the new layout), and the
//! write script deletes and re-inserts them, then writes the block's packs at their final buckets, atomically with
//! the rest of the block (the script checks that the layout is still the one the moves were computed from). Hashing
//! in Rust rather than in Lua keeps the script to a few commands per split bucket: rehashing each serial in Lua cost
//! Redis about a fifth of its time while a GTIN grew.

/// Average entries per bucket the layout grows to keep: below Redis' default `hash-max-listpack-entries` (128) even
/// for the buckets of a round not split yet, which hold about twice the average of the split ones.
pub const TARGET_PER_BUCKET: u64 = 48;

/// FNV-1a, 32 bits: small, fast on short serials, and specified well enough for another implementation to match.
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
        self.bucket_of(serial.as_bytes())
    }

    /// The bucket of a serial read back from Redis as bytes.
    pub fn bucket_of(&self, serial: &[u8]) -> u64 {
        let h = u64::from(fnv1a32(serial));
        let b = h % self.low();
        if b < self.split { h % (2 * self.low()) } else { b }
    }

    /// The buckets of this layout that split on the way to `after` (each once, in order). Buckets made by those
    /// splits hold only entries moved from these, so these are all a grower needs to read.
    pub fn split_sources(&self, after: &Meta) -> Vec<u64> {
        let existing = self.buckets();
        let (mut level, mut split) = (self.level, self.split);
        let mut sources = std::collections::BTreeSet::new();
        while (level, split) < (after.level, after.split) {
            if split < existing {
                sources.insert(split);
            }
            split += 1;
            if split == 1 << level {
                level += 1;
                split = 0;
            }
        }
        sources.into_iter().collect()
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
    fn split_sources_are_the_only_buckets_whose_entries_move() {
        let steps = [(0, 1), (1, 47), (48, 2), (50, 3000), (3050, 9000), (12_050, 100_000)];
        for (count, added) in steps {
            let before = Meta::default().grow(count);
            let after = before.grow(added);
            let sources = before.split_sources(&after);
            for i in 0..20_000 {
                let serial = format!("SN{i:08}");
                let (b0, b1) = (before.bucket(&serial), after.bucket(&serial));
                assert!(
                    b0 == b1 || sources.contains(&b0),
                    "{serial}: {b0} -> {b1} not from a split bucket"
                );
            }
            assert!(sources.iter().all(|&b| b < before.buckets()));
        }
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
