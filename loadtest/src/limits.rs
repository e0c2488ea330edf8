//! The machine's limits, measured in the same run for comparison: k256 signature verifications per second on one
//! core (custody and the sequencer each verify every event), and Redis GETs per second with redis-benchmark against
//! the stack's own Redis (a scan is one Redis round trip).

use std::time::{Duration, Instant};

use pedigree_core::keys::{EVENT_TAG, KeyPair};

use crate::report::Limits;

/// Verifications per second of one thread, over about `for_how_long`.
pub fn k256_verifies_per_sec(for_how_long: Duration) -> f64 {
    let key = KeyPair::generate();
    let public = key.public();
    let payload = vec![7u8; 120];
    let signature = key.sign(EVENT_TAG, &payload);
    let started = Instant::now();
    let mut done = 0u64;
    while started.elapsed() < for_how_long {
        for _ in 0..16 {
            if public.verify(EVENT_TAG, &payload, &signature).is_ok() {
                done += 1;
            }
        }
    }
    done as f64 / started.elapsed().as_secs_f64()
}

/// The requests per second of a `redis-benchmark -q` line such as "GET: 120481.93 requests per second, p50=...".
pub fn parse_redis_benchmark(output: &str) -> Option<f64> {
    output
        .split(['\r', '\n'])
        .filter_map(|line| line.trim().strip_prefix("GET:"))
        .filter(|rest| rest.contains("requests per second"))
        .filter_map(|rest| rest.split_whitespace().next()?.parse().ok())
        .next_back()
}

/// GETs per second of the Redis `connection` names (redis-benchmark's -h/-p and TLS/user arguments), or why not.
async fn redis_gets_per_sec(connection: &[String]) -> Result<f64, String> {
    let output = tokio::process::Command::new("redis-benchmark")
        .args(connection)
        .args(["-t", "get", "-n", "100000", "-q"])
        .output()
        .await
        .map_err(|e| format!("redis-benchmark not run ({e}): apt-get install redis-tools"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    parse_redis_benchmark(&text).ok_or_else(|| format!("redis-benchmark printed no GET rate: {}", text.trim()))
}

/// Both limits; a limit that cannot be measured is None with a note.
/// `redis` is how redis-benchmark reaches the stack's Redis (see [`crate::target::Target::redis_benchmark`]).
pub async fn measure(redis: Option<&[String]>) -> Limits {
    let k256 = tokio::task::spawn_blocking(|| k256_verifies_per_sec(Duration::from_secs(1)))
        .await
        .ok();
    let mut notes = Vec::new();
    let redis = match redis {
        None => {
            notes.push("Redis GET limit skipped: no Redis port (remote: pass --redis-port)".to_string());
            None
        }
        Some(connection) => match redis_gets_per_sec(connection).await {
            Ok(rate) => Some(rate),
            Err(note) => {
                notes.push(format!("Redis GET limit skipped: {note}"));
                None
            }
        },
    };
    Limits {
        k256_verifies_per_sec_1_core: k256,
        redis_gets_per_sec: redis,
        notes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_redis_benchmark_quiet_output() {
        let out = "GET: rps=0.0 (overall: -nan) avg_msec=-nan (overall: -nan)\r                    \r\
                   GET: 120481.93 requests per second, p50=0.191 msec\n\n";
        assert_eq!(parse_redis_benchmark(out), Some(120481.93));
        assert_eq!(parse_redis_benchmark("nothing"), None);
    }

    #[test]
    fn k256_loop_counts() {
        assert!(k256_verifies_per_sec(Duration::from_millis(20)) > 0.0);
    }
}
