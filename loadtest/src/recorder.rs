//! Recording one phase: latencies into HDR histograms (and raw samples for the per-second timeline), units done
//! (events, packs, scans) and errors by kind. Shared by the phase's tasks behind a mutex that is never held across
//! an await.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::report::{Latency, Second, SeriesReport};

/// Highest latency the histograms hold: an hour, in microseconds.
const MAX_MICROS: u64 = 3_600_000_000;

#[derive(Clone, Copy)]
struct Sample {
    /// Milliseconds from the run's origin to the end of the operation.
    at_ms: u32,
    latency_us: u32,
    units: u32,
}

struct Series {
    unit: &'static str,
    hist: Histogram<u64>,
    samples: Vec<Sample>,
    units: u64,
    last_end: Instant,
}

#[derive(Default)]
struct Inner {
    series: BTreeMap<String, Series>,
    errors: BTreeMap<String, u64>,
}

/// One phase's measurements.
pub struct Recorder {
    /// Start of the run: the timeline's zero.
    origin: Instant,
    /// Start of the phase: throughput is measured from here.
    pub started: Instant,
    inner: Mutex<Inner>,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl Recorder {
    pub fn new(origin: Instant) -> Self {
        Self {
            origin,
            started: Instant::now(),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An operation of `series` that began at `start`, ended at `end` and did `units` units of work.
    pub fn record(&self, series: &str, unit: &'static str, start: Instant, end: Instant, units: u32) {
        let latency = micros(end.saturating_duration_since(start));
        let sample = Sample {
            at_ms: u32::try_from(end.saturating_duration_since(self.origin).as_millis()).unwrap_or(u32::MAX),
            latency_us: u32::try_from(latency).unwrap_or(u32::MAX),
            units,
        };
        let mut inner = self.lock();
        let entry = inner.series.entry(series.to_string()).or_insert_with(|| Series {
            unit,
            hist: Histogram::new_with_bounds(1, MAX_MICROS, 3).expect("valid histogram bounds"),
            samples: Vec::new(),
            units: 0,
            last_end: end,
        });
        entry.hist.saturating_record(latency.max(1));
        entry.samples.push(sample);
        entry.units += u64::from(units);
        entry.last_end = entry.last_end.max(end);
    }

    /// Counts an error under `kind` (e.g. "submit: Unavailable").
    pub fn error(&self, kind: impl Into<String>) {
        *self.lock().errors.entry(kind.into()).or_default() += 1;
    }

    pub fn errors(&self) -> BTreeMap<String, u64> {
        self.lock().errors.clone()
    }

    /// Operations recorded so far in `series`.
    pub fn count(&self, series: &str) -> u64 {
        self.lock().series.get(series).map_or(0, |s| s.hist.len())
    }

    /// Every series, summarised.
    pub fn summarize(&self) -> BTreeMap<String, SeriesReport> {
        let inner = self.lock();
        inner
            .series
            .iter()
            .map(|(name, s)| (name.clone(), self.summarize_one(s)))
            .collect()
    }

    fn summarize_one(&self, s: &Series) -> SeriesReport {
        let secs = s.last_end.saturating_duration_since(self.started).as_secs_f64();
        SeriesReport {
            unit: s.unit.to_string(),
            count: s.hist.len(),
            units: s.units,
            secs,
            per_sec: if secs > 0.0 { s.units as f64 / secs } else { 0.0 },
            latency: latency(&s.hist),
            timeline: timeline(&s.samples),
        }
    }
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// Percentiles of a histogram of microseconds, in milliseconds.
pub fn latency(h: &Histogram<u64>) -> Latency {
    Latency {
        mean_ms: h.mean() / 1000.0,
        p50_ms: ms(h.value_at_quantile(0.50)),
        p90_ms: ms(h.value_at_quantile(0.90)),
        p99_ms: ms(h.value_at_quantile(0.99)),
        p999_ms: ms(h.value_at_quantile(0.999)),
        max_ms: ms(h.max()),
    }
}

/// Per second of the run: units done and latency percentiles of the operations that ended in that second.
fn timeline(samples: &[Sample]) -> Vec<Second> {
    let mut by_second: BTreeMap<u32, (u64, Histogram<u64>)> = BTreeMap::new();
    for s in samples {
        let (units, hist) = by_second.entry(s.at_ms / 1000).or_insert_with(|| {
            (
                0,
                Histogram::new_with_bounds(1, MAX_MICROS, 2).expect("valid histogram bounds"),
            )
        });
        *units += u64::from(s.units);
        hist.saturating_record(u64::from(s.latency_us).max(1));
    }
    by_second
        .into_iter()
        .map(|(t, (units, hist))| Second {
            t,
            units,
            count: hist.len(),
            p50_ms: ms(hist.value_at_quantile(0.5)),
            p99_ms: ms(hist.value_at_quantile(0.99)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_latency_units_and_timeline() {
        let origin = Instant::now();
        let r = Recorder::new(origin);
        for i in 0..100u64 {
            let start = origin + Duration::from_millis(i * 20);
            r.record("x", "events", start, start + Duration::from_millis(i + 1), 2);
        }
        r.error("x: Unavailable");
        let s = &r.summarize()["x"];
        assert_eq!((s.count, s.units), (100, 200));
        assert!((s.latency.p50_ms - 50.0).abs() < 1.0, "{}", s.latency.p50_ms);
        assert!((s.latency.max_ms - 100.0).abs() < 0.2);
        assert_eq!(s.timeline.len(), 3);
        assert_eq!(s.timeline.iter().map(|t| t.units).sum::<u64>(), 200);
        assert_eq!(r.errors()["x: Unavailable"], 1);
    }
}
