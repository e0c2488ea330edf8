//! Where CPU time goes during a phase, from /proc (Linux): the machine's busy share, this process's threads by
//! name (in spawn mode the services run on its tokio workers), and the stack's other processes by name. A timed
//! phase is measured over its window, like its other figures.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::report::CpuReport;

/// Clock ticks per second of /proc times (USER_HZ, 100 on Linux).
const TICKS: f64 = 100.0;
/// Processes of a stack worth naming.
const STACK: [&str; 5] = [
    "tansu",
    "redis-server",
    "pedigree-custod",
    "pedigree-sequen",
    "pedigree-verifi",
];

/// A snapshot of CPU counters.
pub struct Mark {
    at: Instant,
    busy: u64,
    total: u64,
    by_name: BTreeMap<String, u64>,
}

/// (comm, utime + stime) from a /proc stat line.
fn parse_stat(line: &str) -> Option<(String, u64)> {
    let open = line.find('(')?;
    let close = line.rfind(')')?;
    let comm = line.get(open + 1..close)?.to_string();
    let fields: Vec<&str> = line.get(close + 1..)?.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((comm, utime + stime))
}

fn machine() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let values: Vec<u64> = text
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    let total: u64 = values.iter().take(8).sum();
    let idle = values.get(3)? + values.get(4).unwrap_or(&0);
    Some((total - idle, total))
}

fn add_stats(dir: &str, prefix: &str, keep: impl Fn(&str) -> bool, into: &mut BTreeMap<String, u64>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let is_id = entry.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit());
        let line = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
        if let Some((comm, ticks)) = parse_stat(&line).filter(|(c, _)| is_id && keep(c)) {
            *into.entry(format!("{prefix}{comm}")).or_default() += ticks;
        }
    }
}

/// CPU time of process `pid` so far, in clock ticks (user and system).
pub fn process_ticks(pid: u32) -> Option<u64> {
    let line = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parse_stat(&line).map(|(_, ticks)| ticks)
}

/// `ticks` of CPU time spread over `over`, in cores.
pub fn ticks_to_cores(ticks: u64, over: std::time::Duration) -> f64 {
    ticks as f64 / TICKS / over.as_secs_f64().max(1e-9)
}

pub fn mark() -> Mark {
    let (busy, total) = machine().unwrap_or((0, 0));
    let mut by_name = BTreeMap::new();
    add_stats("/proc/self/task", "loadtest:", |_| true, &mut by_name);
    add_stats("/proc", "", |c| STACK.iter().any(|s| c.starts_with(s)), &mut by_name);
    Mark {
        at: Instant::now(),
        busy,
        total,
        by_name,
    }
}

impl Mark {
    /// CPU used since this mark, in cores (1.0 = one core busy the whole time).
    pub fn since(&self) -> CpuReport {
        let now = mark();
        let secs = now.at.duration_since(self.at).as_secs_f64().max(1e-9);
        let total = now.total.saturating_sub(self.total).max(1) as f64;
        let cores: BTreeMap<String, f64> = now
            .by_name
            .iter()
            .map(|(name, t)| {
                let before = self.by_name.get(name).copied().unwrap_or(0);
                (name.clone(), t.saturating_sub(before) as f64 / TICKS / secs)
            })
            .filter(|(_, c)| *c >= 0.01)
            .collect();
        CpuReport {
            machine_busy: now.busy.saturating_sub(self.busy) as f64 / total,
            cores,
        }
    }
}

/// CPU use over a phase: from its start (untimed) or from the end of its warm-up (timed) until [`Meter::read`],
/// called when sending stops, so the drain is left out too.
pub enum Meter {
    Whole(Mark),
    /// Marks when the window opens.
    Window(tokio::task::JoinHandle<Mark>),
}

impl Meter {
    /// From now.
    pub fn whole() -> Self {
        Meter::Whole(mark())
    }

    /// From `from`, the start of a timed phase's window.
    pub fn window(from: Instant) -> Self {
        Meter::Window(tokio::spawn(async move {
            tokio::time::sleep_until(from.into()).await;
            mark()
        }))
    }

    /// CPU used since the mark; nothing when sending stopped before the window opened (it has no CPU figure).
    pub async fn read(self) -> CpuReport {
        match self {
            Meter::Whole(mark) => mark.since(),
            Meter::Window(task) if task.is_finished() => match task.await {
                Ok(mark) => mark.since(),
                Err(_) => CpuReport::default(),
            },
            Meter::Window(task) => {
                task.abort();
                CpuReport::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_stat_line_with_spaces_in_the_name() {
        let line = "42 (tokio-runtime-w) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0";
        assert_eq!(parse_stat(line), Some(("tokio-runtime-w".into(), 300)));
        assert!(mark().total > 0);
    }
}
