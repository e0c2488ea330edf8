//! Where the load goes: a stack this process spawned, or a running one named on the command line.

use pedigree_e2e::Stack;
use pedigree_kafka::ClientSettings;

use crate::cli::{RemoteArgs, SpawnArgs};
use crate::parties::{Parties, Party};

/// Endpoints, signers and (when spawned) the stack itself, kept alive for the run.
pub struct Target {
    pub mode: &'static str,
    pub custody: String,
    pub verifier: String,
    pub verifier_http: String,
    pub kafka: ClientSettings,
    pub blocks_topic: String,
    pub redis_port: Option<u16>,
    pub batch_max_events: Option<usize>,
    pub parties: Parties,
    stack: Option<Stack>,
}

impl Target {
    /// Starts a stack (tansu, redis-server, custody, sequencer, verifier) with the given batch size.
    pub async fn spawn(args: &SpawnArgs) -> anyhow::Result<Self> {
        let stack = Stack::spawn_with(args.batch_max_events).await;
        let parties = Parties::new(stack.fixture.parties.values().map(|p| Party {
            id: p.id.clone(),
            role: p.role,
            key: p.key.clone(),
            chain_id: stack.fixture.chain_id,
        }))?;
        Ok(Self {
            mode: "spawn",
            custody: format!("http://{}", stack.custody_addr),
            verifier: format!("http://{}", stack.verifier_grpc),
            verifier_http: format!("http://{}", stack.verifier_http),
            kafka: stack.kafka(),
            blocks_topic: pedigree_e2e::BLOCKS_TOPIC.to_string(),
            redis_port: Some(stack.redis.port),
            batch_max_events: Some(args.batch_max_events),
            parties,
            stack: Some(stack),
        })
    }

    /// A running stack; keys and genesis come from `--keys-dir`.
    pub fn remote(args: &RemoteArgs) -> anyhow::Result<Self> {
        Ok(Self {
            mode: "remote",
            custody: args.custody.clone(),
            verifier: args.verifier.clone(),
            verifier_http: args.verifier_http.trim_end_matches('/').to_string(),
            kafka: ClientSettings::new(&args.brokers),
            blocks_topic: args.blocks_topic.clone(),
            redis_port: args.redis_port,
            batch_max_events: None,
            parties: Parties::load(&args.keys_dir)?,
            stack: None,
        })
    }

    /// Stops a spawned stack gracefully.
    pub async fn shutdown(self) {
        if let Some(stack) = self.stack {
            stack.shutdown().await;
        }
    }
}
