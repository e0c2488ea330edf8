//! Recording one phase: every operation's start, latency and units (events, packs, scans), and errors by kind.
//! Shared by the phase's tasks behind a mutex that is never held across an await.
//!
//! A timed phase's recorder holds its steady-state window (see [`crate::window`]). Its figures are computed over
//! that window when the phase is summarised, from the raw samples, so the window can still be ended early (the
//! pre-signed pool ran out) after the operations were recorded. The per-second timeline covers the whole phase,
//! warm-up and drain included: it shows what the window left out.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::report::{Latency, Second, SeriesReport, WindowReport};
use crate::window::{Timing, Window};

/// Highest latency the histograms hold: an hour, in microseconds.
const MAX_MICROS: u64 = 3_600_000_000;

#[derive(Clone, Copy)]
struct Sample {
    /// Microseconds from the run's origin to the start of the operation.
    start_us: u64,
    latency_us: u32,
    units: u32,
}

impl Sample {
    fn end_us(&self) -> u64 {
        self.start_us + u64::from(self.latency_us)
    }
}

struct Series {
    unit: &'static str,
    samples: Vec<Sample>,
    /// Units over the whole phase.
    units: u64,
    last_end_us: u64,
}

/// A timed phase's window, as asked and as it turned out.
struct Timed {
    window: Window,
    asked: Timing,
    /// Why the window ended before its time, if it did.
    cut: Option<String>,
}

#[derive(Default)]
struct Inner {
    series: BTreeMap<String, Series>,
    errors: BTreeMap<String, u64>,
    timed: Option<Timed>,
}

/// One phase's measurements.
pub struct Recorder {
    /// Start of the run: the timeline's zero.
    origin: Instant,
    /// Start of the phase.
    pub started: Instant,
    inner: Mutex<Inner>,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

fn histogram(significant_digits: u8) -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_MICROS, significant_digits).expect("valid histogram bounds")
}

impl Recorder {
    /// An untimed phase (seeding a population): its figures span from its start to each series' last operation.
    pub fn new(origin: Instant) -> Self {
        Self {
            origin,
            started: Instant::now(),
            inner: Mutex::new(Inner::default()),
        }
    }

    /// A timed phase starting now: its figures come from the window after the warm-up.
    pub fn timed(origin: Instant, timing: Timing) -> Self {
        let recorder = Self::new(origin);
        recorder.lock().timed = Some(Timed {
            window: timing.window(recorder.started),
            asked: timing,
            cut: None,
        });
        recorder
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The steady-state window of a timed phase: nothing is sent after its end.
    pub fn window(&self) -> Option<Window> {
        self.lock().timed.as_ref().map(|t| t.window)
    }

    /// Ends the window at `at`, if that is before its end, because `why`.
    pub fn end_window(&self, at: Instant, why: impl Into<String>) {
        if let Some(timed) = self.lock().timed.as_mut().filter(|t| at < t.window.to) {
            timed.window.end_at(at);
            timed.cut.get_or_insert_with(|| why.into());
        }
    }

    fn since_origin(&self, t: Instant) -> u64 {
        micros(t.saturating_duration_since(self.origin))
    }

    /// An operation of `series` that began at `start`, ended at `end` and did `units` units of work.
    pub fn record(&self, series: &str, unit: &'static str, start: Instant, end: Instant, units: u32) {
        let sample = Sample {
            start_us: self.since_origin(start),
            latency_us: u32::try_from(micros(end.saturating_duration_since(start))).unwrap_or(u32::MAX),
            units,
        };
        let mut inner = self.lock();
        let entry = inner.series.entry(series.to_string()).or_insert_with(|| Series {
            unit,
            samples: Vec::new(),
            units: 0,
            last_end_us: 0,
        });
        entry.samples.push(sample);
        entry.units += u64::from(units);
        entry.last_end_us = entry.last_end_us.max(sample.end_us());
    }

    /// Counts an error under `kind` (e.g. "submit: Unavailable").
    pub fn error(&self, kind: impl Into<String>) {
        *self.lock().errors.entry(kind.into()).or_default() += 1;
    }

    pub fn errors(&self) -> BTreeMap<String, u64> {
        self.lock().errors.clone()
    }

    /// The window as microseconds from the origin, for a timed phase.
    fn span(&self, inner: &Inner) -> Option<(u64, u64)> {
        let w = inner.timed.as_ref()?.window;
        Some((self.since_origin(w.from), self.since_origin(w.to)))
    }

    /// Every series, summarised over the window (or, untimed, over the whole phase).
    pub fn summarize(&self) -> BTreeMap<String, SeriesReport> {
        let inner = self.lock();
        let span = self.span(&inner);
        let started = self.since_origin(self.started);
        inner
            .series
            .iter()
            .map(|(name, s)| (name.clone(), summarize_one(s, span.unwrap_or((started, s.last_end_us)))))
            .collect()
    }

    /// Where the window lies and how long it is.
    pub fn window_report(&self) -> WindowReport {
        let inner = self.lock();
        let secs = |us: u64| us as f64 / 1e6;
        match &inner.timed {
            Some(t) => WindowReport {
                start_s: secs(self.since_origin(t.window.from)),
                secs: t.window.secs(),
                warmup_secs: Some(t.asked.warmup.as_secs_f64()),
                asked_secs: Some(t.asked.duration.as_secs_f64()),
                cut: t.cut.clone(),
            },
            None => {
                let started = self.since_origin(self.started);
                let last = inner.series.values().map(|s| s.last_end_us).max().unwrap_or(started);
                WindowReport {
                    start_s: secs(started),
                    secs: secs(last.saturating_sub(started)),
                    ..WindowReport::default()
                }
            }
        }
    }
}

/// Over `from..to` (microseconds from the origin): latencies of the operations that started in it, units of those
/// that ended in it.
fn summarize_one(s: &Series, (from, to): (u64, u64)) -> SeriesReport {
    let mut hist = histogram(3);
    let mut units = 0u64;
    for sample in &s.samples {
        if (from..to).contains(&sample.start_us) {
            hist.saturating_record(u64::from(sample.latency_us).max(1));
        }
        if (from..=to).contains(&sample.end_us()) {
            units += u64::from(sample.units);
        }
    }
    let secs = to.saturating_sub(from) as f64 / 1e6;
    SeriesReport {
        unit: s.unit.to_string(),
        count: hist.len(),
        units,
        secs,
        per_sec: if secs > 0.0 { units as f64 / secs } else { 0.0 },
        latency: latency(&hist),
        phase_count: s.samples.len() as u64,
        phase_units: s.units,
        timeline: timeline(&s.samples),
    }
}

/// Percentiles of a histogram of microseconds, in milliseconds (zeros when it is empty).
pub fn latency(h: &Histogram<u64>) -> Latency {
    if h.is_empty() {
        return Latency::default();
    }
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
        let second = u32::try_from(s.end_us() / 1_000_000).unwrap_or(u32::MAX);
        let (units, hist) = by_second.entry(second).or_insert_with(|| (0, histogram(2)));
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
        assert_eq!((s.phase_count, s.phase_units), (100, 200));
        assert!((s.latency.p50_ms - 50.0).abs() < 1.0, "{}", s.latency.p50_ms);
        assert!((s.latency.max_ms - 100.0).abs() < 0.2);
        assert_eq!(s.timeline.len(), 3);
        assert_eq!(s.timeline.iter().map(|t| t.units).sum::<u64>(), 200);
        assert_eq!(r.errors()["x: Unavailable"], 1);
        assert!(r.window_report().asked_secs.is_none());
    }

    /// One operation every 10 ms for 10 s, each taking 50 ms: with a 2 s warm-up and a 5 s window, the window
    /// counts what ended in it and the latencies of what started in it, and nothing of the warm-up or the drain.
    #[test]
    fn a_timed_phase_counts_only_its_window() {
        let origin = Instant::now();
        let r = Recorder::timed(origin, Timing::new(2.0, 5.0).unwrap());
        let started = r.started;
        for i in 0..1000u64 {
            let start = started + Duration::from_millis(i * 10);
            // Slow operations in the warm-up and the drain must not show in the window's latency.
            let took = if (100..700).contains(&i) { 50 } else { 900 };
            r.record("x", "events", start, start + Duration::from_millis(took), 1);
        }
        let s = &r.summarize()["x"];
        assert_eq!(s.count, 500, "started in the window");
        assert!((s.secs - 5.0).abs() < 1e-3);
        // Ended in [2 s, 7 s]: the operations started from 1.95 s to 6.95 s.
        assert_eq!(s.units, 501);
        assert!((s.per_sec - 100.0).abs() < 2.0, "{}", s.per_sec);
        assert!(s.latency.max_ms < 51.0, "{}", s.latency.max_ms);
        assert_eq!((s.phase_count, s.phase_units), (1000, 1000));
        let w = r.window_report();
        assert_eq!(
            (w.warmup_secs, w.asked_secs, w.cut.clone()),
            (Some(2.0), Some(5.0), None)
        );

        r.end_window(started + Duration::from_secs(4), "ran dry");
        r.end_window(started + Duration::from_secs(3), "a second reason is not kept");
        let s = &r.summarize()["x"];
        assert!((s.secs - 1.0).abs() < 1e-3);
        assert_eq!(s.count, 100);
        assert_eq!(r.window_report().cut.as_deref(), Some("ran dry"));
    }
}
