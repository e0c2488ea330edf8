//! Where the load goes: a stack this process spawned, or a running one named on the command line.

use pedigree_e2e::Stack;
use pedigree_kafka::ClientSettings;

use pedigree_runtime::tls::ClientTls;

use crate::cli::{BrokerLog, RemoteArgs, SpawnArgs};
use crate::parties::{Parties, Party};

/// Endpoints, signers and (when spawned) the stack itself, kept alive for the run.
pub struct Target {
    pub mode: &'static str,
    pub custody: String,
    pub verifier: String,
    pub verifier_http: String,
    pub kafka: ClientSettings,
    pub blocks_topic: String,
    /// redis-benchmark's arguments to reach the stack's Redis (host, port; TLS and a user for a spawned stack).
    pub redis_benchmark: Option<Vec<String>>,
    pub batch_max_events: Option<usize>,
    pub parties: Parties,
    /// What the load tester's clients trust (the stack's CA, or `--ca`).
    pub client_tls: ClientTls,
    /// The chain a sign-in is bound to (the genesis hash).
    pub chain_id: pedigree_core::Hash,
    /// The governance key, when the load tester holds it (a spawned stack's; `{keys-dir}/governance.pem`): it
    /// attests the load's GS1 company prefix to the manufacturers.
    pub governance: Option<pedigree_core::keys::KeyPair>,
    stack: Option<Stack>,
}

impl Target {
    /// Starts a stack (tansu, redis-server, custody, sequencer, verifier) with the given batch size.
    pub async fn spawn(args: &SpawnArgs) -> anyhow::Result<Self> {
        let stack = Stack::spawn_unthrottled_on(args.batch_max_events, args.broker_log == BrokerLog::Sqlite).await;
        let parties = Parties::new(stack.fixture.parties.values().map(|p| Party {
            id: p.id.clone(),
            role: p.role,
            key: p.key.clone(),
            chain_id: stack.fixture.chain_id,
        }))?;
        Ok(Self {
            mode: "spawn",
            custody: format!("https://{}", stack.custody_addr),
            verifier: format!("https://{}", stack.verifier_grpc),
            verifier_http: format!("https://{}", stack.verifier_http),
            client_tls: stack.client_tls().clone(),
            chain_id: stack.fixture.chain_id,
            kafka: stack.kafka(),
            blocks_topic: pedigree_e2e::BLOCKS_TOPIC.to_string(),
            redis_benchmark: Some(redis_benchmark_tls(&stack)),
            batch_max_events: Some(args.batch_max_events),
            parties,
            governance: Some(stack.fixture.governance.clone()),
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
            redis_benchmark: args
                .redis_port
                .map(|port| ["-h", "127.0.0.1", "-p", &port.to_string()].map(String::from).to_vec()),
            batch_max_events: None,
            parties: Parties::load(&args.keys_dir)?,
            client_tls: ClientTls::load(&args.tls)?,
            chain_id: Parties::chain_id(&args.keys_dir)?,
            governance: match std::fs::read_to_string(args.keys_dir.join("governance.pem")) {
                Ok(pem) => Some(pedigree_core::keys::KeyPair::from_pem(&pem)?),
                Err(_) => None,
            },
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

/// redis-benchmark's arguments for a spawned stack's Redis: TLS (checked against the stack's CA), as its admin user
/// (the password shows in the process list: a throwaway dev stack only).
fn redis_benchmark_tls(stack: &Stack) -> Vec<String> {
    let admin = stack.redis.admin_config();
    let mut args: Vec<String> = ["-h", "127.0.0.1", "-p", &stack.redis.port.to_string(), "--tls"]
        .map(String::from)
        .to_vec();
    if let Some(ca) = &admin.ca {
        args.extend(["--cacert".to_string(), ca.display().to_string()]);
    }
    if let (Some(user), Some(password)) = (admin.user, admin.password) {
        args.extend(["--user".to_string(), user, "-a".to_string(), password]);
    }
    args
}
