//! The report as a plain-text table for the terminal (also saved as summary.txt).

use std::fmt::Write;

use crate::report::{CpuReport, PhaseReport, Report, WindowReport};

fn opt_rate(v: Option<f64>) -> String {
    v.map_or("n/a".into(), |v| format!("{v:.0}/s"))
}

fn ratio(rate: f64, limit: Option<f64>) -> String {
    limit
        .filter(|l| *l > 0.0)
        .map_or("-".into(), |l| format!("{:.3}x", rate / l))
}

fn header(r: &Report, out: &mut String) {
    let batch = r.batch_max_events.map_or(String::new(), |b| format!(", batch {b}"));
    let _ = writeln!(
        out,
        "pedigree-loadtest {} ({}{batch}), run {}, {}",
        r.scenario, r.mode, r.run_id, r.started_utc
    );
    let _ = writeln!(
        out,
        "pre-signed {} events in {:.2} s ({:.0}/s, not timed)",
        r.presign.events, r.presign.secs, r.presign.per_sec
    );
    let _ = writeln!(
        out,
        "limits: k256 verify on 1 core {}, Redis GET {} (redis-benchmark, 50 connections)",
        opt_rate(r.limits.k256_verifies_per_sec_1_core),
        opt_rate(r.limits.redis_gets_per_sec)
    );
    for note in &r.limits.notes {
        let _ = writeln!(out, "  note: {note}");
    }
}

/// A phase's CPU use: the machine's busy share and the six biggest users, in cores.
pub(crate) fn cpu_line(cpu: &CpuReport) -> String {
    let mut by_use: Vec<_> = cpu.cores.iter().collect();
    by_use.sort_by(|a, b| b.1.total_cmp(a.1));
    let parts: Vec<String> = by_use.iter().take(6).map(|(n, c)| format!("{n} {c:.2}")).collect();
    format!(
        "cpu: machine {:.0}% busy; cores: {}",
        cpu.machine_busy * 100.0,
        parts.join(", ")
    )
}

/// Seconds as given on the command line: "5", "0.5".
fn secs(v: f64) -> String {
    if v.fract() == 0.0 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// Where the phase's figures come from.
fn window_line(w: &WindowReport) -> String {
    match (w.warmup_secs, w.asked_secs) {
        (Some(warmup), Some(asked)) => {
            let cut = w.cut.as_ref().map_or(String::new(), |why| {
                format!(" CUT SHORT (asked {} s): {why}", secs(asked))
            });
            format!(
                "window: {:.1} s from t={:.1} s, after a {} s warm-up; the drain is left out{cut}",
                w.secs,
                w.start_s,
                secs(warmup)
            )
        }
        _ => format!(
            "untimed (seeding): {:.1} s from t={:.1} s, whole phase",
            w.secs, w.start_s
        ),
    }
}

fn phase_rows(r: &Report, p: &PhaseReport, out: &mut String) {
    let (k256, redis) = (r.limits.k256_verifies_per_sec_1_core, r.limits.redis_gets_per_sec);
    for (name, s) in &p.series {
        let l = &s.latency;
        let rate = format!("{:.0} {}/s", s.per_sec, s.unit);
        let _ = writeln!(
            out,
            "{:<10} {:<12} {:>8} {:>18} {:>8.2} {:>8.2} {:>8.2} {:>8.2} {:>8.1} {:>8} {:>8}",
            p.name,
            name,
            s.count,
            rate,
            l.p50_ms,
            l.p90_ms,
            l.p99_ms,
            l.p999_ms,
            l.max_ms,
            ratio(s.per_sec, k256),
            ratio(s.per_sec, redis)
        );
    }
    let _ = writeln!(out, "{:<10} {}", "", window_line(&p.window));
    let errors: Vec<String> = p.errors.iter().map(|(k, v)| format!("{k} x{v}")).collect();
    let rate = p
        .rate_limit
        .map_or(String::new(), |r| format!("paced at {r:.0} events/s; "));
    let mut counts = String::new();
    if p.skipped > 0 {
        let _ = write!(counts, "; {} events not sent (their chains cut by errors)", p.skipped);
    }
    if p.unsent > 0 {
        let _ = write!(counts, "; {} pre-signed events not needed", p.unsent);
    }
    let _ = writeln!(
        out,
        "{:<10} {rate}errors: {}{counts}",
        "",
        if errors.is_empty() {
            "none".into()
        } else {
            errors.join(", ")
        },
    );
    let _ = writeln!(out, "{:<10} {}", "", cpu_line(&p.cpu));
}

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    header(r, &mut out);
    let _ = writeln!(
        out,
        "\nEach figure is over its phase's window: throughput = units completed in it / its length; latency over the\n\
         operations started in it (count). Warm-up and drain are left out; the timelines in report.json show them."
    );
    let _ = writeln!(
        out,
        "\n{:<10} {:<12} {:>8} {:>18} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "phase", "series", "count", "throughput", "p50 ms", "p90 ms", "p99 ms", "p99.9 ms", "max ms", "/k256", "/redis"
    );
    for p in &r.phases {
        phase_rows(r, p, &mut out);
    }
    footer(r, &mut out);
    out
}

fn footer(r: &Report, out: &mut String) {
    let e = &r.exactly_once;
    let _ = writeln!(
        out,
        "\nexactly once: {} acked, {} sealed once, {} lost, {} duplicated, {} rejected {:?} -> {}",
        e.acked,
        e.sealed_once,
        e.lost,
        e.duplicated,
        e.rejected,
        e.rejected_by_code,
        if e.ok { "OK" } else { "FAILED" }
    );
    for example in &e.examples {
        let _ = writeln!(out, "  {example}");
    }
    let w = &r.watcher;
    let _ = writeln!(
        out,
        "blocks read: {}, {:.1} events per block (max {}), {} ms between blocks (median); \
         header time to consumption p50 {} ms, max {} ms",
        w.blocks,
        w.events_per_block_mean,
        w.events_per_block_max,
        w.block_interval_p50_ms,
        w.consume_lag_p50_ms,
        w.consume_lag_max_ms
    );
    let _ = writeln!(out, "\ntargets:");
    for t in &r.targets {
        let verdict = match t.met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "-",
        };
        let window = t.window_secs.map_or(String::new(), |w| format!("over {w:.1} s"));
        let ratio = t.ratio.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "  {:<58} {:<16} {:<22} {verdict:<6} {window:<10} {ratio}",
            t.what, t.target, t.measured
        );
    }
    for note in &r.notes {
        let _ = writeln!(out, "note: {note}");
    }
}
