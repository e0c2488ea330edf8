//! One run end to end: target, limits, scenario, exactly-once check, targets, and the files under
//! `<out>/<scenario>-<timestamp>/` (report.json, plot.png, summary.txt).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use crate::cli::{Cli, Command, Options, Scenario};
use crate::ids::RunIds;
use crate::report::{Endpoints, Limits, Report};
use crate::scenario::{self, Ctx};
use crate::target::Target;
use crate::window::Timing;
use crate::{exactly_once, limits, plot, table, targets};

/// A finished run: its report and where its files are.
pub struct Outcome {
    pub report: Report,
    pub dir: PathBuf,
    pub summary: String,
}

/// UTC now as 20261124T195329Z.
pub fn timestamp() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Runs the scenario the command line names and writes its results.
pub async fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let Some(options) = cli.command.options() else {
        anyhow::bail!("chaos, failover and hostile runs are started with their own run functions");
    };
    // Checked before a stack is started for nothing.
    let timing = Timing::new(options.warmup, options.duration)?;
    let (scenario, target, opts) = match cli.command {
        Command::Spawn(a) => (a.scenario, Target::spawn(&a).await?, a.opts),
        Command::Remote(a) => (a.scenario, Target::remote(&a)?, a.opts),
        Command::Chaos(_) | Command::Failover(_) | Command::Hostile(_) | Command::HostileAttack(_) => {
            anyhow::bail!("chaos, failover and hostile runs are started with their own run functions")
        }
    };
    let result = execute(scenario, &target, &opts, timing).await;
    target.shutdown().await;
    let report = result?;
    let dir = opts.out.join(format!("{}-{}", report.scenario, report.started_utc));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    report.write_json(&dir.join("report.json"))?;
    plot::draw(&report, &dir.join("plot.png"))?;
    let summary = table::render(&report);
    std::fs::write(dir.join("summary.txt"), &summary).with_context(|| format!("writing into {}", dir.display()))?;
    Ok(Outcome { report, dir, summary })
}

async fn execute(scenario: Scenario, target: &Target, opts: &Options, timing: Timing) -> anyhow::Result<Report> {
    let started_utc = timestamp();
    let mut notes = machine_notes(target);
    let limits = if opts.skip_limits {
        Limits {
            notes: vec!["limits not measured (--skip-limits)".into()],
            ..Limits::default()
        }
    } else {
        limits::measure(target.redis_benchmark.as_deref()).await
    };
    let ctx = Ctx::new(target, opts, timing, RunIds::fresh()?).await?;
    let outcome = match scenario {
        Scenario::Ingest => scenario::ingest::run(&ctx).await?,
        Scenario::Bulk => scenario::bulk::run(&ctx).await?,
        Scenario::Verify => scenario::verify::run(&ctx).await?,
        Scenario::Mixed => scenario::mixed::run(&ctx).await?,
    };
    // Let a late duplicate of the last events show up before the count.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let run_id = ctx.ids.run.clone();
    notes.push(format!(
        "opening a Kafka consumer on the blocks topic (metadata, watermarks, assign) took {:.0} ms here",
        ctx.watcher_setup.as_secs_f64() * 1000.0
    ));
    let (seen, watcher) = ctx.watcher.stop();
    let exactly_once = exactly_once::check(&outcome.acked, &seen);
    notes.extend(outcome.notes);
    let targets = targets::evaluate(scenario, &outcome.phases, &limits);
    Ok(Report {
        scenario: scenario.name().into(),
        started_utc,
        mode: target.mode.into(),
        endpoints: Endpoints {
            custody: target.custody.clone(),
            verifier: target.verifier.clone(),
            verifier_http: target.verifier_http.clone(),
            brokers: target.kafka.brokers.clone(),
        },
        batch_max_events: target.batch_max_events,
        options: opts.clone(),
        run_id,
        presign: outcome.presign,
        limits,
        targets,
        phases: outcome.phases,
        exactly_once,
        watcher,
        notes,
    })
}

/// What else was going on: the load average before the run (the machine may be shared) and, when spawned, that
/// the services share this process (and its cores) with the load generator.
fn machine_notes(target: &Target) -> Vec<String> {
    let mut notes = Vec::new();
    if let Ok(load) = std::fs::read_to_string("/proc/loadavg") {
        let first: Vec<&str> = load.split_whitespace().take(3).collect();
        notes.push(format!(
            "load average before the run {} on {} cores",
            first.join(" "),
            std::thread::available_parallelism().map_or(0, |n| n.get())
        ));
    }
    if target.mode == "spawn" {
        notes.push("spawn: custody, sequencer and verifier run in this process, next to the clients".into());
    }
    notes
}
