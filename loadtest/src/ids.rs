//! Fresh identifiers per run, so reruns against the same stack never collide: a random run id in every serial and
//! lot, and random GTINs. Also a small seeded generator for picking scans.

use anyhow::Context;
use pedigree_core::gs1::gtin_check_digit;

const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Random bytes from the operating system.
fn random_bytes<const N: usize>() -> anyhow::Result<[u8; N]> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(bytes)
}

/// Identifiers of one run.
#[derive(Clone, Debug)]
pub struct RunIds {
    /// Six characters of 0-9A-Z.
    pub run: String,
}

impl RunIds {
    pub fn fresh() -> anyhow::Result<Self> {
        let run = random_bytes::<6>()?
            .iter()
            .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
            .collect();
        Ok(Self { run })
    }

    /// A random GTIN-14 under [`LOAD_PREFIX`]: indicator 0, the prefix, 5 random digits, check digit.
    pub fn gtin(&self) -> anyhow::Result<String> {
        let digits: String = random_bytes::<5>()?.iter().map(|b| char::from(b'0' + b % 10)).collect();
        let first13 = format!("0{LOAD_PREFIX}{digits}");
        let check = gtin_check_digit(&first13).context("13 digits")?;
        Ok(format!("{first13}{check}"))
    }

    /// Serial `i` of a series: run id, one letter naming the series, eight digits (15 characters).
    pub fn serial(&self, series: char, i: usize) -> String {
        format!("{}{series}{i:08}", self.run)
    }

    /// SSCC `i` of this run: extension digit 0, eight digits drawn from the run id, `i` as eight digits, check
    /// digit (so that reruns against the same stack use other containers).
    pub fn sscc(&self, i: usize) -> String {
        let run = self
            .run
            .bytes()
            .fold(0u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
            % 100_000_000;
        let body = format!("0{run:08}{:08}", i % 100_000_000);
        let sum: u32 = body
            .bytes()
            .rev()
            .enumerate()
            .map(|(k, b)| u32::from(b - b'0') * if k % 2 == 0 { 3 } else { 1 })
            .sum();
        format!("{body}{}", (10 - sum % 10) % 10)
    }

    /// Lot `i` of a series.
    pub fn lot(&self, series: char, i: usize) -> String {
        format!("{}{series}{i}", self.run)
    }
}

/// The GS1 company prefix of the load's GTINs (GS1's example prefix, which the demo manufacturer holds).
pub const LOAD_PREFIX: &str = "9506000";

/// Expiry used for every commissioned lot: far enough ahead that no pack is expired when scanned.
pub const EXPIRY: &str = "301231";

/// xorshift64*: fast, seeded, good enough to pick scans.
pub struct Rng(u64);

impl Rng {
    pub fn seeded() -> anyhow::Result<Self> {
        Ok(Self(u64::from_le_bytes(random_bytes::<8>()?) | 1))
    }

    /// The same sequence for the same seed (a chaos run's fault plan).
    pub fn from_seed(seed: u64) -> Self {
        // Spread the seed's bits first: xorshift never leaves 0, and small seeds would start alike.
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform-ish in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pedigree_core::gs1::{Gtin, Serial, Sscc};

    #[test]
    fn ssccs_are_valid_and_distinct() {
        let ids = RunIds::fresh().unwrap();
        let (a, b) = (ids.sscc(0), ids.sscc(1));
        assert_ne!(a, b);
        Sscc::parse(&a).unwrap();
        Sscc::parse(&b).unwrap();
    }

    #[test]
    fn identifiers_are_valid_gs1() {
        let ids = RunIds::fresh().unwrap();
        assert_eq!(ids.run.len(), 6);
        Gtin::parse(&ids.gtin().unwrap()).unwrap();
        let serial = ids.serial('I', 12_345_678);
        assert!(serial.len() <= 20);
        Serial::parse(&serial).unwrap();
    }

    #[test]
    fn rng_stays_in_range() {
        let mut rng = Rng::seeded().unwrap();
        assert!((0..1000).all(|_| rng.below(7) < 7));
    }
}
