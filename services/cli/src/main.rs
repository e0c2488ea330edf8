//! `pedigree`: the command line of Pedigree.

#![forbid(unsafe_code)]

mod alerts;
mod audit;
mod bearer;
mod connect;
mod console;
mod demo;
mod gateway;
mod governance;
mod product;
mod submit;
mod suspect;
mod trace;
mod up;
mod verify;
mod webhook;

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use pedigree_core::keys::KeyPair;

#[derive(Parser)]
#[command(
    name = "pedigree",
    version,
    about = "Drug supply-chain traceability: sign custody events, verify packs"
)]
struct Cli {
    /// PEM CA bundle the servers' certificates must chain to (default: {PEDIGREE_DIR}/tls/ca.pem if it exists, else
    /// the system's roots).
    #[arg(long, env = "PEDIGREE_CA", global = true)]
    ca: Option<PathBuf>,
    /// Allow http:// endpoints (no TLS).
    #[arg(long = "insecure-plaintext", env = "PEDIGREE_INSECURE_PLAINTEXT", global = true)]
    insecure_plaintext: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generate a k256 key pair: writes the private key (PKCS#8 PEM) and prints the public key and key id.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Sign and submit a commission (manufacturer).
    Commission(submit::CommissionArgs),
    /// Sign and submit a shipment of packs and/or whole containers (manufacturer or distributor).
    Ship(submit::ShipArgs),
    /// Sign and submit a receipt of packs and/or whole containers.
    Receive(submit::ReceiveArgs),
    /// Cancel a shipment or return of yours that is not received yet (--to: the receiver it named).
    VoidShipment(submit::ShipArgs),
    /// Put packs and containers you hold into a container (a case or pallet; created if new).
    Pack(submit::PackArgs),
    /// Take packs and containers out of a container you hold (naming none takes everything out).
    Unpack(submit::PackArgs),
    /// Sign and submit a dispense (pharmacy).
    Dispense(submit::DispenseArgs),
    /// Sign and submit a decommission (any holder): destroyed, stolen, sample, free-sample, exported, locked.
    Decommission(submit::DecommissionArgs),
    /// Revert your own dispense or decommission (within 10 days).
    Undo(submit::PacksArgs),
    /// Recall a lot (the product's manufacturer; irreversible).
    Recall(submit::RecallArgs),
    /// Withdraw a product from the market (the product's manufacturer; irreversible).
    Withdraw(submit::WithdrawArgs),
    /// Return saleable packs to the party they came from (pharmacy or distributor).
    Return(submit::ShipArgs),
    /// Quarantine packs you hold as suspect product: they move no more until cleared.
    Quarantine(suspect::SuspectArgs),
    /// Close an investigation: the quarantined packs are fine (the product's owner or an authority).
    ClearSuspect(suspect::SuspectArgs),
    /// Close an investigation: the packs are illegitimate, for good (the product's owner or an authority).
    DeclareIllegitimate(suspect::SuspectArgs),
    /// Register a product's master data, or change it (the owner of the GS1 company prefix it is under).
    RegisterProduct(product::RegisterProductArgs),
    /// Print your consent to taking a product over from its owner (the new owner; nothing is submitted).
    ProductConsent(product::ConsentArgs),
    /// Hand a product to a new owner, with its consent (the product's owner).
    TransferProduct(product::TransferProductArgs),
    /// Attest GS1 company prefixes to a manufacturer or repackager (signed with the governance key).
    AttestPrefixes(governance::AttestPrefixesArgs),
    /// Register a participant on the ledger (signed with the governance key).
    Register(governance::RegisterArgs),
    /// Replace a participant's key (governance); events signed with the old key are refused once sealed.
    RotateKey(governance::RotateKeyArgs),
    /// Governance: replace the sequencer key (the block sealing this is signed by the old key, later ones by the new).
    RotateSequencerKey(governance::RotateSequencerKeyArgs),
    /// Revoke a participant for good (governance).
    Revoke(governance::RevokeArgs),
    /// Relay your notifications to an HTTPS endpoint, HMAC-signed, at least once, resuming after the last delivered.
    Webhook(webhook::WebhookArgs),
    /// Show an event's outcome (pending, committed at height h, rejected with a reason).
    Status(submit::StatusArgs),
    /// Verify a scanned code: GS1 element string, bracketed form or Digital Link.
    Verify(verify::VerifyArgs),
    /// Alerts raised by scans: list, show, and (the product's owner) close with a root cause.
    Alerts(alerts::AlertsArgs),
    /// Where the packs of a lot are now, by holder and status (a recall's tracing).
    TraceLot(trace::TraceLotArgs),
    /// Where one pack has been: its events in chain order, with their proofs if asked.
    History(trace::HistoryArgs),
    /// EPCIS 2.0 capture for an ERP: POST /epcis/capture, signed as this participant (holds its key).
    Gateway(gateway::GatewayArgs),
    /// The pharmacy console: the scan page with a pharmacy's actions (dispense, undo, decommission, receive), run
    /// locally with that pharmacy's key.
    Console(console::ConsoleArgs),
    /// Check the whole chain from genesis: signatures, links, roots, every state transition.
    Audit(audit::AuditArgs),
    /// Start broker, Redis and the three services locally, run the demo, keep running until Ctrl-C.
    Up(up::UpArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    connect::init(cli.ca.clone(), cli.insecure_plaintext);
    match cli.command {
        Command::Keygen { out } => keygen(&out),
        Command::Commission(a) => submit::commission(a).await,
        Command::Ship(a) => submit::ship(a).await,
        Command::Receive(a) => submit::receive(a).await,
        Command::VoidShipment(a) => submit::void_shipment(a).await,
        Command::Pack(a) => submit::pack(a).await,
        Command::Unpack(a) => submit::unpack(a).await,
        Command::Dispense(a) => submit::dispense(a).await,
        Command::Decommission(a) => submit::decommission(a).await,
        Command::Undo(a) => submit::undo(a).await,
        Command::Recall(a) => submit::recall(a).await,
        Command::Withdraw(a) => submit::withdraw(a).await,
        Command::Return(a) => submit::return_packs(a).await,
        Command::Quarantine(a) => suspect::quarantine(a).await,
        Command::ClearSuspect(a) => suspect::clear(a).await,
        Command::DeclareIllegitimate(a) => suspect::illegitimate(a).await,
        Command::RegisterProduct(a) => product::register_product(a).await,
        Command::ProductConsent(a) => product::consent(a),
        Command::TransferProduct(a) => product::transfer_product(a).await,
        Command::AttestPrefixes(a) => governance::attest_prefixes(a).await,
        Command::Register(a) => governance::register(a).await,
        Command::RotateKey(a) => governance::rotate_key(a).await,
        Command::RotateSequencerKey(a) => governance::rotate_sequencer_key(a).await,
        Command::Revoke(a) => governance::revoke(a).await,
        Command::Status(a) => submit::status(a).await,
        Command::Webhook(a) => webhook::run(a).await,
        Command::Verify(a) => verify::run(a).await,
        Command::Alerts(a) => alerts::run(a).await,
        Command::TraceLot(a) => trace::run(a).await,
        Command::History(a) => trace::history(a).await,
        Command::Gateway(a) => gateway::run(a).await,
        Command::Console(a) => console::run(a).await,
        Command::Audit(a) => audit::run(a).await,
        Command::Up(a) => up::run(a).await,
    }
}

fn keygen(out: &std::path::Path) -> anyhow::Result<()> {
    let key = KeyPair::generate();
    std::fs::write(out, key.to_pem()).with_context(|| format!("writing {}", out.display()))?;
    println!("public_key {}", key.public().to_hex());
    println!("key_id     {}", key.key_id());
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_flags_are_consistent() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
