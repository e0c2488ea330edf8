//! The command line: `spawn <scenario>` starts its own stack, `remote <scenario>` targets a running one.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Serialize;

#[derive(Parser, Debug)]
#[command(
    name = "pedigree-loadtest",
    version,
    about = "Load tests Pedigree: ingest, bulk, verify, mixed; and a chaos run"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start a stack (real tansu broker and redis-server, services in-process) and run the scenario against it.
    Spawn(SpawnArgs),
    /// Run the scenario against a running stack, e.g. the one `pedigree up` starts.
    Remote(RemoteArgs),
    /// Start the system as real processes under a supervisor, keep chains of custody and scans running, SIGKILL and
    /// pause components at random, then check that nothing acknowledged was lost and no answer was wrong.
    Chaos(crate::chaos::ChaosArgs),
    /// Time a new sequencer leader's start to its first seal against the length of the chain (10^5, 10^6 blocks).
    Failover(crate::failover::FailoverArgs),
    /// Start the system as real processes with its default limits; legitimate pharmacies scan while slowloris
    /// connections, oversized requests and an abusive address attack the verifier; report their latency and the
    /// verifier's memory.
    Hostile(crate::hostile::HostileArgs),
    /// The attackers of a hostile run, as a process of their own (started by `hostile`; runs until its standard
    /// input closes, then prints what each attack got as JSON).
    #[command(hide = true)]
    HostileAttack(crate::hostile::attacker::AttackArgs),
}

impl Command {
    /// The load options of a scenario (a chaos run has its own).
    pub fn options(&self) -> Option<&Options> {
        match self {
            Command::Spawn(a) => Some(&a.opts),
            Command::Remote(a) => Some(&a.opts),
            Command::Chaos(_) | Command::Failover(_) | Command::Hostile(_) | Command::HostileAttack(_) => None,
        }
    }
}

/// What to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scenario {
    /// Single-pack custody chains (commission, ship, receive, ship, receive, dispense), each in order.
    Ingest,
    /// Commission, ship and receive of many packs per event.
    Bulk,
    /// Pack scans over gRPC and HTTP after seeding a population.
    Verify,
    /// Ingest and scans at the same time.
    Mixed,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Ingest => "ingest",
            Scenario::Bulk => "bulk",
            Scenario::Verify => "verify",
            Scenario::Mixed => "mixed",
        }
    }
}

#[derive(Args, Debug)]
pub struct SpawnArgs {
    pub scenario: Scenario,
    /// The sequencer's largest batch (events per block).
    #[arg(long, default_value_t = 200)]
    pub batch_max_events: usize,
    /// Where the spawned tansu broker keeps its log.
    #[arg(long, value_enum, default_value_t = BrokerLog::Memory)]
    pub broker_log: BrokerLog,
    #[command(flatten)]
    pub opts: Options,
}

/// A spawned broker's storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum BrokerLog {
    /// A SQLite file, indexed by offset (as `pedigree up` runs it): a fetch reads from its offset on.
    Sqlite,
    /// tansu's in-memory object store: every fetch lists every batch the partition holds, so its cost grows with
    /// the topic (tansu-storage 0.6.0, `dynostore.rs`), which no Kafka broker's does.
    Memory,
}

#[derive(Args, Debug)]
pub struct RemoteArgs {
    pub scenario: Scenario,
    /// Custody gRPC endpoint.
    #[arg(long, default_value = "https://127.0.0.1:50051")]
    pub custody: String,
    /// Verifier gRPC endpoint.
    #[arg(long, default_value = "https://127.0.0.1:50052")]
    pub verifier: String,
    /// Verifier HTTP base URL.
    #[arg(long, default_value = "https://127.0.0.1:8080")]
    pub verifier_http: String,
    /// Kafka bootstrap servers (to read the blocks topic).
    #[arg(long)]
    pub brokers: String,
    /// Folder with genesis.json and {id}.pem, as written by `pedigree up`.
    #[arg(long, default_value = ".pedigree")]
    pub keys_dir: PathBuf,
    /// The stack's Redis port (plaintext, on 127.0.0.1), for the redis-benchmark limit (skipped when absent).
    #[arg(long)]
    pub redis_port: Option<u16>,
    /// The blocks topic.
    #[arg(long, default_value = "pedigree.blocks")]
    pub blocks_topic: String,
    /// The CA the servers' certificates chain to.
    #[command(flatten)]
    pub tls: pedigree_runtime::tls::ClientTlsConfig,
    #[command(flatten)]
    pub opts: Options,
}

/// Sizes and knobs shared by every scenario.
#[derive(Args, Debug, Clone, Serialize)]
pub struct Options {
    /// Seconds of each timed phase's window, after its warm-up: every throughput and latency figure is measured over
    /// it (units completed inside it / its length; latencies of the operations started inside it).
    #[arg(long, default_value_t = 30.0)]
    pub duration: f64,
    /// Seconds at the start of each timed phase that are sent but left out of its figures (ramp-up). The drain after
    /// the window is left out too.
    #[arg(long, default_value_t = 5.0)]
    pub warmup: f64,
    /// Events to pre-sign for a flat-out or `--rate` pass (ingest, mixed). Default: enough for `--max-rate` (or
    /// `--rate`) over the warm-up and the window. A pass whose pool runs out ends its window there.
    #[arg(long)]
    pub events: Option<usize>,
    /// The rate the pre-signed pools are sized for when not paced, in the scenario's unit: events/s for ingest and
    /// mixed (default 25,000), packs/s for bulk (default 400,000).
    #[arg(long)]
    pub max_rate: Option<f64>,
    /// Flat out, the most units sent but not yet sealed, in the scenario's unit: events for ingest and mixed (default
    /// 20,000), packs for bulk (default 250,000). Clients wait while the sequencer works through that backlog, so it
    /// stays steady instead of growing for the whole window.
    #[arg(long)]
    pub max_backlog: Option<u64>,
    /// Concurrent client tasks (chains or scans in flight).
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Submit at most this many events per second (default: flat out).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Ingest: skip the second pass at half of the measured end-to-end rate.
    #[arg(long)]
    pub no_half_rate: bool,
    /// Packs: the verify/mixed population (default 10,000), or the bulk pool (default: enough for `--max-rate` over
    /// the warm-up and the window; e.g. to grow a store by exactly that many packs).
    #[arg(long)]
    pub packs: Option<usize>,
    /// Packs per bulk event.
    #[arg(long, default_value_t = 1000)]
    pub pack_size: usize,
    /// Bulk with aggregation: packs per case (each case an SSCC); the cases of a commission go onto one pallet,
    /// shipped and received whole. 0 ships the packs themselves.
    #[arg(long, default_value_t = 0)]
    pub case_size: usize,
    /// Distinct scans planned (verify, mixed at most 20,000); the scanners cycle through them.
    #[arg(long, default_value_t = 100_000)]
    pub scans: usize,
    /// Verify: after the flat-out phases, scan at this steady rate per protocol (0 skips it). Latency counts from
    /// each scan's scheduled time, so a stall is charged in full to every scan it delays (no coordinated omission).
    #[arg(long, default_value_t = 20_000.0)]
    pub scan_rate: f64,
    /// Concurrent scanning tasks in the mixed scenario (half gRPC, half HTTP).
    #[arg(long, default_value_t = 16)]
    pub scan_clients: usize,
    /// gRPC connections the clients share.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Longest the seeding of a scan population (an untimed phase) may run, and how long after its window a paced
    /// scan phase may take to send the scans due in it, in seconds.
    #[arg(long, default_value_t = 120)]
    pub phase_timeout_secs: u64,
    /// Give up waiting for sealing after this many seconds without a new block.
    #[arg(long, default_value_t = 30)]
    pub seal_stall_secs: u64,
    /// Skip measuring the machine's limits (k256 verifications, Redis GETs).
    #[arg(long)]
    pub skip_limits: bool,
    /// Folder for results/<scenario>-<timestamp>/.
    #[arg(long, default_value = "results")]
    pub out: PathBuf,
}

impl Options {
    /// The scan population of verify and mixed.
    pub fn population(&self) -> usize {
        self.packs.unwrap_or(10_000)
    }
}

#[cfg(test)]
mod flag_tests {
    #[test]
    fn the_flags_are_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
